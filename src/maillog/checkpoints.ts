/**
 * Checkpoints of the scrub: per file (first-line hash -> byte offset, line count) and the linker's
 * open messages. Both are only ever written inside the transaction that stores the events they
 * cover (write-batch.ts), so a crash leaves them consistent with the data.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { FileIdentity, LogFile } from './files.ts';
import type { LinkerState } from './linker.ts';

type Executor = Kysely<Database> | Transaction<Database>;

export interface FileCheckpoint {
  id: number;
  byteOffset: number;
  lines: number;
  /** The inode and path it had when last read (a rename or a compression shows here). */
  inode: number;
  path: string;
  known: boolean;
}

/** The checkpoint of a file, creating it at offset 0 the first time we meet the file. */
export async function fileCheckpoint(db: Executor, file: LogFile, id: FileIdentity, at: Date): Promise<FileCheckpoint> {
  const row = await db
    .selectFrom('maillog_files')
    .select(['id', 'byte_offset', 'lines', 'inode', 'path'])
    .where('first_line_hash', '=', id.firstLineHash)
    .executeTakeFirst();
  if (row) return { id: row.id, byteOffset: row.byte_offset, lines: row.lines, inode: row.inode, path: row.path, known: true };
  // An empty checkpoint stores nothing: creating it outside the batch transaction is harmless, and
  // `on conflict` covers a second file with the same first line in the same run (mail.info copies).
  const created = await db
    .insertInto('maillog_files')
    .values({ first_line_hash: id.firstLineHash, inode: id.inode, path: file.path, gz: file.gz, first_seen_at: at, updated_at: at })
    .onConflict((oc) => oc.column('first_line_hash').doUpdateSet({ updated_at: at }))
    .returning(['id', 'byte_offset', 'lines', 'inode', 'path'])
    .executeTakeFirstOrThrow();
  return { id: created.id, byteOffset: created.byte_offset, lines: created.lines, inode: created.inode, path: created.path, known: false };
}

export async function advanceFile(trx: Transaction<Database>, fileId: number, file: LogFile, id: FileIdentity, byteOffset: number, lines: number, at: Date): Promise<void> {
  await trx
    .updateTable('maillog_files')
    .set({ byte_offset: byteOffset, lines, inode: id.inode, path: file.path, gz: file.gz, updated_at: at })
    .where('id', '=', fileId)
    .execute();
}

export async function loadLinkerState(db: Executor): Promise<LinkerState | null> {
  const row = await db.selectFrom('maillog_linker_state').select('state').where('id', '=', 1).executeTakeFirst();
  return row ? (JSON.parse(row.state) as LinkerState) : null;
}

/** `json` is JSON.stringify(linker.serialize()), taken when the batch was cut (the linker moves on while this writes). */
export async function saveLinkerState(trx: Transaction<Database>, json: string, at: Date): Promise<void> {
  // The state (megabytes on a bulk night, saved with every batch) is sent once: the update takes
  // the row proposed for insertion rather than a second copy of the same parameter.
  await trx
    .insertInto('maillog_linker_state')
    .values({ id: 1, state: json, updated_at: at })
    .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ state: eb.ref('excluded.state'), updated_at: eb.ref('excluded.updated_at') })))
    .execute();
}
