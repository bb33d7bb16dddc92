/**
 * The reference the counting paths are held to: the audience of one date judged address by
 * address, as the build's summary counted it before judgeDates (push/eligibility.ts) — every
 * candidate row through every rule's hits() with its evidence (evaluateExclusions), an address
 * excluded when any hit names it, counted per code and per segment. Slow on purpose: clear to read.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Config } from '../../src/config.ts';
import type { Database } from '../../src/db/database.ts';
import type { Eligibility } from '../../src/push/eligibility.ts';
import { hashJoined, tuneSelection } from '../../src/push/session.ts';
import { createCandidates, eligibleCandidates, evaluateExclusions } from '../../src/rules/engine.ts';
import type { ExclusionRule } from '../../src/rules/rule.ts';
import type { Segment, SegmentContext } from '../../src/segments/segment.ts';

/**
 * Every candidate address, once, with the segment it counts in: the first in registry order whose
 * carriers list it, as the build assigns it.
 */
function segmentCandidates(segments: readonly Segment[], ctx: SegmentContext): RawBuilder<{ email_id: number; email: string; domain: string; segment: string }> {
  const names = segments.map((s) => s.name);
  const rows = sql.join(
    segments.map((s, i) => sql`select ${i}::int as prio, t.dot_number from (${s.carriers(ctx)}) t`),
    sql` union all `,
  );
  return sql`
    select e.id as email_id, e.address as email, e.domain, (${names}::text[])[m.prio + 1] as segment
    from (select ce.email_id, min(s.prio) as prio
          from (${rows}) s
          join carrier_emails ce on ce.dot_number = s.dot_number
          group by ce.email_id) m
    join emails e on e.id = m.email_id`;
}

export async function referenceEligibility(db: Kysely<Database>, config: Config, segments: readonly Segment[], rules: readonly ExclusionRule[], date: string, now: Date): Promise<Eligibility> {
  return db.transaction().execute(async (trx) => {
    await tuneSelection(trx);
    const candidates = await hashJoined(trx, () => createCandidates(trx, segmentCandidates(segments, { config, date })));
    const excluded = await evaluateExclusions(trx, { config, date, now }, rules);
    const r = await sql<{ segment: string; n: number }>`select segment, count(*)::int as n from ${eligibleCandidates} c group by segment`.execute(trx);
    return { candidates, excluded, eligible: Object.fromEntries(segments.map((s) => [s.name, r.rows.find((x) => x.segment === s.name)?.n ?? 0])) };
  });
}
