/**
 * `maillog`: the configured mail.log is a regular file this user can read, and Postfix wrote to it
 * recently by the run's clock. A stale file means the scrub learns nothing: bounces, blocks and
 * unsigned mail go unnoticed while the build keeps pushing.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { unreadableLog } from '../maillog/files.ts';
import { fail, pass, type CheckOutcome } from './check.ts';
import type { DoctorContext } from './context.ts';
import type { CheckSpec } from './run-checks.ts';

/** A file dated this far past the clock is not stale, but the two clocks disagree. */
const FUTURE_SLACK_MS = 5 * 60_000;

export function maillogCheck(ctx: DoctorContext): CheckSpec {
  const file = ctx.config.maillog.path;
  const maxAgeMs = ctx.config.doctor.maillogMaxAgeHours * 3_600_000;
  return {
    name: 'maillog',
    timeoutFix: `reading ${file} took too long: is it on a network mount that hangs? Point AUDIENCE_MAILLOG at a local copy.`,
    async run(): Promise<CheckOutcome> {
      let st;
      try {
        st = await stat(file);
        if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        await access(file, constants.R_OK);
      } catch (e) {
        return fail(unreadableLog(file, e).message, 'set AUDIENCE_MAILLOG (maillog.path) to the file Postfix logs to (Debian: /var/log/mail.log), readable by the user audience runs as (group adm).', { path: file });
      }
      if (!st.isFile()) return fail(`${file} is not a regular file (a pipe, socket or device).`, 'point AUDIENCE_MAILLOG at the log file itself, not at a pipe or device.', { path: file });
      const ageMs = ctx.now.getTime() - st.mtime.getTime();
      const data = { path: file, size: st.size, modifiedAt: st.mtime.toISOString(), ageMinutes: Math.round(ageMs / 60_000) };
      if (ageMs > maxAgeMs)
        return fail(
          `${file} was last written ${ago(ageMs)} (${st.mtime.toISOString()}), more than ${ctx.config.doctor.maillogMaxAgeHours} h ago: the scrub is not seeing today's mail.`,
          'check that Postfix logs there (`postconf maillog_file`; rsyslog or syslog-ng running; on a journal-only system, run `postconf maillog_file=/var/log/mail.log` and `postfix reload`), or point AUDIENCE_MAILLOG at the file it writes now.',
          data,
        );
      if (ageMs < -FUTURE_SLACK_MS)
        return pass(`${file} is readable; it was written at ${st.mtime.toISOString()}, ${span(-ageMs)} after the run's clock.`, {
          data,
          fix: "the file's time is ahead of this run's clock: check the server's clock (timedatectl), or unset AUDIENCE_NOW.",
        });
      return pass(`${file} is readable, ${st.size} bytes, last written ${ago(Math.max(0, ageMs))}.`, { data });
    },
  };
}

function span(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 1) return 'less than a minute';
  if (m < 120) return `${m} min`;
  const h = ms / 3_600_000;
  return h < 48 ? `${Math.round(h)} h` : `${Math.round(h / 24)} days`;
}

const ago = (ms: number) => `${span(ms)} ago`;
