/**
 * The build's candidate set: every address of every carrier in the requested segments on the
 * send date, one row per address. An address listed by carriers of several segments goes to the
 * first segment in registry order (one address, one segment, one date), through the carrier that
 * lists it first. The rows carry the three columns the rules engine needs plus the segment data.
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

export function segmentCandidates(segments: readonly Segment[], ctx: SegmentContext): RawBuilder<CandidateRow> {
  const parts = segments.map((s, i) => sql`select ${i}::int as prio, ${s.name}::text as segment, t.dot_number, t.note from (${s.carriers(ctx)}) t`);
  // Invalid tokens are candidates too: the invalid_syntax rule reports them in `excluded`.
  return sql<CandidateRow>`
    select distinct on (e.id) e.id as email_id, e.address as email, e.domain, s.segment, s.prio, s.dot_number, s.note
    from (${sql.join(parts, sql` union all `)}) s
    join carrier_emails ce on ce.dot_number = s.dot_number
    join emails e on e.id = ce.email_id
    order by e.id, s.prio, ce.position, s.dot_number`;
}
