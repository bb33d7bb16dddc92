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
import { eligibility } from './eligibility.ts';

export type PlanDay = DayCap & { eligible: Record<string, number>; eligibleTotal: number };

export async function planDays(db: Kysely<Database>, config: Config, start: WarmupStart, segments: readonly Segment[], rules: readonly ExclusionRule[], from: string, days: number, now: Date): Promise<PlanDay[]> {
  const out: PlanDay[] = [];
  for (const cap of rampAhead(config.warmup, start, from, days)) {
    const { eligible } = await eligibility(db, config, segments, rules, cap.date, now);
    out.push({ ...cap, eligible, eligibleTotal: Object.values(eligible).reduce((a, b) => a + b, 0) });
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
