/**
 * The recent share of negative verdicts (dead, unknown, unresolvable) among what check-mx's DNS
 * runs wrote: the rate guard's "normal" (verdict-gate.ts). Read from the run ledger, whose counts
 * are per run, so it reflects what a run usually sees (nightly runs re-check dead domains more
 * often than live ones, so their share is higher than that of the whole cache).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { GUARD_WINDOW } from './verdict-gate.ts';

/** Runs looked back on: enough to smooth one odd run, few enough to follow a changing audience. */
const RUNS = 10;

/** The share over the last RUNS successful DNS runs; null when they wrote fewer than GUARD_WINDOW verdicts. */
export async function recentNegativeShare(db: Kysely<Database>): Promise<number | null> {
  const r = await sql<{ negative: number | null; total: number | null }>`
    select sum(coalesce((v->>'dead')::int, 0) + coalesce((v->>'unknown')::int, 0) + coalesce((v->>'unresolvable')::int, 0))::int as negative,
           sum(coalesce((v->>'deliverable')::int, 0) + coalesce((v->>'dead')::int, 0) + coalesce((v->>'unknown')::int, 0) + coalesce((v->>'unresolvable')::int, 0))::int as total
    from (
      select counts->'verdicts' as v from runs
      where stage = 'check-mx' and status = 'ok' and counts->'dnsServers' is not null
      order by id desc limit ${RUNS}
    ) recent`.execute(db);
  const { negative, total } = r.rows[0] ?? { negative: null, total: null };
  return total && total >= GUARD_WINDOW ? (negative ?? 0) / total : null;
}
