/**
 * The full verdicts behind the summary: every candidate of the segments judged by every rule, so
 * `eligible` and `excluded` count the whole audience, as `plan` and `explain` see it. Read-only,
 * outside the cap lock.
 */
import { sql, type Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { createCandidates, eligibleCandidates, evaluateExclusions } from '../rules/engine.ts';
import type { ReasonCode } from '../rules/reason-codes.ts';
import type { ExclusionRule } from '../rules/rule.ts';
import type { Segment } from '../segments/segment.ts';
import { segmentCandidates } from './candidates.ts';
import { hashJoined, tuneSelection } from './session.ts';

export interface Eligibility {
  candidates: number;
  eligible: Record<string, number>;
  excluded: Partial<Record<ReasonCode, number>>;
}

export async function eligibility(db: Kysely<Database>, config: Config, segments: readonly Segment[], rules: readonly ExclusionRule[], date: string, now: Date): Promise<Eligibility> {
  return db.transaction().execute(async (trx) => {
    await tuneSelection(trx);
    const candidates = await hashJoined(trx, () => createCandidates(trx, segmentCandidates(segments, { config, date })));
    const excluded = await evaluateExclusions(trx, { config, date, now }, rules);
    const r = await sql<{ segment: string; n: number }>`select segment, count(*)::int as n from ${eligibleCandidates} c group by segment`.execute(trx);
    return { candidates, excluded, eligible: Object.fromEntries(segments.map((s) => [s.name, r.rows.find((x) => x.segment === s.name)?.n ?? 0])) };
  });
}
