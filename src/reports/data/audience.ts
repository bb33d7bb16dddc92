/**
 * The audience ahead: `plan`'s days (the ramp's cap and the eligible addresses per segment, each
 * day judged by the build's own engine on the data as it stands) from the report's date, and why
 * that day's candidates are excluded. Without a warmup start there is no ramp to plan against:
 * the report says why instead of drawing.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { daysOfAudience, judgedPlanDays, type JudgedPlanDay } from '../plan.ts';
import type { ReasonCode } from '../../rules/reason-codes.ts';
import type { ExclusionRule } from '../../rules/rule.ts';
import type { Segment } from '../../segments/segment.ts';
import type { WarmupStart } from '../../warmup/start.ts';

/** Days ahead, as `plan` shows by default. */
export const AHEAD_DAYS = 14;

export interface AudienceAhead {
  segments: string[];
  days: JudgedPlanDay[];
  /** The first day's candidates and the reasons that exclude them, most first. */
  candidates: number;
  excluded: { code: ReasonCode; count: number }[];
  /** Days the ramp takes to use up the first day's eligible audience; null beyond ten years. */
  daysOfAudienceLeft: number | null;
}

export async function audienceAhead(
  db: Kysely<Database>,
  config: Config,
  start: WarmupStart,
  segments: readonly Segment[],
  rules: readonly ExclusionRule[],
  from: string,
  now: Date,
): Promise<AudienceAhead> {
  const days = await judgedPlanDays(db, config, start, segments, rules, from, AHEAD_DAYS, now);
  const first = days[0]!;
  const excluded = (Object.entries(first.excluded) as [ReasonCode, number][])
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([code, count]) => ({ code, count }));
  return {
    segments: segments.map((s) => s.name),
    days,
    candidates: first.candidates,
    excluded,
    daysOfAudienceLeft: daysOfAudience(config, Math.max(0, first.warmupDay), first.eligibleTotal),
  };
}
