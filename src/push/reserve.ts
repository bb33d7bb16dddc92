/**
 * The cap decision. In one transaction holding the reservation lock: count everything already
 * reserved or pushed for the date (all segments), rank the segments' candidates best first, and
 * reserve at most cap − used of the best eligible ones in the ledger. A second build waits on the
 * lock and then sees the first one's reservations, so the cap holds across concurrent builds,
 * re-runs and crashes; pushing happens after commit, from the ledger.
 *
 * The lock is one for every date, not one per date: cooldown looks both ways (rules/cooldown.ts),
 * so a decision for D depends on the reservations of every date within cooldownDays of it, and two
 * builds for D and D+1 holding locks of their own could each pass the other's cooldown check
 * before either committed. It is held for a ledger read and the insert, so one lock costs little.
 *
 * Rules are judged on the best-ranked prefix only, growing it until the day is filled: a verdict
 * depends on the address alone, so the picks equal those of judging every candidate. The prefix
 * comes from a window of addresses read in rank-key order off an index (candidates.ts), so the lock
 * is held for a few tens of thousands of index reads and a few thousand verdicts instead of
 * ranking a million candidate rows. The full counts for the summary are computed after commit
 * (eligibility.ts).
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { createCandidates, eligibleCandidates, evaluateExclusions } from '../rules/engine.ts';
import type { ExclusionRule, RuleContext } from '../rules/rule.ts';
import type { Segment } from '../segments/segment.ts';
import { InternalError } from '../errors.ts';
import { fillRankWindow, linkWindow, rankedWindowRows } from './candidates.ts';
import { ledgerCounts, type SegmentLedgerCounts } from './ledger.ts';
import { tuneSelection } from './session.ts';

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
  /** Tests only: first judged rows and window size, tiny so the window must grow over several rounds. */
  firstRound?: { limit: number; window: number };
  /** Tests only: runs between the unlocked selection and the lock, to play a concurrent build. */
  beforeLock?: (trx: Transaction<Database>) => Promise<void>;
}

export interface ReserveResult {
  /** Reserved + pushed for the date before this decision, all segments. */
  used: number;
  /** Ledger counts per segment before this decision. */
  before: Record<string, SegmentLedgerCounts>;
  /** Newly reserved (or, with dryRun, that would be) per segment. */
  picked: Record<string, number>;
  /** How many of the best-ranked addresses the rules judged to fill the day. */
  judged: number;
  /** performance.now() when the date's lock was granted: it is held from then until commit. */
  lockedAt: number;
  /** True when another build reserved for the date during the unlocked selection, so it ran again under the lock. */
  reselected: boolean;
}

/** The advisory lock under which every reservation, for any date, is decided. */
export const RESERVATION_LOCK = 'audience:build:reserve';

/**
 * Runs inside `trx`. With dryRun, the picks stay in the temp table `picked` (dropped at commit)
 * for the caller to export; otherwise they are inserted into push_ledger as `reserved` (a row of
 * the date that was released, release.ts, is taken again in place: one row per date and address).
 *
 * The selection runs first without the lock, on the ledger as it stands; then the lock is taken
 * and the ledger read again. Reservations are only ever added under that lock, so when the date's
 * ledger is unchanged (same rows, same statuses) and no pick has been reserved meanwhile for a date
 * within the cooldown, nothing that the picks depend on — room, per-segment totals, addresses
 * already taken, ranks, cooldown — has moved, and they are inserted as they are. Otherwise the
 * selection runs again under the lock. Either way the cap and the cooldown are decided on the
 * ledger as it is while the lock is held, and the lock is held for a ledger read and the insert in
 * the usual case instead of the whole selection.
 */
