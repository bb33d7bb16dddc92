/**
 * `audience ingest census FILE...`: stage every file (scan + COPY + typing, outside any
 * transaction, into UNLOGGED scratch tables), check the reject rate of each, then commit everything
 * in one transaction: rejects, the merge of each file in the order given, the --snapshot
 * deactivation, and the run's ledger row. A crash before that commit leaves only scratch tables
 * (dropped by the next run); after it, the work is done. Either way a re-run ends in the state of
 * one clean run.
 *
 * Several files: each is merged in turn (a later file's line for a DOT number wins over an earlier
 * file's); counts in the summary are summed over files. --snapshot needs exactly one full file.
 */
import path from 'node:path';
import { sql } from 'kysely';
import type { StageContext } from '../context.ts';
import { InputError, UsageError } from '../errors.ts';
import { finishRun, type RunHandle } from '../runs.ts';
import { detectFormat, type CensusFormatId } from './formats.ts';
import { openCensusFile, splitHeader } from './input.ts';
import { deactivateAbsent, mergeCarriers, storeRejects } from './merge.ts';
import { writeRejectsCsv } from './rejects-file.ts';
import { CensusScanner, scanStream } from './scanner.ts';
import { createStaging, dateKeysTable, dropOrphanScratch, dropScratch, scratchTables, stagingColumns, type ScratchTables } from './staging.ts';
import { createDateKeys, typeStagedFile } from './typing.ts';

export interface CensusIngestOptions {
  files: string[];
  snapshot: boolean;
  rejectsFile?: string;
  /** Overrides config census.maxRejectRate. */
  maxRejectRate?: number;
}

/** The --json summary (contract keys first). */
export interface CensusIngestSummary {
  command: 'ingest census';
  files: string[];
  format: string;
  read: number;
  accepted: number;
  rejected: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deactivated: number;
  seconds: number;
  run: number;
  [key: string]: unknown;
}

interface StagedFile {
  file: string;
  /** What carriers.source_file and census_rejects.file record: the base name, which carries FMCSA's date. */
  name: string;
  format: CensusFormatId;
  tables: ScratchTables;
  read: number;
  rejected: number;
}

export function validateIngestOptions(o: CensusIngestOptions): void {
  if (!o.files.length) throw new UsageError('give at least one census file: audience ingest census FILE...');
  if (o.snapshot && o.files.length !== 1)
    throw new UsageError(`--snapshot declares one file the full census, but ${o.files.length} files were given. Ingest the partial files without --snapshot, then the full one with it.`);
  if (o.maxRejectRate !== undefined && !(o.maxRejectRate >= 0 && o.maxRejectRate <= 1))
    throw new UsageError(`--max-reject-rate must be a share between 0 and 1 (e.g. 0.01 for 1%), not ${o.maxRejectRate}.`);
}

