/** The `rampcap --json` contract (the stage's own keys; runStage adds the envelope: runId, startedAt...), and its rendering for people. */
import { describeWindow, type SlidingWindow } from '../listmonk/index.ts';

export interface WindowView extends SlidingWindow {
  /** Messages per hour it allows; null when off or unreadable. */
  perHour: number | null;
}

export interface RampcapSummary {
  [key: string]: unknown;
  command: 'rampcap';
  date: string;
  warmupDay: number;
  hourlyCap: number;
  dailyCap: number;
  dryRun: boolean;
  listmonk: {
    version: string;
    slidingWindow: WindowView;
    /** Listmonk saved settings it has not applied yet (written while a campaign was running). */
    restartPending: boolean;
  };
  /** What today's ramp asks of Listmonk: the window on, 1 h long, the hourly cap. */
  wanted: SlidingWindow;
  inSync: boolean;
  /** --apply: what was written (changed false: it was already right, nothing written); null on a dry run. */
  applied: { changed: boolean; before: SlidingWindow; after: SlidingWindow; needsRestart: boolean } | null;
  /** Why a write would not be safe on this Listmonk (empty: it would be). */
  writeRisks: string[];
}

export function renderRampcap(s: RampcapSummary): string {
  const lines = [
    `${s.date}, warmup day ${s.warmupDay}: hourly cap ${s.hourlyCap}/h (daily ${s.dailyCap})`,
    `Listmonk ${s.listmonk.version} sliding window: ${describeWindow(s.listmonk.slidingWindow)}${s.listmonk.slidingWindow.perHour !== null ? ` (${s.listmonk.slidingWindow.perHour}/h)` : ''}`,
  ];
  if (s.listmonk.restartPending) lines.push('  Listmonk has saved settings it has not applied yet: they take effect when it restarts (Settings shows a restart button).');
  if (s.applied?.changed) lines.push(`set to ${describeWindow(s.applied.after)} (was ${describeWindow(s.applied.before)})${s.applied.needsRestart ? '; NOT IN EFFECT until Listmonk restarts (a campaign is running)' : ''}`);
  else if (s.inSync) lines.push('already right: nothing to change');
  else if (s.dryRun) {
    lines.push(`would set: ${describeWindow(s.wanted)} — run \`audience rampcap --apply\``);
    for (const r of s.writeRisks) lines.push(`  but a write is refused here: ${r}`);
  }
  return lines.join('\n');
}
