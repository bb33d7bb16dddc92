/**
 * `warmup`: the warmup start stamp can be read (a date, a time, or the file of epoch seconds the
 * Postfix setup keeps) and gives a warmup day today; the entry shows that day and its caps, which
 * `sliding-window` compares with Listmonk.
 */
import { AudienceError, SafetyGateError } from '../errors.ts';
import { capForDay, warmupDay, type DayCap } from '../warmup/ramp.ts';
import { resolveWarmupStart } from '../warmup/start.ts';
import { fail, pass, type CheckOutcome } from './check.ts';
import type { DoctorContext } from './context.ts';
import type { CheckSpec } from './run-checks.ts';

export function warmupCheck(ctx: DoctorContext): CheckSpec {
  return {
    name: 'warmup',
    timeoutFix: 'reading the warmup start took too long: if AUDIENCE_WARMUP_START names a file on a network mount, copy it to local disk.',
    async run(): Promise<CheckOutcome> {
      const { warmup, timezone } = ctx.config;
      let start;
      try {
        start = resolveWarmupStart(warmup.start, timezone);
      } catch (e) {
        if (!(e instanceof AudienceError)) throw e;
        return fail(
          e.message,
          e instanceof SafetyGateError
            ? 'set AUDIENCE_WARMUP_START (or warmup.start) to the warmup start: YYYY-MM-DD, an RFC 3339 time, or the file of epoch seconds, e.g. /etc/postfix/pw-warmup-start.'
            : 'correct AUDIENCE_WARMUP_START or the file it names (epoch seconds, e.g. `date +%s > /etc/postfix/pw-warmup-start` at the warmup start); the file must be readable by the user audience runs as.',
          { start: warmup.start ?? null },
        );
      }
      const day = warmupDay(start, ctx.today);
      if (day < 0)
        return fail(
          `the warmup starts on ${start.day} (${start.source}), after today ${ctx.today}: nothing may be pushed before it.`,
          'if warmup has begun, correct the stamp; otherwise this is expected until that day.',
          { start: start.day, source: start.source, day },
        );
      const cap: DayCap = { date: ctx.today, warmupDay: day, ...capForDay(warmup, day) };
      return pass(`warmup started ${start.day} (${start.source}): today ${ctx.today} is warmup day ${day}, cap ${cap.daily} a day and ${cap.hourly} an hour.`, {
        data: { start: start.day, source: start.source, day, dailyCap: cap.daily, hourlyCap: cap.hourly },
        value: cap,
      });
    },
  };
}