export async function ingestCensus(ctx: StageContext, run: RunHandle, o: CensusIngestOptions): Promise<CensusIngestSummary> {
  const started = process.hrtime.bigint();
  const db = ctx.store.db;
  const maxRate = o.maxRejectRate ?? ctx.config.census.maxRejectRate;
  const dropped = await dropOrphanScratch(db);
  if (dropped.length) ctx.out.info(`dropped ${dropped.length} scratch table(s) left by an interrupted ingest`);

  const staged: StagedFile[] = [];
  const dates = dateKeysTable(run.id);
  try {
    const now = ctx.now();
    const year = yearIn(now, ctx.config.timezone);
    await createDateKeys(db, dates, ctx.config.census.twoDigitYearPivot ?? year % 100, year);
    for (const [index, file] of o.files.entries()) staged.push(await stageFile(ctx, run.id, index, file, dates));

    const tooBad = staged.filter((s) => s.read > 0 && s.rejected / s.read > maxRate);
    if (tooBad.length) {
      // Kept for diagnosis even though nothing is merged.
      await db.transaction().execute(async (trx) => {
        for (const s of staged) await storeRejects(trx, run.id, s.name, s.tables);
      });
      if (o.rejectsFile) await writeRejectsCsv(db, run.id, o.rejectsFile);
      const worst = tooBad.map((s) => `${s.file}: ${s.rejected} of ${s.read} rows (${pct(s.rejected / s.read)})`).join('; ');
      throw new InputError(
        `too many bad rows, nothing was merged: ${worst}, above --max-reject-rate ${maxRate} (${pct(maxRate)}). See the reasons with \`select line_no, reason from census_rejects where run_id = ${run.id}\`${o.rejectsFile ? ` or in ${o.rejectsFile}` : ''}; if the file is right, raise --max-reject-rate.`,
      );
    }

    const totals = { inserted: 0, updated: 0, deactivated: 0 };
    const summary = (): CensusIngestSummary => {
      const read = sum(staged.map((s) => s.read));
      const rejected = sum(staged.map((s) => s.rejected));
      const accepted = read - rejected;
      return {
        command: 'ingest census',
        files: o.files,
        format: [...new Set(staged.map((s) => s.format))].join(','),
        read,
        accepted,
        rejected,
        inserted: totals.inserted,
        updated: totals.updated,
        unchanged: accepted - totals.inserted - totals.updated,
        deactivated: totals.deactivated,
        seconds: Number((Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)),
        run: run.id,
        ...(o.rejectsFile ? { rejectsFile: o.rejectsFile } : {}),
      };
    };
    ctx.out.info('merging into carriers');
    const result = await db.transaction().execute(async (trx) => {
      // Losing this commit in a server crash is harmless (the run is redone); waiting for its flush is not needed.
      await sql`set local synchronous_commit = off`.execute(trx);
      for (const s of staged) {
        await storeRejects(trx, run.id, s.name, s.tables);
        const m = await mergeCarriers(trx, { runId: run.id, file: s.name, format: s.format, typed: s.tables.typed, now });
        totals.inserted += m.inserted;
        totals.updated += m.updated;
      }
      if (o.snapshot) totals.deactivated = await deactivateAbsent(trx, { runId: run.id, typed: staged[0]!.tables.typed, now });
      const s = summary();
      ctx.out.info(`merged in ${s.seconds} s since the ingest started`);
      await finishRun(trx, run, 'ok', s, null);
      return s;
    });
    if (o.rejectsFile) await writeRejectsCsv(db, run.id, o.rejectsFile);
    return result;
  } finally {
    for (const s of staged) await dropScratch(db, s.tables).catch(() => {});
    await dropScratch(db, dates).catch(() => {});
  }
}

async function stageFile(ctx: StageContext, runId: number, index: number, file: string, dates: string): Promise<StagedFile> {
  const name = path.basename(file);
  const { stream, entry, size, bytesRead } = await openCensusFile(file);
  const label = entry ? `${file} (${entry})` : file;
  const { header, rest } = await splitHeader(stream, label);
  const detected = detectFormat(header, label);
  const { format } = detected;
  const fieldCount = detected.header.length;
  ctx.out.info(`${name}: ${format.id}, ${fieldCount} columns, ${format.encoding}`);

  const tables = scratchTables(runId, index);
  const db = ctx.store.db;
  try {
    await createStaging(db, tables.staging, fieldCount);
    const scanner = new CensusScanner({ fieldCount, dotIndex: detected.positions.dot_number!, encoding: format.encoding, firstLine: 2 });
    const t0 = Date.now();
    const bar = size ? ctx.out.progress(`loading ${name}`, size) : null;
    const counted = async function* () {
      for await (const chunk of rest) {
        bar?.update(bytesRead());
        yield chunk;
      }
    };
    try {
      await ctx.store.copyCsv({ table: tables.staging, columns: stagingColumns(fieldCount), encoding: format.encoding }, scanStream(counted(), scanner));
    } finally {
      bar?.stop();
    }
    const st = scanner.stats;
    ctx.out.info(`${name}: ${st.read} rows read, ${st.rejected} rejected by the pre-check, loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Fresh statistics, or the planner takes the staging table for empty and joins row by row.
    await sql`analyze ${sql.table(tables.staging)}`.execute(db);
    await typeStagedFile(db, { staging: tables.staging, typed: tables.typed, dates, detected, config: ctx.config.census }, st.duplicateDots);
    const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(tables.typed)} where reject is not null`.execute(db);
    ctx.out.info(`${name}: typed in ${((Date.now() - t0) / 1000).toFixed(1)} s since the load started`);
    return { file, name, format: format.id, tables, read: st.read, rejected: st.rejected + Number(r.rows[0]?.n ?? 0) };
  } catch (e) {
    stream.destroy();
    await dropScratch(db, tables).catch(() => {});
    throw e;
  }
}

function yearIn(d: Date, timeZone: string): number {
  return Number(new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric' }).format(d));
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
