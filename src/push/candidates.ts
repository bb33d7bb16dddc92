/**
 * The build's candidate sets. An address listed by carriers of several segments goes to the first
 * segment in registry order (one address, one segment, one date), through the carrier that lists
 * it first. Rows carry the three columns the rules engine needs plus the segment data.
 */
import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Segment, SegmentContext } from '../segments/segment.ts';
import { RANK_HASH, rankKey, rankStart } from './rank-key.ts';

export interface CandidateRow {
  email_id: number;
  email: string;
  domain: string;
  segment: string;
  prio: number;
  dot_number: number;
  note: string;
}

function segmentRows(segments: readonly Segment[], ctx: SegmentContext) {
  const parts = segments.map((s, i) => sql`select ${i}::int as prio, ${s.name}::text as segment, t.dot_number, t.note from (${s.carriers(ctx)}) t`);
  return sql.join(parts, sql` union all `);
}

export interface RankOptions {
  date: string;
  providerTiers: readonly string[];
  /** Rows to return (before removing an address's duplicate rows): the best-ranked prefix. */
  limit: number;
}

/**
 * Fills the temp table `rank_window (id, address, domain, key)` with the first `size` addresses of
 * `emails` in the date's key order (rank-key.ts) and returns how many it holds: a range scan of
 * emails_rank_hash_idx from the date's starting point to the end of the circle, then, if that
 * held fewer, one from the circle's beginning; each stops after the rows still wanted. Candidates
 * or not: the window is a slice of the key order, the caller keeps the segment candidates in it.
 * Also fills `provider_of (domain, provider)` for the window's domains.
 */
export async function fillRankWindow(trx: Transaction<Database>, date: string, size: number): Promise<number> {
  const start = rankStart(date);
  await sql`drop table if exists pg_temp.rank_window`.execute(trx);
  await sql`create temp table rank_window (id bigint, address text, domain text, key bigint) on commit drop`.execute(trx);
  let n = 0;
  for (const cond of [sql`${RANK_HASH} >= ${start}::bigint`, sql`${RANK_HASH} < ${start}::bigint`]) {
    if (n >= size) break;
    const r = await sql`insert into pg_temp.rank_window (id, address, domain, key)
      select e.id, e.address, e.domain, ${rankKey(RANK_HASH, start)} from emails e
      where ${cond} order by ${RANK_HASH} limit ${size - n}::int`.execute(trx);
    n += Number(r.numAffectedRows ?? 0);
  }
  await sql`analyze pg_temp.rank_window`.execute(trx);
  // domain_providers (sql/0004) is a full join of two tables, which the planner can neither probe
  // by domain nor estimate when joined to the window; a small analyzed copy of the window's
  // domains keeps the ranking a plain hash join, and the view stays the one definition of
  // "provider".
  await sql`drop table if exists pg_temp.provider_of`.execute(trx);
  await sql`create temp table provider_of on commit drop as
    select domain, provider from domain_providers
    where provider is not null and domain in (select distinct w.domain from pg_temp.rank_window w)`.execute(trx);
  await sql`analyze pg_temp.provider_of`.execute(trx);
  return n;
}

/** SQL: the provider tier of `provider` (1 = best; providers not listed come after the listed ones). */
function tierOf(providerTiers: readonly string[], provider: RawBuilder<unknown>) {
  return sql<number>`coalesce(array_position(${[...providerTiers]}::text[], ${provider}), ${providerTiers.length + 1}::int)`;
}

/**
 * Fills the temp table `window_links (dot_number, email_id, position)`: which carriers list the
 * best `count` addresses of the window by (tier, key). Only the carriers of linked addresses are
 * judged against the segments, so a caller that needs the best N candidate rows links a few times
 * N addresses instead of the whole window (the rows come in address order: when the linked
 * addresses yield N rows, they are the window's best N). Probed by e-mail id through an array, so
 * the planner probes the index instead of hashing all of carrier_emails for a few percent of it.
 */
export async function linkWindow(trx: Transaction<Database>, providerTiers: readonly string[], count: number): Promise<void> {
  await sql`drop table if exists pg_temp.window_links`.execute(trx);
  await sql`create temp table window_links on commit drop as
    select ce.dot_number, ce.email_id, ce.position from carrier_emails ce
    where ce.email_id = any(array(
      select w.id from pg_temp.rank_window w left join pg_temp.provider_of p on p.domain = w.domain
      order by ${tierOf(providerTiers, sql`p.provider`)}, w.key, w.id limit ${count}::int))`.execute(trx);
  await sql`analyze pg_temp.window_links`.execute(trx);
}

/**
 * The best-ranked candidate rows among the addresses of the temp table `rank_window` linked in
 * `window_links` (fillRankWindow, linkWindow), not yet in the date's ledger (a released row is
 * free to take again), best first: provider
 * tier (from `provider_of`), then the rank key. All rows of one address share tier and key, so they are adjacent and the
 * preferred one (segment priority, position, DOT number) comes first.
 */
export function rankedWindowRows(segments: readonly Segment[], ctx: SegmentContext, o: RankOptions) {
  const among = sql<{ dot_number: number }>`pg_temp.window_links`;
  return sql<CandidateRow & { provider: string | null; tier: number; key: string; position: number }>`
    select w.id as email_id, w.address as email, w.domain, s.segment, s.prio, s.dot_number, s.note, ce.position,
           p.provider, ${tierOf(o.providerTiers, sql`p.provider`)} as tier, w.key
    from pg_temp.rank_window w
    join pg_temp.window_links ce on ce.email_id = w.id
    join (${segmentRows(segments, { ...ctx, among })}) s on s.dot_number = ce.dot_number
    left join pg_temp.provider_of p on p.domain = w.domain
    where not exists (select 1 from push_ledger l where l.send_date = ${o.date}::date and l.address = w.address and l.status <> 'released')
    order by tier, w.key, w.id, s.prio, ce.position, s.dot_number
    limit ${o.limit}::int`;
}
