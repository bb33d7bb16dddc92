/**
 * `audience plan`: the warmup ramp ahead with the audience it would draw from. Each day's eligible
 * audience is what the build's engine would say on that date (segments on that date, every rule),
 * as the database stands now; days of audience left then walks the ramp until its caps add up to
 * today's eligible audience (new carriers arriving later are not counted: the estimate errs short).
 *
 * The days are judged together, not one engine run per day (14 runs took a minute on the full
 * census): each segment's SQL runs once per distinct form it takes over the days (the MCS-150 slot
 * dates change a few times a month, not daily), the candidates are the union of the days', and the
 * rules run once over them (evaluateExclusionsOnDays: only the cooldown depends on the date). Every
 * candidate carries a bit mask of the segment evaluations that list it and of the days each rule
 * excludes it on, so a day's counts are sums over a few hundred groups. A test holds the result to
 * eligibility() run date by date.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { createCandidates, evaluateExclusionsOnDays, MAX_JUDGED_DAYS } from '../rules/engine.ts';
import type { ReasonCode } from '../rules/reason-codes.ts';
import type { ExclusionRule } from '../rules/rule.ts';
import type { Segment } from '../segments/segment.ts';
import { capForDay, rampAhead, type DayCap } from '../warmup/ramp.ts';
import type { WarmupStart } from '../warmup/start.ts';
import { addDays } from '../warmup/calendar.ts';
import type { Eligibility } from '../push/eligibility.ts';
import { hashJoined, tuneSelection } from '../push/session.ts';

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
  for (let i = 0; i < caps.length; i += batch) out.push(...(await judgeDays(db, config, segments, rules, caps.slice(i, i + batch), now, reasons)));
  return out;
}

async function judgeDays(db: Kysely<Database>, config: Config, segments: readonly Segment[], rules: readonly ExclusionRule[], caps: readonly DayCap[], now: Date, reasons: boolean): Promise<JudgedPlanDay[]> {
  const dates = caps.map((c) => c.date);
  dates.forEach((d, i) => {
    if (d !== addDays(dates[0]!, i)) throw new RangeError(`judgeDays: the days must follow each other, got ${dates.join(', ')}`);
  });
  return db.transaction().execute(async (trx) => {
    await tuneSelection(trx);
    const { evaluations, bits } = segmentEvaluations(trx, config, segments, dates);
    // Every address of a carrier in some segment on some day, with the evaluations that list it
    // (grouped on the ids first: the addresses' text is joined once per address, not per carrier).
    // By hash joins (hashJoined): measured 4.8 s of database CPU for this statement probed, 3.4 s hashed.
    await hashJoined(trx, () =>
      createCandidates(
        trx,
        sql`select e.id as email_id, e.address as email, e.domain, m.mask
            from (select ce.email_id, bit_or(s.bit) as mask
                  from (${sql.join(evaluations.map((q, i) => sql`select t.dot_number, ${String(1n << BigInt(i))}::bigint as bit from (${q}) t`), sql` union all `)}) s
                  join carrier_emails ce on ce.dot_number = s.dot_number
                  group by ce.email_id) m
            join emails e on e.id = m.email_id`,
      ),
    );
    await evaluateExclusionsOnDays(trx, { config, now }, rules, dates);
    // Candidates grouped by the evaluations that list them and the days anything excludes them on.
    const groups = await sql<{ mask: string; days: string; n: number }>`
      select c.mask::text as mask, coalesce(x.days, 0)::text as days, count(*)::int as n
      from pg_temp.candidates c
      left join (select email_id, bit_or(days) as days from pg_temp.exclusion_day_hits group by email_id) x on x.email_id = c.email_id
      group by 1, 2`.execute(trx);
    const byCode = reasons
      ? await sql<{ code: ReasonCode; mask: string; days: string; n: number }>`
          select h.code, c.mask::text as mask, h.days::text as days, count(*)::int as n
          from (select email_id, code, bit_or(days) as days from pg_temp.exclusion_day_hits group by email_id, code) h
          join pg_temp.candidates c on c.email_id = h.email_id
          group by 1, 2, 3`.execute(trx)
      : { rows: [] };
    return caps.map((cap, d) => {
      const day = bits[d]!;
      const any = day.reduce((a, b) => a | b, 0n);
      const on = (days: string) => ((BigInt(days) >> BigInt(d)) & 1n) === 1n;
      const eligible: Record<string, number> = Object.fromEntries(segments.map((s) => [s.name, 0]));
      let candidates = 0;
      for (const g of groups.rows) {
        const mask = BigInt(g.mask);
        if ((mask & any) === 0n) continue;
        candidates += g.n;
        if (on(g.days)) continue;
        // An address listed in several segments on a date goes to the first (as the build does).
        const s = day.findIndex((bit) => (mask & bit) !== 0n);
        eligible[segments[s]!.name]! += g.n;
      }
      const excluded: Partial<Record<ReasonCode, number>> = {};
      for (const r of byCode.rows) if ((BigInt(r.mask) & any) !== 0n && on(r.days)) excluded[r.code] = (excluded[r.code] ?? 0) + r.n;
      return { ...cap, eligible, eligibleTotal: Object.values(eligible).reduce((a, b) => a + b, 0), candidates, excluded: sortedCodes(excluded) };
    });
  });
}

/** Codes in alphabetical order, as eligibility() returns them. */
function sortedCodes(x: Partial<Record<ReasonCode, number>>): Partial<Record<ReasonCode, number>> {
  return Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Each segment's SQL for each date, run once per distinct form (compiled SQL and parameters): the
 * evaluations to run, and for each date and segment the bit of the evaluation that is its.
 */
function segmentEvaluations(trx: Transaction<Database>, config: Config, segments: readonly Segment[], dates: readonly string[]) {
  const evaluations: RawBuilder<{ dot_number: number }>[] = [];
  const bits: bigint[][] = dates.map(() => []);
  segments.forEach((segment, s) => {
    const seen = new Map<string, number>();
    dates.forEach((date, d) => {
      const q = segment.carriers({ config, date });
      const c = q.compile(trx);
      const key = `${c.sql}\u0000${JSON.stringify(c.parameters)}`;
      let i = seen.get(key);
      if (i === undefined) {
        i = evaluations.push(q) - 1;
        seen.set(key, i);
      }
      bits[d]![s] = 1n << BigInt(i);
    });
  });
  return { evaluations, bits };
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