export async function reserve(trx: Transaction<Database>, p: ReserveInput): Promise<ReserveResult> {
  await tuneSelection(trx);
  let state = await ledgerState(trx, p.date);
  let sel = await pick(trx, p, state.before);
  await p.beforeLock?.(trx);
  await sql`select pg_advisory_xact_lock(hashtext(${RESERVATION_LOCK}))`.execute(trx);
  const lockedAt = performance.now();
  const now = await ledgerState(trx, p.date);
  const reselected = now.mark !== state.mark || (await takenMeanwhile(trx, p.date, p.ruleCtx.config.build.cooldownDays)) > 0;
  if (reselected) {
    state = now;
    sel = await pick(trx, p, state.before);
  }
  if (!p.dryRun) {
    const r = await sql`
      insert into push_ledger (send_date, segment, address, email_id, dot_number, provider, rank, note, run_id, reserved_at)
      select ${p.date}::date, segment, email, email_id, dot_number, provider, rank, note, ${p.runId}::bigint, ${p.ruleCtx.now}::timestamptz
      from pg_temp.picked
      on conflict (send_date, address) do update
        set segment = excluded.segment, email_id = excluded.email_id, dot_number = excluded.dot_number, provider = excluded.provider,
            rank = excluded.rank, note = excluded.note, run_id = excluded.run_id, status = 'reserved', outcome = null, error = null,
            push_run_id = null, list_id = null, subscriber_id = null, attempt_run_id = null, reserved_at = excluded.reserved_at, pushed_at = null
        where push_ledger.status = 'released'`.execute(trx);
    const inserted = Number(r.numAffectedRows ?? 0);
    const wanted = Object.values(sel.picked).reduce((a, b) => a + b, 0);
    // Picks exclude the date's rows that are not released, and nothing else reserves while the lock is held.
    if (inserted !== wanted) throw new InternalError(`reserved ${inserted} of ${wanted} picks for ${p.date}: the ledger changed under the reservation lock`);
  }
  return { used: sel.used, before: state.before, picked: sel.picked, judged: sel.judged, lockedAt, reselected };
}

/**
 * How many picks another decision reserved since they were selected: a row of the date (released
 * rows excepted), or a pushed or reserved row within the cooldown of another date. The date's mark
 * catches the first; this catches a build for a neighbouring date, which leaves the date's own
 * ledger as it was.
 */
