/**
 * `audience ingest census FILE...`: stage every file (scan and type in Node, COPY, outside any
 * transaction, into an UNLOGGED scratch table), check the reject rate of each, then commit everything
 * in one transaction: rejects, the merge of each file in the order given, the --snapshot
 * deactivation, and the run's ledger row. A crash before that commit leaves only scratch tables
 * (dropped by the next run); after it, the work is done. Either way a re-run ends in the state of
 * one clean run.
 *
 * Several files: each is merged in turn (a later file's line for a DOT number wins over an earlier
 * file's); counts in the summary are summed over files. --snapshot needs exactly one full file.
 */
import { sql } from 'kysely';
import type { StageContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import { checkOutputTarget } from '../files/safe-output.ts';
import { finishRun, type RunHandle } from '../runs.ts';
import type { CensusFormatId } from './formats.ts';
import { openCensus, scanIntoCopy } from './load-file.ts';
import { supersededLines, supersedeInTyped } from './duplicates.ts';
import { firstLoad } from './first-load.ts';
import { deactivateAbsent, mergeCarriers, storeRejects } from './merge.ts';
import { writeRejectsCsv } from './rejects-file.ts';
import { RowTyper, TYPED_COLUMNS } from './row-typer.ts';
import { createTyped, dropOrphanScratch, dropScratch, typedTable } from './staging.ts';
import { ingestSummary, tooManyRejects, type CensusIngestSummary } from './summary.ts';

export interface CensusIngestOptions {
  files: string[];
  snapshot: boolean;
  rejectsFile?: string;
  /** --force: the rejects file may replace a regular file that exists. */
  force?: boolean;
  /** Overrides config census.maxRejectRate. */
  maxRejectRate?: number;
}

export type { CensusIngestSummary } from './summary.ts';

interface StagedFile {
  file: string;
  /** What carriers.source_file and census_rejects.file record: the base name, which carries FMCSA's date. */
  name: string;
  format: CensusFormatId;
  /** The typed scratch table. */
  typed: string;
  read: number;
  rejected: number;
}

export function validateIngestOptions(o: CensusIngestOptions): void {
  if (!o.files.length) throw new UsageError('give at least one census file: audience ingest census FILE...');
  if (o.snapshot && o.files.length !== 1)
    throw new UsageError(`--snapshot declares one file the full census, but ${o.files.length} files were given. Ingest the partial files without --snapshot, then the full one with it.`);
  if (o.maxRejectRate !== undefined && !(o.maxRejectRate >= 0 && o.maxRejectRate <= 1))
    throw new UsageError(`--max-reject-rate must be a share between 0 and 1 (e.g. 0.01 for 1%), not ${o.maxRejectRate}.`);
  if (o.rejectsFile) checkOutputTarget(o.rejectsFile, { force: Boolean(o.force), flag: '--rejects' });
}

export async function ingestCensus(ctx: StageContext, run: RunHandle, o: CensusIngestOptions): Promise<CensusIngestSummary> {
  const started = process.hrtime.bigint();
  const db = ctx.store.db;
  const maxRate = o.maxRejectRate ?? ctx.config.census.maxRejectRate;
  const dropped = await dropOrphanScratch(db);
  if (dropped.length) ctx.out.info(`dropped ${dropped.length} scratch table(s) left by an interrupted ingest`);

  const now = ctx.now();
  const year = yearIn(now, ctx.config.timezone);
  const pivot = ctx.config.census.twoDigitYearPivot ?? year % 100;
  const years = { pivot, year };
  const result =
    (o.files.length === 1 ? await firstLoad(ctx, run, { file: o.files[0]!, rejectsFile: o.rejectsFile, force: Boolean(o.force), maxRate, now, years, started }) : null) ??
    (await stageAndMerge(ctx, run, o, { maxRate, now, years, started }));
  if (o.rejectsFile) await writeRejectsCsv(db, run.id, o.rejectsFile, o.force);
  return result;
}

/** Every file into its typed scratch table, then one transaction merges them all (see the top). */
async function stageAndMerge(
  ctx: StageContext,
  run: RunHandle,
  o: CensusIngestOptions,
  p: { maxRate: number; now: Date; years: { pivot: number; year: number }; started: bigint },
): Promise<CensusIngestSummary> {
  const db = ctx.store.db;
  const { maxRate, now, started } = p;
  const staged: StagedFile[] = [];
  try {
    for (const [index, file] of o.files.entries()) staged.push(await stageFile(ctx, run.id, index, file, p.years));

    const tooBad = tooManyRejects(staged, maxRate, run.id, o.rejectsFile);
    if (tooBad) {
      // Kept for diagnosis even though nothing is merged.
      await db.transaction().execute(async (trx) => {
        for (const s of staged) await storeRejects(trx, run.id, s.name, s.typed);
      });
      if (o.rejectsFile) await writeRejectsCsv(db, run.id, o.rejectsFile, o.force);
      throw tooBad;
    }

    const totals = { inserted: 0, updated: 0, deactivated: 0 };
    const summary = () => ingestSummary({ files: o.files, rejectsFile: o.rejectsFile, runId: run.id, started }, staged, totals);
    ctx.out.info('merging into carriers');
    return await db.transaction().execute(async (trx) => {
      // Losing this commit in a server crash is harmless (the run is redone); waiting for its flush is not needed.
      await sql`set local synchronous_commit = off`.execute(trx);
      for (const s of staged) {
        const t0 = Date.now();
        await storeRejects(trx, run.id, s.name, s.typed);
        const m = await mergeCarriers(trx, { runId: run.id, file: s.name, format: s.format, typed: s.typed, now });
        totals.inserted += m.inserted;
        totals.updated += m.updated;
        ctx.out.info(`${s.name}: ${m.updated} carrier(s) updated, ${m.inserted} inserted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      if (o.snapshot) totals.deactivated = await deactivateAbsent(trx, { runId: run.id, typed: staged[0]!.typed, now });
      const s = summary();
      ctx.out.info(`merged in ${s.seconds} s since the ingest started`);
      await finishRun(trx, run, 'ok', s, null);
      return s;
    });
  } finally {
    for (const s of staged) await dropScratch(db, s.typed).catch(() => {});
  }
}

async function stageFile(ctx: StageContext, runId: number, index: number, file: string, years: { pivot: number; year: number }): Promise<StagedFile> {
  const opened = await openCensus(ctx, file);
  const { name, detected } = opened;
  const typed = typedTable(runId, index);
  const db = ctx.store.db;
  try {
    const writer = new RowTyper({ detected, config: ctx.config.census, ...years });
    // Created and loaded in one transaction, so COPY may write the rows frozen (see CopyTarget.freeze).
    const st = await ctx.store.transactionWithCopy(async (trx, copy) => {
      await createTyped(trx, typed);
      return scanIntoCopy(ctx, opened, writer, (chunks) => copy({ table: typed, columns: [...TYPED_COLUMNS], encoding: detected.format.encoding, freeze: true }, chunks));
    });
    const superseded = await supersededLines(db, { table: typed, file, dups: st.duplicateDots });
    await supersedeInTyped(db, typed, superseded);
    if (superseded.length) ctx.out.info(`${name}: ${superseded.length} line(s) superseded by a later line of the same DOT number`);
    // The merge joins it with carriers by DOT number (see mergeCarriers); statistics too, COPY leaves none.
    await sql`create index on ${sql.table(typed)} (dot_number)`.execute(db);
    await sql`analyze ${sql.table(typed)}`.execute(db);
    return { file, name, format: detected.format.id, typed, read: st.read, rejected: st.rejected + superseded.length };
  } catch (e) {
    opened.stream.destroy();
    await dropScratch(db, typed).catch(() => {});
    throw e;
  }
}

function yearIn(d: Date, timeZone: string): number {
  return Number(new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric' }).format(d));
}

