/**
 * Per-run scratch table of the census ingest: `census_typed_r<run>_<n>`, the COPY target of one
 * file (line number, DOT number, the typed carriers values, reject reason and raw text). UNLOGGED:
 * it is rebuilt from the file on any re-run, so writing it to the WAL would only slow the load. A
 * killed run leaves it behind; the next run drops it while it holds the ingest lock.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { TYPED_COLUMNS, typedColumnType } from './typed-columns.ts';

// Earlier versions also staged raw text (stage) and a date lookup (dates): still dropped if left over.
const SCRATCH_RE = '^census_(stage|typed|dates)_r[0-9]+_[0-9]+$';

export function typedTable(runId: number, fileIndex: number): string {
  return `census_typed_r${runId}_${fileIndex}`;
}

export async function createTyped(db: Kysely<Database>, table: string): Promise<void> {
  const columns = TYPED_COLUMNS.map((c) => `${c} ${typedColumnType(c)}${c === 'line_no' ? ' not null' : ''}`).join(', ');
  await sql.raw(`create unlogged table ${table} (${columns})`).execute(db);
}

export async function dropScratch(db: Kysely<Database>, table: string): Promise<void> {
  await sql.raw(`drop table if exists ${table}`).execute(db);
}

/** Drops the scratch tables of runs that crashed or were killed. Call it holding the ingest lock. */
export async function dropOrphanScratch(db: Kysely<Database>): Promise<string[]> {
  const r = await sql<{ name: string }>`
    select tablename as name from pg_tables
     where schemaname = current_schema() and tablename ~ ${SCRATCH_RE}`.execute(db);
  for (const { name } of r.rows) await sql.raw(`drop table if exists ${name}`).execute(db);
  return r.rows.map((x) => x.name);
}
