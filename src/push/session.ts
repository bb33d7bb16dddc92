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
