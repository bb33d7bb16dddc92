/**
 * The build's candidate sets. An address listed by carriers of several segments goes to the first
 * segment in registry order (one address, one segment, one date), through the carrier that lists
 * it first. Rows carry the three columns the rules engine needs plus the segment data.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Segment, SegmentContext } from '../segments/segment.ts';

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

/** Every candidate address, once (for the full counts of the summary, `plan`). */
export function segmentCandidates(segments: readonly Segment[], ctx: SegmentContext): RawBuilder<CandidateRow> {
  // Invalid tokens are candidates too: the invalid_syntax rule reports them in `excluded`.
  return sql<CandidateRow>`
    select distinct on (e.id) e.id as email_id, e.address as email, e.domain, s.segment, s.prio, s.dot_number, s.note
    from (${segmentRows(segments, ctx)}) s
    join carrier_emails ce on ce.dot_number = s.dot_number
    join emails e on e.id = ce.email_id
    order by e.id, s.prio, ce.position, s.dot_number`;
}

export interface RankOptions {
  date: string;
  providerTiers: readonly string[];
  /** Rows to return (before removing an address's duplicate rows): the best-ranked prefix. */
  limit: number;
}

/**
 * The best-ranked candidate rows not yet in the date's ledger, best first: provider tier (from the
 * temp table `provider_of`, a copy of domain_providers made by the caller), then
 * md5(address || date), a key stable for a date (a re-run picks the same people) that rotates
 * between dates. All rows of one address share tier and key, so they are
 * adjacent and the preferred one (segment priority, position, DOT number) comes first: a top-N
 * sort of narrow rows instead of deduplicating and sorting the whole audience.
 */
export function rankedCandidateRows(segments: readonly Segment[], ctx: SegmentContext, o: RankOptions) {
  return sql<CandidateRow & { provider: string | null; tier: number; key: string; position: number }>`
    select e.id as email_id, e.address as email, e.domain, s.segment, s.prio, s.dot_number, s.note, ce.position,
           p.provider, t.tier, t.key
    from (${segmentRows(segments, ctx)}) s
    join carrier_emails ce on ce.dot_number = s.dot_number
    join emails e on e.id = ce.email_id
    left join pg_temp.provider_of p on p.domain = e.domain
    cross join lateral (
      select coalesce(array_position(${[...o.providerTiers]}::text[], p.provider), ${o.providerTiers.length + 1}::int) as tier,
             md5(e.address || ${o.date}::text) as key
    ) t
    where not exists (select 1 from push_ledger l where l.send_date = ${o.date}::date and l.address = e.address)
    order by t.tier, t.key, e.id, s.prio, ce.position, s.dot_number
    limit ${o.limit}::int`;
}
