/**
 * The full verdicts behind the counts: every candidate of the segments judged by every rule, so
 * `eligible` and `excluded` count the whole audience, as the build's summary, `plan` and the report
 * show it. Read-only, outside the cap lock.
 *
 * Several send dates are judged together, not one engine run per date (14 runs took a minute on the
 * full census): each segment's SQL runs once per distinct form it takes over the dates (the MCS-150
 * slot dates change a few times a month, not daily), the candidates are the union of the dates',
 * and the rules run once over them (evaluateExclusionsOnDays: only the cooldown depends on the
 * date). Every candidate carries a bit mask of the segment evaluations that list it and of the
 * dates each rule excludes it on, so a date's counts are sums over a few hundred groups. Only
 * counts leave the database: no rule's evidence text is built for the 770k addresses of a
 * census-scale audience. A test holds the result to the engine's per-address verdicts
 * (evaluateExclusions with their evidence) date by date.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { candidateExclusionDays, candidateExclusionHits, createCandidates, evaluateExclusionsOnDays, MAX_JUDGED_DAYS, singleDateCodeCounts } from '../rules/engine.ts';
import type { ReasonCode } from '../rules/reason-codes.ts';
import type { ExclusionRule } from '../rules/rule.ts';
import type { Segment } from '../segments/segment.ts';
import { addDays } from '../warmup/calendar.ts';
import { countFromStaticVerdicts } from '../rules/static-count.ts';
import { hashJoined, tuneSelection } from './session.ts';

export interface Eligibility {
  candidates: number;
  eligible: Record<string, number>;
  excluded: Partial<Record<ReasonCode, number>>;
}

/** The date's audience: its candidates, the eligible ones per segment, the excluded ones per reason. */
export async function eligibility(db: Kysely<Database>, config: Config, segments: readonly Segment[], rules: readonly ExclusionRule[], date: string, now: Date): Promise<Eligibility> {
  const [one] = await judgeDates(db, config, segments, rules, [date], now, true);
  const { candidates, eligible, excluded } = one!;
  return { candidates, eligible, excluded };
}

/**
 * eligibility() for consecutive `dates` (at most MAX_JUDGED_DAYS / segments of them, so each
 * segment's evaluations fit the bits of a bigint), judged together. With `reasons` false the
 * exclusion counts per code are left empty (`plan` does not show them).
 */
export async function judgeDates(
  db: Kysely<Database>,
  config: Config,
  segments: readonly Segment[],
  rules: readonly ExclusionRule[],
  dates: readonly string[],
  now: Date,
  reasons: boolean,
): Promise<(Eligibility & { eligibleTotal: number })[]> {
  dates.forEach((d, i) => {
    if (d !== addDays(dates[0]!, i)) throw new RangeError(`judgeDates: the dates must follow each other, got ${dates.join(', ')}`);
  });
  if (dates.length * Math.max(1, segments.length) > MAX_JUDGED_DAYS) throw new RangeError(`judgeDates: at most ${MAX_JUDGED_DAYS} date × segment evaluations, got ${dates.length} × ${segments.length}`);
  // The static rules' kept verdicts (rules/static-count.ts), when the segments and the question allow.
  const kept = await countFromStaticVerdicts(db, config, segments, rules, dates, now, reasons);
  if (kept) return countDays(segments, dates, kept.bits, kept.groups, kept.byCode);
  return judgeDatesDirectly(db, config, segments, rules, dates, now, reasons);
}

