/**
 * `rampcap`: Listmonk's sliding window against today's hourly cap (the warmup ramp and stamp), and
 * with `apply` the window set to it: on, 1 h long, the hourly cap as its rate, nothing else changed
 * (writeSlidingWindow writes the whole document back, blanking masked secrets). A write restarts
 * Listmonk, so it is refused where it would damage the settings (settings-safety.ts), while a
 * build holds its lock (its pushes and import would be cut), and while Listmonk runs an import.
 */
import type { StageContext } from '../context.ts';
import { FindingsError, SafetyGateError } from '../errors.ts';
import { describeWindow, sameWindow, settingsWriteRisks, slidingWindowOf, windowPerHour, type ListmonkClient, type SlidingWindow } from '../listmonk/index.ts';
import type { DayCap } from '../warmup/ramp.ts';
import type { RampcapSummary } from './summary.ts';

/** The window today's ramp asks for. One hour, so Listmonk's rate reads as the cap per hour. */
export function wantedWindow(cap: DayCap): SlidingWindow {
  return { enabled: true, duration: '1h', rate: cap.hourly };
}

export async function runRampcap(ctx: StageContext, lm: ListmonkClient, o: { apply: boolean; cap: DayCap }): Promise<RampcapSummary> {
  const version = await lm.version();
  const doc = await lm.readSettingsDocument();
  const current = slidingWindowOf(doc);
  const wanted = wantedWindow(o.cap);
  const s: RampcapSummary = {
    command: 'rampcap',
    date: o.cap.date,
    warmupDay: o.cap.warmupDay,
    hourlyCap: o.cap.hourly,
    dailyCap: o.cap.daily,
    dryRun: !o.apply,
    listmonk: {
      version: version.raw,
      slidingWindow: { ...current, perHour: windowPerHour(current) },
      restartPending: await lm.readRestartPending(),
    },
    wanted,
    inSync: sameWindow(current, wanted),
    applied: null,
    writeRisks: settingsWriteRisks(doc, version),
  };
  if (!o.apply) return s;
  if (s.inSync) {
    s.applied = { changed: false, before: current, after: current, needsRestart: s.listmonk.restartPending };
    if (s.listmonk.restartPending) throw notInEffect(s, 'holds');
    return s;
  }
  if (s.writeRisks.length)
    throw new SafetyGateError('listmonk-settings', `Listmonk's sliding window was not changed: writing its settings back would damage them.\n  ${s.writeRisks.join('\n  ')}`, { summary: s });

  const locked = await ctx.store.withLock(
    'stage:build',
    async () => {
      const imp = await lm.readImportStatus();
      if (imp.status === 'importing' || imp.status === 'stopping')
        throw new SafetyGateError(
          'listmonk-busy',
          `Listmonk is running an import (${imp.name || 'unnamed'}, ${imp.imported}/${imp.total}): a settings write restarts Listmonk and would cut it short. Run \`audience rampcap --apply\` again once it has finished.`,
          { summary: s },
        );
      return lm.writeSlidingWindow(wanted);
    },
    { wait: false },
  );
  if (!locked.acquired)
    throw new SafetyGateError(
      'lock',
      'a build is running: a settings write restarts Listmonk, which would drop its requests and cut its import short. Run `audience rampcap --apply` again when the build has finished.',
      { summary: s },
    );
  const w = locked.value;
  s.applied = { changed: w.changed, before: w.before, after: w.after, needsRestart: w.needsRestart };
  s.listmonk.restartPending = w.needsRestart;
  s.inSync = sameWindow(w.after, wanted);
  if (w.needsRestart) throw notInEffect(s, 'saved');
  return s;
}

/** Saved is not enforced: Listmonk applies settings written while a campaign runs at its next restart. */
function notInEffect(s: RampcapSummary, how: 'saved' | 'holds'): FindingsError {
  return new FindingsError(
    `Listmonk ${how === 'saved' ? 'saved' : 'holds'} the sliding window ${describeWindow(s.wanted)}, but it is not in effect: Listmonk applies saved settings when it restarts, and does not restart while a campaign is running. ` +
      'Restart Listmonk (the banner in its admin, or POST /api/admin/reload) once the running campaign may be interrupted, or pause it; run `audience rampcap` to check.',
    { summary: s },
  );
}
