/**
 * Everything one report shows, gathered from the database at the report's instant: the header and
 * one series per chart. Read-only.
 */
import type { StageContext } from '../../context.ts';
import { AudienceError } from '../../errors.ts';
import { RULES } from '../../rules/index.ts';
import { SEGMENTS } from '../../segments/index.ts';
import { resolveWarmupStart, type WarmupStart } from '../../warmup/start.ts';
import { reportRange, type ReportRange } from '../range.ts';
import { audienceAhead, type AudienceAhead } from './audience.ts';
import { dkimSeries, type DkimSeries } from './dkim.ts';
import { reportHeader, type ReportHeader } from './header.ts';
import { holdsInRange, type HoldBand } from './holds.ts';
import { providerSeries, type ProviderSeries } from './providers.ts';
import { rampSeries, type RampDay } from './ramp.ts';
import { reasonSets, type ReasonSets } from './reasons.ts';

export interface ReportData {
  range: ReportRange;
  timeZone: string;
  header: ReportHeader;
  ramp: RampDay[];
  segments: string[];
  providers: ProviderSeries;
  holds: HoldBand[];
  dkim: DkimSeries;
  reasons: ReasonSets;
  /** Null with the reason when there is no ramp to plan against. */
  audience: AudienceAhead | { error: string };
}

export async function collectReport(ctx: StageContext, opts: { date?: string; days: number }): Promise<ReportData> {
  const { config, store } = ctx;
  const db = store.db;
  const range = reportRange(opts, ctx.now(), config.timezone);
  let start: WarmupStart | { error: string };
  try {
    start = resolveWarmupStart(config.warmup.start, config.timezone);
  } catch (e) {
    if (!(e instanceof AudienceError)) throw e;
    start = { error: e.message };
  }
  const warmup = 'error' in start ? null : start;
  const segments = SEGMENTS.map((s) => s.name);
  return {
    range,
    timeZone: config.timezone,
    header: await reportHeader(db, config, start, range),
    ramp: await rampSeries(db, config, warmup, range, segments),
    segments,
    providers: await providerSeries(db, config, range),
    holds: await holdsInRange(db, range, config.timezone),
    dkim: await dkimSeries(db, config, range),
    reasons: await reasonSets(db, range.from, range.to),
    audience: warmup ? await audienceAhead(db, config, warmup, SEGMENTS, RULES, range.to, range.asOf) : { error: (start as { error: string }).error },
  };
}