/** judgeDates() without the kept static verdicts: every rule over the gathered audience (the reference of the kept path). */
export async function judgeDatesDirectly(
  db: Kysely<Database>,
  config: Config,
  segments: readonly Segment[],
  rules: readonly ExclusionRule[],
  dates: readonly string[],
  now: Date,
  reasons: boolean,
): Promise<(Eligibility & { eligibleTotal: number })[]> {
  return db.transaction().execute(async (trx) => {
    await tuneSelection(trx);
    const { evaluations, bits } = segmentEvaluations(trx, config, segments, dates);
    // Every address of a carrier in some segment on some date, with the evaluations that list it.
    // By hash joins (hashJoined): measured 4.8 s of database CPU for this statement probed, 3.4 s hashed.
    // Grouped by the addresses' key (their text comes along, fixed by it), so the join to
    // `emails` runs in the parallel workers with the rest, where grouping the links first left it
    // to the leader alone after them: the same CPU, less of it waited for on a quiet machine.
    // Invalid tokens are candidates too: the invalid_syntax rule reports them in `excluded`.
    await hashJoined(trx, () =>
      createCandidates(
        trx,
        sql`select e.id as email_id, e.address as email, e.domain, bit_or(s.bit) as mask
            from (${sql.join(evaluations, sql` union all `)}) s
            join carrier_emails ce on ce.dot_number = s.dot_number
            join emails e on e.id = ce.email_id
            group by e.id`,
        { index: false },
      ),
    );
    await evaluateExclusionsOnDays(trx, { config, now }, rules, dates);
    // Candidates grouped by the evaluations that list them and the dates anything excludes them on
    // (masks turned to text once per group, not once per address), in one pass over them.
    const groups = (
      await sql<{ mask: string; days: string; n: number }>`
        select mask::text as mask, days::text as days, n from (
          select x.mask, x.excluded_days as days, count(*)::int as n
          from (${candidateExclusionDays<{ mask: string }>({ config, now })}) x
          group by 1, 2) g`.execute(trx)
    ).rows;
    // One date excludes every candidate a hit names on it: its counts per code need no day bits.
    const one = dates.length === 1 ? String(bits[0]!.reduce((a, b) => a | b, 0n)) : null;
    const oneCounts = one && reasons ? singleDateCodeCounts({ config, now }, rules) : null;
    const byCode = !reasons
      ? { rows: [] }
      : one && oneCounts
        ? await sql<{ code: ReasonCode; mask: string; days: string; n: number }>`
            select code, ${one}::text as mask, '1' as days, n from (${oneCounts}) x`.execute(trx)
        : one
        ? await sql<{ code: ReasonCode; mask: string; days: string; n: number }>`
            select code, ${one}::text as mask, '1' as days, count(*)::int as n
            from (select distinct email_id, code from (${candidateExclusionHits({ config, now })}) h) h group by 1`.execute(trx)
        : await sql<{ code: ReasonCode; mask: string; days: string; n: number }>`
            select code, mask::text as mask, days::text as days, n from (
              select h.code, c.mask, h.days, count(*)::int as n
              from (select email_id, code, bit_or(days) as days from (${candidateExclusionHits({ config, now })}) h group by email_id, code) h
              join pg_temp.candidates c on c.email_id = h.email_id
              group by 1, 2, 3) g`.execute(trx);
    return countDays(segments, dates, bits, groups, byCode.rows);
  });
}

/**
 * Each date's counts from the candidates grouped by the segment bits that list them (`mask`) and
 * the days something excludes them on, and from the counts per code (`byCode`, same masks and days).
 */
function countDays(
  segments: readonly Segment[],
  dates: readonly string[],
  bits: bigint[][],
  groups: readonly { mask: string; days: string; n: number }[],
  byCode: readonly { code: ReasonCode; mask: string; days: string; n: number }[],
): (Eligibility & { eligibleTotal: number })[] {
  return dates.map((_date, d) => {
    const day = bits[d]!;
    const any = day.reduce((a, b) => a | b, 0n);
    const on = (days: string) => ((BigInt(days) >> BigInt(d)) & 1n) === 1n;
    const eligible: Record<string, number> = Object.fromEntries(segments.map((s) => [s.name, 0]));
    let candidates = 0;
    for (const g of groups) {
      const mask = BigInt(g.mask);
      if ((mask & any) === 0n) continue;
      candidates += g.n;
      if (on(g.days)) continue;
      // An address listed in several segments on a date goes to the first (as the build does).
      const s = day.findIndex((bit) => (mask & bit) !== 0n);
      eligible[segments[s]!.name]! += g.n;
    }
    const excluded: Partial<Record<ReasonCode, number>> = {};
    for (const r of byCode) if ((BigInt(r.mask) & any) !== 0n && on(r.days)) excluded[r.code] = (excluded[r.code] ?? 0) + r.n;
    return { eligible, eligibleTotal: Object.values(eligible).reduce((a, b) => a + b, 0), candidates, excluded: sortedCodes(excluded) };
  });
}

/** Codes in alphabetical order, as the summaries have always listed them. */
function sortedCodes(x: Partial<Record<ReasonCode, number>>): Partial<Record<ReasonCode, number>> {
  return Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Each segment's carriers over the dates as SQL selecting `dot_number, bit`, and for each date and
 * segment the bit that is its. A segment with carriersOnDays() is judged for every date in one
 * statement (its day bits shifted into place); another runs carriers() once per distinct form it
 * takes over the dates (compiled SQL and parameters), one bit per form.
 */
function segmentEvaluations(trx: Transaction<Database>, config: Config, segments: readonly Segment[], dates: readonly string[]) {
  const evaluations: RawBuilder<{ dot_number: number; bit: string }>[] = [];
  const bits: bigint[][] = dates.map(() => []);
  let offset = 0;
  segments.forEach((segment, s) => {
    if (segment.carriersOnDays) {
      const shift = offset;
      evaluations.push(sql`select t.dot_number, t.days::bigint << ${shift}::int as bit from (${segment.carriersOnDays({ config, date: dates[0]! }, dates)}) t`);
      dates.forEach((_date, d) => (bits[d]![s] = 1n << BigInt(shift + d)));
      offset += dates.length;
      return;
    }
    const seen = new Map<string, bigint>();
    dates.forEach((date, d) => {
      const q = segment.carriers({ config, date });
      const c = q.compile(trx);
      const key = `${c.sql}\u0000${JSON.stringify(c.parameters)}`;
      let bit = seen.get(key);
      if (bit === undefined) {
        bit = 1n << BigInt(offset++);
        evaluations.push(sql`select t.dot_number, ${String(bit)}::bigint as bit from (${q}) t`);
        seen.set(key, bit);
      }
      bits[d]![s] = bit;
    });
  });
  return { evaluations, bits };
}
