/**
 * The report's header: warmup day and cap of its date, the cap used, the holds in force and the
 * verdict of the build's gates (would `audience build` run now, and if not, why), all at the
 * report's instant (range.asOf).
 */
import type { Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { buildGates, type GateVerdict } from '../../push/gates.ts';
import { ledgerCounts, usedOf } from '../../push/ledger.ts';
import { holdsView } from '../../maillog/views.ts';
import { capForDay, warmupDay } from '../../warmup/ramp.ts';
import type { WarmupStart } from '../../warmup/start.ts';
import type { ReportRange } from '../range.ts';

export interface ReportHeader {
  date: string;
  asOf: string;
  warmup: { start: string; source: string; day: number; dailyCap: number; hourlyCap: number } | { error: string };
  /** Reserved or pushed for the date: what counts against its cap. */
  used: number;
  holds: Awaited<ReturnType<typeof holdsView>>;
  gates: GateVerdict;
}

export async function reportHeader(db: Kysely<Database>, config: Config, start: WarmupStart | { error: string }, range: ReportRange): Promise<ReportHeader> {
  const date = range.to;
  let warmup: ReportHeader['warmup'];
  if ('error' in start) warmup = start;
  else {
    const day = warmupDay(start, date);
    const cap = capForDay(config.warmup, day);
    warmup = { start: start.day, source: start.source, day, dailyCap: cap.daily, hourlyCap: cap.hourly };
  }
  return {
    date,
    asOf: range.asOf.toISOString(),
    warmup,
    used: usedOf(await ledgerCounts(db, date)),
    holds: await holdsView(db, range.asOf),
    gates: await buildGates(db, config, date, range.asOf),
  };
}