async function takenMeanwhile(trx: Transaction<Database>, date: string, cooldownDays: number): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from pg_temp.picked p
    where exists (
      select 1 from push_ledger l
      where l.address = p.email
        and ((l.send_date = ${date}::date and l.status <> 'released')
          or (l.status in ('reserved', 'pushed') and l.send_date between ${date}::date - ${cooldownDays}::int and ${date}::date + ${cooldownDays}::int)))`.execute(trx);
  return r.rows[0]?.n ?? 0;
}

/** The date's ledger counts, and a mark that changes whenever a row is added or changes status. */
async function ledgerState(trx: Transaction<Database>, date: string) {
  const before = await ledgerCounts(trx, date);
  const r = await sql<{ n: number; max_id: number }>`
    select count(*)::int as n, coalesce(max(id), 0) as max_id from push_ledger where send_date = ${date}::date`.execute(trx);
  const names = Object.keys(before).sort();
  const mark = JSON.stringify([r.rows[0]?.n ?? 0, r.rows[0]?.max_id ?? 0, names.map((n) => [n, before[n]])]);
  return { before, mark };
}

/**
 * Fills the temp table `picked` with the best eligible candidates the day has room for, given the
 * date's ledger counts `before`: at most cap − used in all, and each segment within
 * --max-per-segment.
 */
async function pick(trx: Transaction<Database>, p: ReserveInput, before: Record<string, SegmentLedgerCounts>) {
  const used = Object.values(before).reduce((n, c) => n + c.reserved + c.pushed, 0);
  const room = Math.max(0, p.cap - used);
  const names = p.segments.map((s) => s.name);
  const remaining = names.map((n) => {
    const have = (before[n]?.reserved ?? 0) + (before[n]?.pushed ?? 0);
    return p.maxPerSegment === null ? room : Math.max(0, Math.min(room, p.maxPerSegment - have));
  });
  const none = Object.fromEntries(names.map((n) => [n, 0]));
  await sql`drop table if exists pg_temp.picked`.execute(trx);
  await sql`create temp table picked (email_id bigint, email text, segment text, dot_number bigint, note text, provider text, rank int, tier int) on commit drop`.execute(trx);
  if (room === 0 || remaining.every((r) => r === 0)) return { used, picked: none, judged: 0 };

  const rankBase = (await sql<{ r: number }>`select coalesce(max(rank), 0)::int as r from push_ledger where send_date = ${p.date}::date`.execute(trx)).rows[0]?.r ?? 0;
  const segCtx = { config: p.ruleCtx.config, date: p.date };

  // Two bounds grow together until the picks are provably those of judging every candidate:
  // `windowSize` addresses read in key order (rank-key.ts), and the best `limit` candidate rows
  // among them that the rules judge. Sized for the usual case to finish in one round: half again
  // the day judged (in the census-shaped benchmark ~88% of the best tier passes every rule), and a
  // window of 8 × limit addresses, since about one address in five is a best-tier candidate row
  // there (half of the addresses belong to a due or overdue carrier, Gmail holds a quarter of
  // them). Judging costs ~0.1 ms an address and the window ~0.02 ms, so both stay lean; a second
  // round is the price of a universe that differs.
  let limit = p.firstRound?.limit ?? Math.ceil(room * 1.5) + 200;
  let windowSize = p.firstRound?.window ?? limit * 8;
  let judged = 0;
  for (;;) {
    const windowed = await fillRankWindow(trx, p.date, windowSize);
    // Link (and judge against the segments) only as many of the window's best addresses as should
    // yield `limit` candidate rows (half the census addresses belong to a segment carrier); if they
    // fall short, link the whole window.
    let linked = Math.min(windowed, limit * 3);
    let fetched = 0;
    for (;;) {
      await linkWindow(trx, p.providerTiers, linked);
      await sql`drop table if exists pg_temp.top_rows`.execute(trx);
      await sql`create temp table top_rows on commit drop as
        select r.*, row_number() over (order by r.tier, r.key, r.email_id, r.prio, r.position, r.dot_number) as seq
        from (${rankedWindowRows(p.segments, segCtx, { date: p.date, providerTiers: p.providerTiers, limit })}) r`.execute(trx);
      fetched = (await sql<{ n: number }>`select count(*)::int as n from pg_temp.top_rows`.execute(trx)).rows[0]?.n ?? 0;
      if (fetched >= limit || linked >= windowed) break;
      linked = windowed;
    }
    judged = await createCandidates(
      trx,
      sql`select distinct on (email_id) email_id, email, domain, segment, dot_number, note, provider, tier, seq as rn
          from pg_temp.top_rows order by email_id, seq`,
    );
    await evaluateExclusions(trx, p.ruleCtx, p.rules);
    await sql`truncate pg_temp.picked`.execute(trx);
    // Yahoo is refused here too, whatever the rules say: invariant 1 must not hang on one rule module.
    await sql`
      insert into pg_temp.picked (email_id, email, segment, dot_number, note, provider, rank, tier)
      select x.email_id, x.email, x.segment, x.dot_number, x.note, x.provider, ${rankBase}::int + row_number() over (order by x.rn)::int, x.tier
      from (
        select c.*, row_number() over (partition by c.segment order by c.rn) as seg_rank
        from ${eligibleCandidates} c
        where coalesce(c.provider, '') <> 'yahoo'
      ) x
      join unnest(${names}::text[], ${remaining}::int[]) as r(segment, remaining) on r.segment = x.segment
      where x.seg_rank <= r.remaining
      order by x.rn
      limit ${room}::int`.execute(trx);
    const got = (await sql<{ segment: string; n: number; tier: number }>`select segment, count(*)::int as n, max(tier)::int as tier from pg_temp.picked group by segment`.execute(trx)).rows;
    const total = got.reduce((n, g) => n + g.n, 0);
    const filled = total >= room || names.every((n, i) => (got.find((g) => g.segment === n)?.n ?? 0) >= remaining[i]!);
    // Every address beyond the window has a larger key than every address in it, and the judged
    // rows are the window's best: so when the picks fill the day from the best tier alone, nothing
    // unseen could outrank them. A pick of a lower tier could be outranked by an unseen address of
    // a better one, so the window grows until it holds every address.
    const complete = windowed < windowSize;
    const exhausted = fetched < limit;
    if (filled && (complete || got.every((g) => g.tier <= 1))) break;
    if (complete && exhausted) break;
    // Grow by what this round suggests is missing (at least ×2, at most ×16): a day half filled
    // needs a window about twice as deep, not a blind ×4 that overshoots or takes several rounds.
    const grow = Math.min(16, Math.max(2, Math.ceil((1.5 * room) / Math.max(1, total))));
    if (!complete) windowSize *= grow;
    if (!exhausted) limit *= grow;
  }

  const pickedRows = await sql<{ segment: string; n: number }>`select segment, count(*)::int as n from pg_temp.picked group by segment`.execute(trx);
  const picked = Object.fromEntries(names.map((n) => [n, pickedRows.rows.find((r) => r.segment === n)?.n ?? 0]));
  return { used, picked, judged };
}
