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
 *
 * Two guards run after staging and before the transaction, so a refusal writes nothing: a file
 * older than the data loaded (freshness.ts, exit 2 unless --allow-older) and a snapshot that would
 * deactivate too much (snapshot-guard.ts, exit 3 unless --force-snapshot). The ingest lock makes
 * this run the only writer of carriers and census_loads, so what they counted still holds at commit.
 */
import { sql } from 'kysely';
import type { StageContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import { offerChangedCarriers, whileServerWorks, type ChangedCarriers } from '../email/changed-carriers.ts';
import { withdrawPreparedRows } from '../email/first-normalize.ts';
import { checkOutputTarget } from '../files/safe-output.ts';
import { finishRun, type RunHandle } from '../runs.ts';
import { firstLoad } from './first-load.ts';
import { fileDates, freshness, latestPlausibleDay, loadedData, olderFileError, olderSnapshotError, recordLoad, withLeftOut, type FileDates } from './freshness.ts';
import { deactivateAbsent, mergeCarriers, storeRejects } from './merge.ts';
import { snapshotImpact, snapshotRefusal } from './snapshot-guard.ts';
import { writeRejectsCsv } from './rejects-file.ts';
import { dropOrphanScratch, dropScratch, stageFile, type StagedFile } from './staging.ts';
import { ingestSummary, tooManyRejects, type CensusIngestSummary } from './summary.ts';

export interface CensusIngestOptions {
  files: string[];
  snapshot: boolean;
  rejectsFile?: string;
  /** --force: the rejects file may replace a regular file that exists. */
  force?: boolean;
  /** Overrides config census.maxRejectRate. */
  maxRejectRate?: number;
  /** --allow-older: merge a file older than the data loaded (rows never turn a newer MCS-150 filing back). */
  allowOlder?: boolean;
  /** --force-snapshot: deactivate what the snapshot does not list even past the snapshot guard's limits. */
  forceSnapshot?: boolean;
  /** The ingest job normalizes next: a first load makes the e-mail rows in its byte pass (first-load.ts). */
  normalizeNext?: boolean;
}

export type { CensusIngestSummary } from './summary.ts';

export function validateIngestOptions(o: CensusIngestOptions): void {
  if (!o.files.length) throw new UsageError('give at least one census file: audience ingest census FILE...');
  if (o.snapshot && o.files.length !== 1)
    throw new UsageError(`--snapshot declares one file the full census, but ${o.files.length} files were given. Ingest the partial files without --snapshot, then the full one with it.`);
  if (o.snapshot && o.allowOlder) throw olderSnapshotError();
  if (o.forceSnapshot && !o.snapshot) throw new UsageError('--force-snapshot only means something with --snapshot: it lets a snapshot deactivate more than census.snapshotMaxDeactivateShare.');
  if (o.maxRejectRate !== undefined && !(o.maxRejectRate >= 0 && o.maxRejectRate <= 1))
    throw new UsageError(`--max-reject-rate must be a share between 0 and 1 (e.g. 0.01 for 1%), not ${o.maxRejectRate}.`);
  if (o.rejectsFile) checkOutputTarget(o.rejectsFile, { force: Boolean(o.force), flag: '--rejects' });
}

export async function ingestCensus(ctx: StageContext, run: RunHandle, o: CensusIngestOptions): Promise<CensusIngestSummary> {
  const started = process.hrtime.bigint();
  const db = ctx.store.db;
  const maxRate = o.maxRejectRate ?? ctx.config.census.maxRejectRate;
  // E-mail rows an earlier first load offered are stale now (and their early load holds the e-mail tables).
  await withdrawPreparedRows(ctx.store);
  const dropped = await dropOrphanScratch(db);
  if (dropped.length) ctx.out.info(`dropped ${dropped.length} scratch table(s) left by an interrupted ingest`);

  const now = ctx.now();
  const year = yearIn(now, ctx.config.timezone);
  const pivot = ctx.config.census.twoDigitYearPivot ?? year % 100;
  const years = { pivot, year };
  const result =
    (o.files.length === 1
      ? await firstLoad(ctx, run, {
          file: o.files[0]!,
          rejectsFile: o.rejectsFile,
          force: Boolean(o.force),
          maxRate,
          now,
          years,
          started,
          snapshot: o.snapshot,
          forceSnapshot: Boolean(o.forceSnapshot),
          allowOlder: Boolean(o.allowOlder),
          prepareEmails: Boolean(o.normalizeNext),
        })
      : null) ??
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
    // Rows equal to the stored ones are left out only when one file is merged: a second file is
    // compared with what the first one leaves, not with what is stored now.
    const leaveOutUnchanged = o.files.length === 1;
    for (const [index, file] of o.files.entries()) staged.push(await stageFile(ctx, { runId: run.id, index, file, years: p.years, now, leaveOutUnchanged }));

    const tooBad = tooManyRejects(staged, maxRate, run.id, o.rejectsFile);
    if (tooBad) {
      // Kept for diagnosis even though nothing is merged.
      await db.transaction().execute(async (trx) => {
        for (const s of staged) await storeRejects(trx, run.id, s.name, s.typed);
      });
      if (o.rejectsFile) await writeRejectsCsv(db, run.id, o.rejectsFile, o.force);
      throw tooBad;
    }

    const fresh = await judgeFreshness(ctx, run, staged, Boolean(o.allowOlder), now);
    const forcedSnapshot = o.snapshot ? await guardSnapshot(ctx, staged[0]!, Boolean(o.forceSnapshot)) : false;

    const totals = { inserted: 0, updated: 0, deactivated: 0, keptNewer: 0, dataDate: newest(fresh.map((f) => f.dates.dataDate)) };
    const summary = () => ingestSummary({ files: o.files, rejectsFile: o.rejectsFile, runId: run.id, started }, staged, totals);
    ctx.out.info('merging into carriers');
    let changed: ChangedCarriers | null = null;
    const merged = await db.transaction().execute(async (trx) => {
      // Losing this commit in a server crash is harmless (the run is redone); waiting for its flush is not needed.
      await sql`set local synchronous_commit = off`.execute(trx);
      for (const [i, s] of staged.entries()) {
        const t0 = Date.now();
        const { dates, older, allowedOlder } = fresh[i]!;
        await storeRejects(trx, run.id, s.name, s.typed);
        const m = await mergeCarriers(trx, { runId: run.id, file: s.name, format: s.format, typed: s.typed, now, older, leftOut: s.leftOut?.rows ?? null, mayEqual: s.leftOut?.mayEqual });
        totals.inserted += m.inserted;
        totals.updated += m.updated;
        totals.keptNewer += m.keptNewer;
        // A refresh names the carriers whose e-mail field it changed, for the normalize next.
        if (o.normalizeNext && staged.length === 1 && m.fieldChanged) changed = { censusRunId: run.id, carriers: m.fieldChanged };
        await recordLoad(trx, {
          runId: run.id,
          file: s.name,
          format: s.format,
          content: s.content,
          read: s.read,
          accepted: s.read - s.rejected,
          dates,
          snapshot: o.snapshot,
          allowedOlder,
          forcedSnapshot,
          now,
        });
        const kept = m.keptNewer ? `, ${m.keptNewer} kept (stored MCS-150 date as new or newer)` : '';
        ctx.out.info(`${s.name}: ${m.updated} carrier(s) updated, ${m.inserted} inserted${kept} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      if (o.snapshot) totals.deactivated = await whileServerWorks(deactivateAbsent(trx, { runId: run.id, typed: staged[0]!.typed, gone: staged[0]!.leftOut?.gone ?? null, now }), changed);
      const s = summary();
      ctx.out.info(`merged in ${s.seconds} s since the ingest started`);
      await finishRun(trx, run, 'ok', s, null);
      return s;
    });
    if (changed) offerChangedCarriers(ctx.store, changed);
    return merged;
  } finally {
    for (const s of staged) await dropScratch(db, s.typed).catch(() => {});
  }
}

/**
 * Each file's data date against what is loaded (and the files before it in this run): one older by
 * more than the tolerance is refused unless --allow-older; any older one is merged carefully.
 * Reads only; see freshness.ts.
 */
async function judgeFreshness(ctx: StageContext, run: RunHandle, staged: StagedFile[], allowOlder: boolean, now: Date): Promise<{ dates: FileDates; older: boolean; allowedOlder: boolean }[]> {
  const notAfter = latestPlausibleDay(now, ctx.config.timezone);
  let loaded = await loadedData(ctx.store.db, notAfter);
  const out: { dates: FileDates; older: boolean; allowedOlder: boolean }[] = [];
  const tolerance = ctx.config.census.olderToleranceDays;
  for (const s of staged) {
    const dates = withLeftOut(await fileDates(ctx.store.db, s.typed, notAfter), s.leftOut);
    const { older, tooOld } = freshness(dates, loaded, tolerance);
    if (tooOld && !allowOlder) throw olderFileError(s.name, dates, loaded!, tolerance);
    if (older) ctx.out.warn(`${s.name} is older than the data loaded (${dates.dataDate} < ${loaded!.dataDate}): merging only the carriers it adds or whose MCS-150 filing it has newer`);
    else if (dates.dataDate && (!loaded || dates.dataDate > loaded.dataDate)) loaded = { dataDate: dates.dataDate, file: s.name, runId: run.id };
    out.push({ dates, older, allowedOlder: tooOld });
  }
  return out;
}

/** Refuses a snapshot past the guard's limits (nothing written yet); returns whether --force-snapshot overrode it. */
async function guardSnapshot(ctx: StageContext, s: StagedFile, force: boolean): Promise<boolean> {
  const impact = await snapshotImpact(ctx.store.db, s.typed, s.leftOut);
  const refusal = snapshotRefusal(s.name, s.read, impact, ctx.config.census);
  if (!refusal) return false;
  if (!force) throw refusal;
  const share = impact.active ? ((impact.wouldDeactivate / impact.active) * 100).toFixed(1) : '0.0';
  ctx.out.warn(`--force-snapshot: ${s.name} (${s.read} rows) deactivates ${impact.wouldDeactivate} of ${impact.active} active carriers (${share}%), past the snapshot guard`);
  return true;
}

const newest = (dates: (string | null)[]): string | null => dates.reduce<string | null>((a, d) => (d && (!a || d > a) ? d : a), null);

function yearIn(d: Date, timeZone: string): number {
  return Number(new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric' }).format(d));
}

