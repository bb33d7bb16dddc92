/**
 * The cap decision. In one transaction holding the send date's advisory lock: count everything
 * already reserved or pushed for the date (all segments), evaluate the segments' candidates through
 * the rules engine, and reserve at most cap − used of the best eligible addresses in the ledger.
 * A second build waits on the lock and then sees the first one's reservations, so the cap holds
 * across concurrent builds, re-runs and crashes; pushing happens after commit, from the ledger.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { createCandidates, eligibleCandidates, evaluateExclusions } from '../rules/engine.ts';
import type { ReasonCode } from '../rules/reason-codes.ts';
import type { ExclusionRule, RuleContext } from '../rules/rule.ts';
import type { Segment } from '../segments/segment.ts';
import { segmentCandidates } from './candidates.ts';
import { ledgerCounts, type SegmentLedgerCounts } from './ledger.ts';

export interface ReserveInput {
  date: string;
  cap: number;
  runId: number;
  segments: readonly Segment[];
  /** --max-per-segment: a segment's total for the date (reserved + pushed) stays within it. */
  maxPerSegment: number | null;
  providerTiers: readonly string[];
  dryRun: boolean;
  rules: readonly ExclusionRule[];
  ruleCtx: RuleContext;
}

export interface ReserveResult {
  /** Reserved + pushed for the date before this decision, all segments. */
  used: number;
  /** Ledger counts per segment before this decision. */
  before: Record<string, SegmentLedgerCounts>;
  candidates: number;
  eligible: Record<string, number>;
  excluded: Partial<Record<ReasonCode, number>>;
  /** Newly reserved (or, with dryRun, that would be) per segment. */
  picked: Record<string, number>;
}

export function dateLockKey(date: string): string {
  return `audience:build:${date}`;
}

/**
 * Runs inside `trx`. With dryRun, the picks stay in the temp table `picked` (dropped at commit)
 * for the caller to export; otherwise they are inserted into push_ledger as `reserved`.
 */
export async function reserve(trx: Transaction<Database>, p: ReserveInput): Promise<ReserveResult> {
  await sql`select pg_advisory_xact_lock(hashtext(${dateLockKey(p.date)}))`.execute(trx);
  const before = await ledgerCounts(trx, p.date);
  const used = Object.values(before).reduce((n, c) => n + c.reserved + c.pushed, 0);

  const candidates = await createCandidates(trx, segmentCandidates(p.segments, { config: p.ruleCtx.config, date: p.date }));
  const excluded = await evaluateExclusions(trx, p.ruleCtx, p.rules);
  const elig = await sql<{ segment: string; n: number }>`
    select segment, count(*)::int as n from ${eligibleCandidates} c group by segment`.execute(trx);
  const eligible = Object.fromEntries(p.segments.map((s) => [s.name, elig.rows.find((r) => r.segment === s.name)?.n ?? 0]));

  const room = Math.max(0, p.cap - used);
  const names = p.segments.map((s) => s.name);
  const remaining = names.map((n) => {
    const have = (before[n]?.reserved ?? 0) + (before[n]?.pushed ?? 0);
    return p.maxPerSegment === null ? room : Math.max(0, Math.min(room, p.maxPerSegment - have));
  });
  const rankBase = await sql<{ r: number }>`select coalesce(max(rank), 0)::int as r from push_ledger where send_date = ${p.date}::date`.execute(trx);

  // Best recipients first: provider tier, then md5(address || date), a key that is stable for a
  // date (a re-run picks the same people) and rotates between dates. Yahoo is refused here too,
  // whatever the rules say: invariant 1 must not hang on one rule module.
  await sql`drop table if exists pg_temp.picked`.execute(trx);
  await sql`
    create temp table picked on commit drop as
    select x.email_id, x.email, x.segment, x.dot_number, x.note, x.provider,
           ${rankBase.rows[0]?.r ?? 0}::int + row_number() over (order by x.tier, x.key)::int as rank
    from (
      select c.email_id, c.email, c.segment, c.dot_number, c.note, dp.provider, t.tier, t.key,
             row_number() over (partition by c.segment order by t.tier, t.key) as seg_rank
      from ${eligibleCandidates} c
      left join domain_providers dp on dp.domain = c.domain
      cross join lateral (
        select coalesce(array_position(${[...p.providerTiers]}::text[], dp.provider), ${p.providerTiers.length + 1}::int) as tier,
               md5(c.email || ${p.date}::text) as key
      ) t
      where coalesce(dp.provider, '') <> 'yahoo'
        and not exists (select 1 from push_ledger l where l.send_date = ${p.date}::date and l.address = c.email)
    ) x
    join unnest(${names}::text[], ${remaining}::int[]) as r(segment, remaining) on r.segment = x.segment
    where x.seg_rank <= r.remaining
    order by x.tier, x.key
    limit ${room}::int`.execute(trx);

  const pickedRows = await sql<{ segment: string; n: number }>`select segment, count(*)::int as n from pg_temp.picked group by segment`.execute(trx);
  const picked = Object.fromEntries(names.map((n) => [n, pickedRows.rows.find((r) => r.segment === n)?.n ?? 0]));
  if (!p.dryRun) {
    await sql`
      insert into push_ledger (send_date, segment, address, email_id, dot_number, provider, rank, note, run_id)
      select ${p.date}::date, segment, email, email_id, dot_number, provider, rank, note, ${p.runId}::bigint
      from pg_temp.picked`.execute(trx);
  }
  return { used, before, candidates, eligible, excluded, picked };
}
