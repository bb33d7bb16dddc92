/**
 * `audience plan`: the warmup ramp ahead with the audience it would draw from. Each day's eligible
 * audience is judged by the very engine the build uses (segments on that date, every rule), as the
 * database stands now; days of audience left then walks the ramp until its caps add up to today's
 * eligible audience (new carriers arriving later are not counted: the estimate errs short).
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { ExclusionRule } from '../rules/rule.ts';
import type { Segment } from '../segments/segment.ts';
import { capForDay, rampAhead, type DayCap } from '../warmup/ramp.ts';
import type { WarmupStart } from '../warmup/start.ts';
import { eligibility, type Eligibility } from '../push/eligibility.ts';

export type PlanDay = DayCap & { eligible: Record<string, number>; eligibleTotal: number };
/** A plan day with what the engine said of every candidate: how many, and how many each reason excluded. */
export type JudgedPlanDay = PlanDay & Omit<Eligibility, 'eligible'>;

export async function planDays(db: Kysely<Database>, config: Config, start: WarmupStart, segments: readonly Segment[], rules: readonly ExclusionRule[], from: string, days: number, now: Date): Promise<PlanDay[]> {
  return (await judgedPlanDays(db, config, start, segments, rules, from, days, now)).map(({ candidates: _c, excluded: _e, ...day }) => day);
}

/** planDays with each day's candidates and exclusion counts (the report shows today's reasons). */
export async function judgedPlanDays(db: Kysely<Database>, config: Config, start: WarmupStart, segments: readonly Segment[], rules: readonly ExclusionRule[], from: string, days: number, now: Date): Promise<JudgedPlanDay[]> {
  const out: JudgedPlanDay[] = [];
  for (const cap of rampAhead(config.warmup, start, from, days)) {
    const { eligible, candidates, excluded } = await eligibility(db, config, segments, rules, cap.date, now);
    out.push({ ...cap, eligible, eligibleTotal: Object.values(eligible).reduce((a, b) => a + b, 0), candidates, excluded });
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
