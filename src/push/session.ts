/**
 * Session settings for the build's set-based selection, local to its transaction. JIT compiling
 * the wide MCS-150 slot expressions and the rules costs more than running them (measured: 16 s of
 * JIT for a 1.5 s query on 2M carriers), and the default 4 MB work_mem spills the million-row
 * joins and the DISTINCT ON sort to disk.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

export async function tuneSelection(trx: Transaction<Database>): Promise<void> {
  await sql`set local jit = off`.execute(trx);
  await sql`set local work_mem = '256MB'`.execute(trx);
  // The build probes big tables by key for a few thousand rows at a time (the ranking window's
  // carriers, each rule over the judged prefix). With the default random_page_cost of 4 the planner
  // prices 10,000 index probes above a scan of 1.5M rows, and scanned carrier_emails and emails
  // whole for every rule (measured: 100-300 ms each, against a few ms probed). The tables are hot in
  // memory or on SSD, where a random page costs about a sequential one.
  await sql`set local random_page_cost = 1.1`.execute(trx);
}

/**
 * Runs `fn` (one statement that gathers a whole segment audience) with nested loops off, then puts
 * the setting back for the rest of the transaction. The planner takes the segments' carrier rows
 * for a few hundred (it cannot see through the MCS-150 slot join) and probes carrier_emails' key
 * once per carrier: on the 2M-carrier bench census that is a million probes and more, where hash
 * joins cost a third less CPU. The rules after it probe by key on purpose, so the setting stays here.
 */
export async function hashJoined<T>(trx: Transaction<Database>, fn: () => Promise<T>): Promise<T> {
  const before = await sql<{ v: string }>`select current_setting('enable_nestloop') as v`.execute(trx);
  await sql`set local enable_nestloop = off`.execute(trx);
  // Not in a finally: after a failed statement the transaction accepts no more commands.
  const r = await fn();
  await sql`select set_config('enable_nestloop', ${before.rows[0]!.v}, true)`.execute(trx);
  return r;
}
