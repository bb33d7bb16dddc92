/**
 * Per-run scratch tables of the census ingest: `census_stage_r<run>_<n>` (the COPY target: line
 * number, reject reason and raw text, then every field of the file as text) and
 * `census_typed_r<run>_<n>` (the typed rows). UNLOGGED: they are rebuilt from the file on any
 * re-run, so writing them to the WAL would only slow the load. A killed run leaves them behind;
 * the next run drops them while it holds the ingest lock.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

const SCRATCH_RE = '^census_(stage|typed|dates)_r[0-9]+_[0-9]+$';

export interface ScratchTables {
  staging: string;
  typed: string;
}

export function scratchTables(runId: number, fileIndex: number): ScratchTables {
  return { staging: `census_stage_r${runId}_${fileIndex}`, typed: `census_typed_r${runId}_${fileIndex}` };
}

/** The run's date lookup table (see createDateKeys in typing.ts). */
export function dateKeysTable(runId: number): string {
  return `census_dates_r${runId}_0`;
}

export function stagingColumns(fieldCount: number): string[] {
  return ['line_no', 'reject', 'raw', ...Array.from({ length: fieldCount }, (_, i) => `f${i + 1}`)];
}

export async function createStaging(db: Kysely<Database>, table: string, fieldCount: number): Promise<void> {
  const fields = Array.from({ length: fieldCount }, (_, i) => `f${i + 1} text`).join(', ');
  await sql.raw(`create unlogged table ${table} (line_no bigint not null, reject text, raw text, ${fields})`).execute(db);
}

export async function dropScratch(db: Kysely<Database>, tables: ScratchTables | string): Promise<void> {
  await sql.raw(`drop table if exists ${typeof tables === 'string' ? tables : `${tables.typed}, ${tables.staging}`}`).execute(db);
}

/** Drops the scratch tables of runs that crashed or were killed. Call it holding the ingest lock. */
export async function dropOrphanScratch(db: Kysely<Database>): Promise<string[]> {
  const r = await sql<{ name: string }>`
    select tablename as name from pg_tables
     where schemaname = current_schema() and tablename ~ ${SCRATCH_RE}`.execute(db);
  for (const { name } of r.rows) await sql.raw(`drop table if exists ${name}`).execute(db);
  return r.rows.map((x) => x.name);
}
