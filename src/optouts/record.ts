/**
 * Writes of opt_outs (sql/0011_opt_outs.sql). Evidence is inserted once by its key (address, kind,
 * list) and never updated, so reading the same opt-outs again changes nothing, and a lifted row,
 * keeping its key, is never recorded again from the same evidence.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { normalizeAddress } from '../email/normalize.ts';
import type { OptOutSighting } from '../listmonk/index.ts';
import type { OptOutSource } from './tables.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** Listmonk's address in the form the rules match (emails.address); Listmonk's own lowercase form when ours finds it invalid. */
export function optOutAddress(email: string): string {
  const n = normalizeAddress(email);
  return n.valid ? n.address : email.trim().toLowerCase();
}

/** Records the sightings not yet known (our own list withdrawals aside); returns how many rows were new. One statement. */
export async function recordOptOuts(db: Executor, sightings: readonly OptOutSighting[], at: { source: OptOutSource; runId: number; now: Date }): Promise<number> {
  if (!sightings.length) return 0;
  // Our own withdrawal from a later list (later-lists.ts) is not the recipient's opt-out: recorded
  // as one, it would come back after `audience unsuppress` lifted the real one.
  const r = await sql`
    insert into opt_outs (address, kind, list_id, list_name, subscriber_id, source, seen_at, run_id)
    select u.address, u.kind, u.list_id, u.list_name, u.subscriber_id, ${at.source}, ${at.now}::timestamptz, ${at.runId}::bigint
    from unnest(${sightings.map((s) => optOutAddress(s.email))}::text[], ${sightings.map((s) => s.kind)}::text[], ${sightings.map((s) => s.listId)}::int[],
                ${sightings.map((s) => s.listName)}::text[], ${sightings.map((s) => s.subscriberId)}::int[]) as u(address, kind, list_id, list_name, subscriber_id)
    where not (u.kind = 'unsubscribed' and exists (select 1 from list_unsubscribes x where x.address = u.address and x.list_id = u.list_id))
    on conflict (address, kind, coalesce(list_id, 0)) do nothing`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** Active (unlifted) opt-outs: how many addresses. */
export async function activeOptOutCount(db: Executor): Promise<number> {
  const r = await sql<{ n: number }>`select count(distinct address)::int as n from opt_outs where lifted_at is null`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/** Lifts every active opt-out of an address (rows stay as history). Returns how many were lifted. */
export async function liftOptOuts(trx: Transaction<Database>, address: string, opts: { reason: string; by: string; now: Date; runId: number }): Promise<number> {
  const r = await trx
    .updateTable('opt_outs')
    .set({ lifted_at: opts.now, lifted_by: opts.by, lift_reason: opts.reason, lift_run_id: opts.runId })
    .where('address', '=', address)
    .where('lifted_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
