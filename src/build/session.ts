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
}
