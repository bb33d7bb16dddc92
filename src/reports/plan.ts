/**
 * `audience plan`: the warmup ramp ahead with the audience it would draw from. Each day's eligible
 * audience is what the build's engine would say on that date (segments on that date, every rule),
 * as the database stands now; days of audience left then walks the ramp until its caps add up to
 * today's eligible audience (new carriers arriving later are not counted: the estimate errs short).
 *
 * The days are judged together by judgeDates() (push/eligibility.ts), in batches of as many days as
 * the segments' evaluation bits allow: the very counting the build's summary uses for its date.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { MAX_JUDGED_DAYS } from '../rules/engine.ts';
import type { ExclusionRule } from '../rules/rule.ts';
import type { Segment } from '../segments/segment.ts';
import { capForDay, rampAhead, type DayCap } from '../warmup/ramp.ts';
import type { WarmupStart } from '../warmup/start.ts';
import { judgeDates, type Eligibility } from '../push/eligibility.ts';

export type PlanDay = DayCap & { eligible: Record<string, number>; eligibleTotal: number };
/** A plan day with what the engine said of every candidate: how many, and how many each reason excluded. */
export type JudgedPlanDay = PlanDay & Omit<Eligibility, 'eligible'>;

export async function planDays(db: Kysely<Database>, config: Config, start: WarmupStart, segments: readonly Segment[], rules: readonly ExclusionRule[], from: string, days: number, now: Date): Promise<PlanDay[]> {
  return (await judgeRamp(db, config, start, segments, rules, from, days, now, false)).map(({ candidates: _c, excluded: _e, ...day }) => day);
}

/** planDays with each day's candidates and exclusion counts (the report shows today's reasons). */
export function judgedPlanDays(db: Kysely<Database>, config: Config, start: WarmupStart, segments: readonly Segment[], rules: readonly ExclusionRule[], from: string, days: number, now: Date): Promise<JudgedPlanDay[]> {
  return judgeRamp(db, config, start, segments, rules, from, days, now, true);
}

/** With `reasons` false the exclusion counts per code are left empty (`plan` does not show them). */
async function judgeRamp(db: Kysely<Database>, config: Config, start: WarmupStart, segments: readonly Segment[], rules: readonly ExclusionRule[], from: string, days: number, now: Date, reasons: boolean): Promise<JudgedPlanDay[]> {
  const caps = rampAhead(config.warmup, start, from, days);
  // Each segment takes at most one bit per day of a batch, all within one bigint.
  const batch = Math.max(1, Math.min(MAX_JUDGED_DAYS, Math.floor(MAX_JUDGED_DAYS / Math.max(1, segments.length))));
  const out: JudgedPlanDay[] = [];
  for (let i = 0; i < caps.length; i += batch) {
    const part = caps.slice(i, i + batch);
    const judged = await judgeDates(db, config, segments, rules, part.map((c) => c.date), now, reasons);
    out.push(...part.map((cap, d) => ({ ...cap, ...judged[d]! })));
  }
  return out;
}

/** Days until the ramp's caps, from `firstDay`, add up to `audience`; null beyond ten years. */
export function daysOfAudience(config: Config, firstDay: number, audience: number): number | null {
  let left = audience;
  for (let i = 0; i < 3650; i++) {
    if (left <= 0) return i;
    left -= capForDay(config.warmup, firstDay + i).daily;
  }
  return left <= 0 ? 3650 : null;
}
