/**
 * Per-run scratch table of the census ingest: `census_typed_r<run>_<n>`, the COPY target of one
 * file (line number, DOT number, the typed carriers values, reject reason and raw text). UNLOGGED:
 * it is rebuilt from the file on any re-run, so writing it to the WAL would only slow the load. A
 * killed run leaves it behind; the next run drops it while it holds the ingest lock.
 */
import { sql, type Kysely } from 'kysely';
import type { StageContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { supersededLines, supersedeInTyped } from './duplicates.ts';
import type { CensusFormatId } from './formats.ts';
import { latestPlausibleDay } from './freshness.ts';
import { openCensus, scanIntoCopy } from './load-file.ts';
import { RefreshWriter, StoredRows } from './refresh-writer.ts';
import { RowTyper } from './row-typer.ts';
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

/** One census file in its typed scratch table (see stageFile). */
export interface StagedFile {
  file: string;
  /** What carriers.source_file and census_rejects.file record: the base name, which carries FMCSA's date. */
  name: string;
  format: CensusFormatId;
  /** The typed scratch table. */
  typed: string;
  read: number;
  rejected: number;
  content: { sha256: string; bytes: number };
  /**
   * Set when good rows equal to their carrier's were left out of the typed table (refresh-writer.ts):
   * how many, their newest dates (the typed table's rows hold the rest), and, the file listing the
   * carriers it left out too, what a snapshot of it deactivates.
   */
  leftOut: { rows: number; newestMcs150: string | null; newestAddDate: string | null; active: number; gone: number[]; mayEqual: number } | null;
}

/**
 * Scans a file into its typed scratch table (created and loaded in one transaction, so COPY may write
 * the rows frozen), marks the lines a later line of the same DOT number supersedes, and indexes it by
 * DOT number for the merge. With `leaveOutUnchanged` (one file merged into carriers that hold rows),
 * good rows whose digest equals their carrier's row_hash are left out (refresh-writer.ts); if a
 * DOT number left out turns up on another line too, the file is staged again whole, so the
 * superseding rules see every line as before.
 */
export async function stageFile(
  ctx: StageContext,
  o: { runId: number; index: number; file: string; years: { pivot: number; year: number }; now: Date; leaveOutUnchanged: boolean },
): Promise<StagedFile> {
  const db = ctx.store.db;
  const typed = typedTable(o.runId, o.index);
  const t0 = Date.now();
  const stored = o.leaveOutUnchanged ? await StoredRows.load(ctx.store) : null;
  if (stored) ctx.out.debug(`read the digests of ${stored.size} carriers in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (stored && !stored.size) return stageFile(ctx, { ...o, leaveOutUnchanged: false });
  const opened = await openCensus(ctx, o.file);
  const { name, detected } = opened;
  try {
    const typer = new RowTyper({ detected, config: ctx.config.census, ...o.years });
    const writer = stored ? new RefreshWriter(typer, stored, detected.positions.dot_number!, latestPlausibleDay(o.now, ctx.config.timezone)) : typer;
    const st = await ctx.store.transactionWithCopy(async (trx, copy) => {
      await createTyped(trx, typed);
      return scanIntoCopy(ctx, opened, writer, (chunks) => copy({ table: typed, columns: [...TYPED_COLUMNS], encoding: detected.format.encoding, freeze: true }, chunks));
    });
    if (writer instanceof RefreshWriter && st.duplicateDots.size && writer.leftOutAny(st.duplicateDots)) {
      ctx.out.info(`${name}: a DOT number on several lines had a line left out as unchanged: staging every line again`);
      await dropScratch(db, typed);
      return await stageFile(ctx, { ...o, leaveOutUnchanged: false });
    }
    const superseded = await supersededLines(db, { table: typed, file: o.file, dups: st.duplicateDots });
    await supersedeInTyped(db, typed, superseded);
    if (superseded.length) ctx.out.info(`${name}: ${superseded.length} line(s) superseded by a later line of the same DOT number`);
    let leftOut: StagedFile['leftOut'] = null;
    if (writer instanceof RefreshWriter) {
      leftOut = { rows: writer.leftOut, ...writer.leftOutDates(), active: stored!.active, gone: stored!.gone(), mayEqual: writer.mayEqual };
      ctx.out.info(`${name}: ${writer.leftOut} of ${st.accepted} good rows left out, the same as their carrier's (${writer.leftOutUntyped} untyped, by their line's digest)`);
    }
    // The merge joins it with carriers by DOT number (see mergeCarriers); statistics too, COPY leaves
    // none. Not for a refresh's few rows: its merge asks for nested loops probing carriers' key, and
    // the row count the index build records is all that choice needs (the ANALYZE took 0.4-0.6 s).
    await sql`create index on ${sql.table(typed)} (dot_number)`.execute(db);
    if (!leftOut) await sql`analyze ${sql.table(typed)}`.execute(db);
    ctx.out.debug(`staged ${name} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { file: o.file, name, format: detected.format.id, typed, read: st.read, rejected: st.rejected + superseded.length, content: opened.content(), leftOut };
  } catch (e) {
    opened.stream.destroy();
    await dropScratch(db, typed).catch(() => {});
    throw e;
  }
}
