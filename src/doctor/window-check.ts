/**
 * `sliding-window`: Listmonk's sliding window (Settings → Performance) against today's hourly cap
 * of the warmup ramp. The build enforces the daily total; only Listmonk's window keeps a scheduled
 * campaign from sending its whole list in minutes. Off or above the cap fails; below it passes
 * with advice (campaigns take longer than the ramp allows).
 */
import { ListmonkPermissionError, slidingWindowPerHour } from '../listmonk/index.ts';
import type { DayCap } from '../warmup/ramp.ts';
import { fail, pass, type CheckOutcome } from './check.ts';
import type { DoctorContext } from './context.ts';
import type { ListmonkFacts } from './listmonk-checks.ts';
import { need, type CheckSpec } from './run-checks.ts';

const APPLY = '`audience rampcap --apply` sets the window to today\'s hourly rate (the morning timer of deploy/ runs it), or set it in Listmonk: Settings → Performance → Sliding window';

export function windowCheck(_ctx: DoctorContext): CheckSpec {
  return {
    name: 'sliding-window',
    needs: ['listmonk', 'warmup'],
    timeoutFix: 'Listmonk did not answer GET /api/settings in time: check its load, then run doctor again.',
    async run(deps): Promise<CheckOutcome> {
      const { client, server } = need<ListmonkFacts>(deps, 'listmonk');
      const cap = need<DayCap>(deps, 'warmup');
      let s;
      try {
        s = await client.readSettings();
      } catch (e) {
        if (e instanceof ListmonkPermissionError)
          return fail(`Listmonk's settings cannot be read: ${e.message}`, "grant settings:get to the API user's role (Admin → Users → User roles): build and rampcap read the sliding window.");
        throw e;
      }
      const perHour = slidingWindowPerHour(s);
      const data = { enabled: s.slidingWindow, duration: s.slidingWindowDuration, rate: s.slidingWindowRate, perHour, hourlyCap: cap.hourly, warmupDay: cap.warmupDay, restartPending: server.needsRestart };
      const today = `today's cap of ${cap.hourly}/h (warmup day ${cap.warmupDay})`;
      // Settings saved while a campaign ran wait for a restart: what GET /api/settings shows is not what sends.
      if (server.needsRestart)
        return fail(
          `Listmonk holds settings it saved but has not applied (it was sending when they were written): the window it reports (${s.slidingWindow ? `${s.slidingWindowRate} per ${s.slidingWindowDuration}` : 'off'}) is not necessarily the one in force.`,
          'restart Listmonk once no campaign is running (Settings → Restart, or POST /api/admin/reload), then run doctor again.',
          data,
        );
      if (!s.slidingWindow)
        return fail(`Listmonk's sliding window is off: a scheduled campaign sends as fast as ${s.concurrency}×${s.messageRate}/s, far above ${today}.`, `turn it on at ${cap.hourly} per 1h: ${APPLY}.`, data);
      if (perHour === null)
        return fail(`Listmonk's sliding window (${s.slidingWindowRate} per ${s.slidingWindowDuration}) cannot be read as a rate.`, `set it to ${cap.hourly} per 1h: ${APPLY}.`, data);
      if (perHour > cap.hourly)
        return fail(`Listmonk's sliding window allows ${s.slidingWindowRate} per ${s.slidingWindowDuration} (${perHour}/h), above ${today}.`, `lower it to ${cap.hourly} per 1h: ${APPLY}.`, data);
      if (perHour < cap.hourly)
        return pass(`Listmonk's sliding window allows ${perHour}/h, below ${today}: campaigns take longer than the ramp allows.`, { data, fix: `raise it to ${cap.hourly} per 1h: ${APPLY}.` });
      return pass(`Listmonk's sliding window allows ${s.slidingWindowRate} per ${s.slidingWindowDuration} (${perHour}/h), equal to ${today}.`, { data });
    },
  };
}
