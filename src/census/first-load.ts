/**
 * The first load: one census file into an empty carriers table, COPied straight into carriers
 * inside one transaction with its rejects, the reject-rate check and the run's ledger row.
 *
 * Why a path of its own: the staged path writes every row twice (COPY into the typed scratch
 * table, then INSERT ... SELECT into carriers, one WAL record per row) and maintains carriers'
 * indexes on two million random inserts. Into an empty table there is nothing to compare with, so
 * COPY's multi-row insert writes each row once, and the indexes are dropped before and built after
 * (src/db/bulk-load.ts). The first load is the biggest one a user runs (the Company Census
 * File is 4.4M rows); later, smaller changes go through the staged merge.
 *
 * Same guarantees as the staged path: rejects (kept in a temp file meanwhile: carriers has no
 * column for them) are stored with line and reason; a duplicate DOT number keeps its last line; too
 * many bad rows roll everything back and keep only the rejects; a kill rolls back to an empty
 * carriers table, and the re-run loads the file again.
 *
 * When the ingest job normalizes next, each accepted row's e-mail field is normalized in the same
 * byte pass (src/email/census-email-pass.ts) and the rows are handed to the normalize stage once
 * this transaction commits; it then COPies them in instead of reading the carriers back.
 */
import { closeSync, createReadStream, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Transaction } from 'kysely';
import type { StageContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { dropIndexesUntilRebuilt, setDefaultsUntilRestored, truncateForFreeze } from '../db/bulk-load.ts';
import type { CopyEncoding, Store } from '../db/store.ts';
import type { InputError } from '../errors.ts';
import { CensusEmailPass } from '../email/census-email-pass.ts';
import { removeOrphanTempFiles } from '../email/row-spool.ts';
import { finishRun, type RunHandle } from '../runs.ts';
import { supersededLines, supersededReason, type Superseded } from './duplicates.ts';
import { fileDates, freshness, latestPlausibleDay, loadedData, olderFileError, recordLoad } from './freshness.ts';
import { snapshotRefusal } from './snapshot-guard.ts';
import { openCensus, scanIntoCopy } from './load-file.ts';
import { writeRejectsCsv } from './rejects-file.ts';
import { RowTyper } from './row-typer.ts';
import { CARRIER_VALUE_COLUMNS } from './typed-columns.ts';
import { ingestSummary, tooManyRejects, type CensusIngestSummary, type FileCounts } from './summary.ts';

export interface FirstLoadOptions {
  file: string;
  rejectsFile?: string | undefined;
  force?: boolean;
  maxRate: number;
  now: Date;
  years: { pivot: number; year: number };
  started: bigint;
  snapshot: boolean;
  forceSnapshot: boolean;
  allowOlder: boolean;
  /**
   * The normalize stage runs next (the ingest job without --no-normalize): make its rows in the
   * byte pass (src/email/census-email-pass.ts) and hand them over once the load commits.
   */
  prepareEmails?: boolean;
}

/**
 * The carriers columns a first-load row fills, in the order the scanner and RowTyper write them.
 * The bookkeeping columns equal on every row (format, file, run, time) come from defaults set for
 * the load: written out they were a third of what COPY had to parse.
 */
const COLUMNS = ['source_line', 'dot_number', ...CARRIER_VALUE_COLUMNS, 'row_hash', 'line_hash', 'deactivated_at'];

/** Thrown inside the transaction to roll it back; carries the user's error out. */
class TooManyRejects extends Error {
  constructor(
    readonly error: InputError,
    readonly encoding: CopyEncoding,
    readonly fileName: string,
    readonly superseded: Superseded[],
  ) {
    super(error.message);
  }
}

/** Loads the file when carriers is empty and returns the summary; null when carriers is not empty. */
export async function firstLoad(ctx: StageContext, run: RunHandle, o: FirstLoadOptions): Promise<CensusIngestSummary | null> {
  const store = ctx.store;
  removeOrphanTempFiles(REJECTS_PREFIX);
  const rejectsPath = path.join(os.tmpdir(), `${REJECTS_PREFIX}${process.pid}-${run.id}.csv`);
  let fd = -1;
  let emails: CensusEmailPass | null = null;
  let duplicates = 0;
  try {
    const summary = await store.transactionWithCopy(async (trx, copy) => {
      await sql`set local synchronous_commit = off`.execute(trx);
      // The ingest lock makes this the only writer of carriers: empty now means empty until commit.
      const some = await sql<{ some: boolean }>`select exists (select 1 from carriers) as some`.execute(trx);
      if (some.rows[0]?.some) return null;
      // Read before the file lands in carriers (the fallback of loadedData reads carriers).
      const notAfter = latestPlausibleDay(o.now, ctx.config.timezone);
      const loaded = await loadedData(trx, notAfter);
      const freeze = await truncateForFreeze(trx, 'carriers');
      const rebuild = await dropIndexesUntilRebuilt(trx, 'carriers');

      const opened = await openCensus(ctx, o.file);
      const { detected, name } = opened;
      const { encoding } = detected.format;
      const now = o.now.toISOString();
      const restoreDefaults = await setDefaultsUntilRestored(trx, 'carriers', {
        source_format: detected.format.id,
        source_file: name,
        first_run_id: run.id,
        changed_run_id: run.id,
        created_at: now,
        updated_at: now,
      });
      // deactivated_at: set for an inactive carrier (Company Census STATUS_CODE I), as the merge does.
      const writer = new RowTyper({ detected, config: ctx.config.census, ...o.years, tail: { active: Buffer.from(','), inactive: Buffer.from(`,${now}`) } });
      fd = openSync(rejectsPath, 'w');
      const rejectsFd = fd;
      const onReject = (line: number, reason: Buffer, raw: Buffer) => {
        writeSync(rejectsFd, Buffer.concat([Buffer.from(`${line},`), reason, COMMA, raw, LF]));
      };
      if (o.prepareEmails) emails = await CensusEmailPass.start(detected, ctx.config.email.sharedAddressThreshold, run.id, opened.size);
      const st = await scanIntoCopy(ctx, opened, writer, (chunks) => copy({ table: 'carriers', columns: COLUMNS, encoding, freeze }, chunks), {
        onReject,
        ...(emails ? { onAccepted: emails.onAccepted } : {}),
      });
      duplicates = st.duplicateDots.size;
      // The e-mail thread finishes its rows while the server does the rest of the load; on
      // PostgreSQL a second connection loads them meanwhile, to commit after this transaction.
      (emails as CensusEmailPass | null)?.end();
      (emails as CensusEmailPass | null)?.loadEarly(ctx, duplicates);
      const m = process.memoryUsage();
      ctx.out.debug(`${name}: scanned (heap ${(m.heapUsed / 1e6).toFixed(0)} of ${(m.heapTotal / 1e6).toFixed(0)} MB, buffers ${(m.arrayBuffers / 1e6).toFixed(0)} MB, rss ${(m.rss / 1e6).toFixed(0)} MB)`);
      closeSync(fd);
      fd = -1;
      await restoreDefaults();

      const superseded = await supersededLines(trx, { table: 'carriers', file: o.file, dups: st.duplicateDots });
      const counts: FileCounts = { file: o.file, format: detected.format.id, read: st.read, rejected: st.rejected + superseded.length };
      const tooBad = tooManyRejects([counts], o.maxRate, run.id, o.rejectsFile);
      if (tooBad) throw new TooManyRejects(tooBad, encoding, name, superseded);

      await storeLoadRejects(trx, copy, { runId: run.id, name, encoding, rejectsPath, superseded });
      if (superseded.length) {
        await sql`delete from carriers where source_line = any(${superseded.map((s) => s.line)}::bigint[])`.execute(trx);
        ctx.out.info(`${name}: ${superseded.length} line(s) superseded by a later line of the same DOT number`);
      }
      // The guards of the staged path (ingest.ts), on an empty carriers table: nothing to turn back
      // or deactivate, but a file older than what census_loads recorded, or a snapshot shorter than
      // the floor, is refused the same way. Thrown here, they roll the load back.
      const dates = await fileDates(trx, 'carriers', notAfter, sql`true`);
      const tolerance = ctx.config.census.olderToleranceDays;
      const { tooOld } = freshness(dates, loaded, tolerance);
      if (tooOld && !o.allowOlder) throw olderFileError(name, dates, loaded!, tolerance);
      const refusal = o.snapshot ? snapshotRefusal(name, st.read, { active: 0, wouldDeactivate: 0 }, ctx.config.census) : null;
      if (refusal && !o.forceSnapshot) throw refusal;
      if (refusal) ctx.out.warn(`--force-snapshot: ${name} has ${st.read} rows, fewer than census.snapshotMinRows ${ctx.config.census.snapshotMinRows}`);

      await recordLoad(trx, {
        runId: run.id,
        file: name,
        format: detected.format.id,
        content: opened.content(),
        read: st.read,
        accepted: counts.read - counts.rejected,
        dates,
        snapshot: o.snapshot,
        allowedOlder: tooOld,
        forcedSnapshot: Boolean(refusal),
        now: o.now,
      });
      const t0 = Date.now();
      ctx.out.info('building the indexes of carriers');
      // A bigger sort budget for the index builds, on a server only: with PGlite the memory is ours.
      if (store.kind === 'pg') await sql`set local maintenance_work_mem = '256MB'`.execute(trx);
      await rebuild();
      ctx.out.info(`built the indexes of carriers in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const summary = ingestSummary(
        { files: [o.file], rejectsFile: o.rejectsFile, runId: run.id, started: o.started },
        [counts],
        { inserted: st.accepted - superseded.length, updated: 0, deactivated: 0, keptNewer: 0, dataDate: dates.dataDate },
      );
      await finishRun(trx, run, 'ok', summary, null);
      ctx.out.info(`loaded into the empty carriers table in ${summary.seconds} s since the ingest started`);
      return summary;
    });
    // Committed: the e-mail rows made on the way are the normalize stage's now.
    if (summary && emails) {
      const pass: CensusEmailPass = emails;
      emails = null;
      const t0 = Date.now();
      const offered = await pass.offer(store, duplicates);
      ctx.out.debug(
        `e-mail thread: the loading thread waited ${(pass.waitedMs / 1000).toFixed(1)} s for it, the load ${((Date.now() - t0) / 1000).toFixed(1)} s after the commit; ${offered ? 'rows handed to the normalize' : `rows dropped${pass.failure ? ` (${pass.failure})` : ''}`}`,
      );
    }
    return summary;
  } catch (e) {
    if (!(e instanceof TooManyRejects)) throw e;
    // Kept for diagnosis even though nothing is merged.
    await store.transactionWithCopy((trx, copy) => storeLoadRejects(trx, copy, { runId: run.id, name: e.fileName, encoding: e.encoding, rejectsPath, superseded: e.superseded }));
    if (o.rejectsFile) await writeRejectsCsv(store.db, run.id, o.rejectsFile, o.force);
    throw e.error;
  } finally {
    await (emails as CensusEmailPass | null)?.dispose();
    if (fd >= 0) closeSync(fd);
    rmSync(rejectsPath, { force: true });
  }
}

/** The file's rejects and superseded lines into census_rejects, in line order (ids follow lines). */
async function storeLoadRejects(
  trx: Transaction<Database>,
  copy: Store['copy'],
  o: { runId: number; name: string; encoding: CopyEncoding; rejectsPath: string; superseded: Superseded[] },
): Promise<void> {
  await sql`create temp table first_load_rejects (line_no bigint, reason text, raw text) on commit drop`.execute(trx);
  await copy({ table: 'first_load_rejects', columns: ['line_no', 'reason', 'raw'], encoding: o.encoding }, wholeLines(createReadStream(o.rejectsPath)));
  const s = o.superseded;
  await sql`
    insert into census_rejects (run_id, file, line_no, reason, raw)
    select ${o.runId}, ${o.name}, line_no, reason, raw from (
      select line_no, reason, raw from first_load_rejects
      union all
      select * from unnest(${s.map((x) => x.line)}::bigint[], ${s.map(supersededReason)}::text[], ${s.map((x) => x.raw)}::text[])
    ) r order by line_no`.execute(trx);
}

/** Re-chunks a stream on line breaks: PGlite loads chunk groups as separate COPY statements. */
async function* wholeLines(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let carry: Buffer | null = null;
  for await (const chunk of source) {
    const data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const last = data.lastIndexOf(0x0a);
    if (last < 0) {
      carry = data;
      continue;
    }
    yield data.subarray(0, last + 1);
    carry = last + 1 < data.length ? data.subarray(last + 1) : null;
  }
  if (carry?.length) yield carry;
}

/** The rejects wait in `${REJECTS_PREFIX}${pid}-${run}.csv` until the load is decided. */
const REJECTS_PREFIX = 'audience-census-rejects-';
const COMMA = Buffer.from(',');
const LF = Buffer.from('\n');
