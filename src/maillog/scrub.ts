/**
 * `audience scrub-bounces`: read new mail.log lines since the checkpoints, store outcomes, then
 * apply the suppression and hold policies and recompute daily health.
 *
 * Each batch (config batchLines, cut at a chunk boundary) is one transaction: events, sent
 * counts, last success per domain, DKIM counters, the file's offset and the linker's open messages. A kill loses at most
 * the batch in flight, and the next run redoes it. The policies then run over all stored events
 * (two transactions side by side) and the run row is closed, so a re-run after a crash anywhere
 * in between reaches the same verdicts.
 *
 * Any bytes may be in a log: a line is linked, or skipped with a reason (parse.ts SkipReason),
 * counted per reason in the summary (and so in the run row), and with --rejects written to that
 * file with its line number. A file none of whose new lines is a syslog line, but some of which
 * are binary, malformed or too long, is not a mail log: the run fails on it with an InputError and
 * stores nothing of it (its batches wait until a syslog line shows the file is a log). A damaged
 * .gz rotation is read up to the damage with a warning.
 */
import { sql, type Transaction } from 'kysely';
import type { StageContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import type { OutputFile } from '../files/safe-output.ts';
import { finishRun, type RunHandle } from '../runs.ts';
import { advanceFile, fileCheckpoint, loadLinkerState, saveLinkerState } from './checkpoints.ts';
import type { BounceClass } from './classify.ts';
import { DamagedLogError, discoverRotations, explicitFiles, identify, type FileIdentity, type LogFile } from './files.ts';
import { recomputeStaleHealth } from './health.ts';
import { activeHolds, applyDkimHold, applyProviderHolds } from './holds.ts';
import { emptyCounts, Linker, type LineCounts } from './linker.ts';
import { emptyParseCounts, type ParseCounts } from './records.ts';
import { ParseWorker } from './parse-worker.ts';
import { buildSummary, type FileReport, type FileStatus, type ScrubSummary } from './scrub-summary.ts';
import { notALog, rejectRows, skippedWarning, syslogLines } from './skipped-lines.ts';
import { applySuppressionPolicies } from './suppressions.ts';
import { standingSuppressions, type SuppressionInputs } from './suppressions-current.ts';
import { yearReference, ZoneClock } from './timestamp.ts';
import { addSent, addSentDomains, addSentProviders, EventRows, foldSentDomains, insertEvents, touchDays } from './write-batch.ts';

export type { FileReport, FileStatus, ScrubSummary };

/** Batches cut and not yet committed, at most (see settle in scrubBounces). */
const WRITE_QUEUE = 2;

export interface ScrubOptions {
  /** Test seam: called after each committed batch (a throw here simulates a kill). */
  afterBatch?: (batchNo: number) => void | Promise<void>;
  /** Filled with where the time went (the bench's breakdown); milliseconds. */
  profile?: ScrubProfile;
  /** --rejects: every skipped line (file, line, reason, raw) goes here; committed with the run. */
  rejects?: OutputFile | null;
  /** This run's (recorded in its args): when they match the previous ok run's and nothing was stored, the suppressions stand. */
  suppressionInputs?: SuppressionInputs;
}

export interface ScrubProfile {
  /** Waiting for the parse worker's next chunk (or for a read, while this thread parses until the worker is ready). */
  readMs: number;
  /** Linking the parsed records on this thread (and parsing the chunks read before the worker was ready). */
  linkMs: number;
  /** Cutting batches: taking the linker's output and serializing its open messages. */
  cutMs: number;
  /** Batch transactions from start to commit (they overlap the reading of the next batch). */
  writeMs: number;
  /** Of which the reader waited for a previous batch to commit (the part not overlapped). */
  writeWaitMs: number;
  /** The final transaction: suppression and hold policies, health, run row. */
  policyMs: number;
  batches: number;
  stringPathLines: number;
  /** Chunks parsed by the main thread (until the worker was ready) and by the worker. */
  chunksMain: number;
  chunksWorker: number;
}

/**
 * The batch and policy transactions commit without waiting for their WAL to reach the disk: the
 * run's last transaction (the run row closed ok) waits for its own flush, and the log is written
 * in order, so everything before it is on disk when a run is reported done. What an operating
 * system crash can take is the last batches of a run that never finished, each with the
 * checkpoint that covers it: the next run reads those lines again, never twice. A killed process
 * loses nothing more than before (the server has committed).
 */
async function noFlushWait(trx: Transaction<Database>): Promise<void> {
  await sql`set local synchronous_commit = off`.execute(trx);
}

export function emptyProfile(): ScrubProfile {
  return { readMs: 0, linkMs: 0, cutMs: 0, writeMs: 0, writeWaitMs: 0, policyMs: 0, batches: 0, stringPathLines: 0, chunksMain: 0, chunksWorker: 0 };
}

function addCounts<C extends LineCounts | ParseCounts>(into: C, c: C): void {
  for (const k of Object.keys(c) as (keyof C)[]) (into[k] as number) += c[k] as number;
}

/** Which files a run reads: the explicit ones in the order given, else the configured log and its rotations. */
export function scrubFiles(ctx: StageContext, files?: readonly string[]): LogFile[] {
  return files?.length ? explicitFiles(files) : discoverRotations(ctx.config.maillog.path);
}

export async function scrubBounces(ctx: StageContext, run: RunHandle, files: readonly LogFile[], opts: ScrubOptions = {}): Promise<ScrubSummary> {
  const cfg = ctx.config.maillog;
  const rejects = opts.rejects ?? null;
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    ctx.out.warn(m);
  };
  {
    const db = ctx.store.db;
    await rejects?.write('file,line,reason,raw\n');
    // Each batch's events are encoded as they come, for the file being read (set at each file's start).
    let fileId = 0;
    // Made (its saved state read and parsed) at the first file with something to read or record:
    // an unchanged re-run never needs it.
    let linker = null as Linker<EventRows> | null;
    const useLinker = async (): Promise<Linker<EventRows>> =>
      (linker ??= new Linker(
        {
          zone: new ZoneClock(ctx.config.timezone),
          campaignClients: new Map(Object.entries(cfg.campaignClients)),
          ownDomains: new Set(cfg.ownDomains.map((d) => d.toLowerCase())),
          maxOpen: cfg.maxOpenMessages,
          maxOpenAgeMs: cfg.maxOpenAgeDays * 86_400_000,
        },
        await loadLinkerState(db),
        () => new EventRows(run.id, fileId),
      ));
    let committedBatches = 0;
    const totals = emptyCounts();
    const byClass: Partial<Record<BounceClass, number>> = {};
    const dkim = { campaignMessages: 0, signed: 0, byStream: new Map<string, { campaignMessages: number; signed: number }>() };
    const reports: FileReport[] = [];
    let linesRead = 0;
    let batchNo = 0;
    const prof = opts.profile ?? emptyProfile();
    // Batches commit one after the other, in file order (each chained on the one before, so a
    // failed batch stops every later one). The reader goes on while the database writes and only
    // waits when WRITE_QUEUE batches are not yet committed: memory stays at a few batches.
    let chain: Promise<void> = Promise.resolve();
    const uncommitted: Promise<void>[] = [];
    /** Batches handed to the chain whose transaction has not ended yet. */
    let writing = 0;
    // Started at the first file with something to read (an unchanged re-run needs no thread).
    let parser: ParseWorker | null = null;
    // Earlier runs' logged successes move into maillog_sent_domains on a connection of their own
    // while this run reads (write-batch.ts): the policies read both tables, and the move is off
    // the run's serial tail. Awaited before the policies; a failure surfaces there. Started with
    // the first file that has something to read: the move only compacts (every reader takes both
    // tables), so a run with nothing to read leaves it to the next run that reads, where it
    // overlaps the parsing, instead of making it the whole of an unchanged re-run (the first
    // re-run after a bulk night moved ~50k rows: 0.2-0.3 s of a 0.3 s command).
    let folded: Promise<void> | null = null;
    let foldInFlight = false;
    const startFold = () => {
      if (folded) return;
      foldInFlight = true;
      folded = foldSentDomains(db);
      folded.then(
        () => (foldInFlight = false),
        () => (foldInFlight = false),
      );
    };
    /** Waits until at most `atMost` batches are not yet committed; rethrows a batch's failure. */
    const settle = async (atMost = 0) => {
      if (uncommitted.length <= atMost) return;
      const w0 = performance.now();
      try {
        while (uncommitted.length > atMost) await uncommitted.shift();
      } finally {
        prof.writeWaitMs += performance.now() - w0;
      }
    };

    try {
      for (const file of files) {
        let id: FileIdentity | null;
        try {
          id = await identify(file);
        } catch (e) {
          if (!(e instanceof DamagedLogError)) throw e;
          warn(e.message);
          reports.push({ path: file.path, status: 'damaged', fromOffset: 0, toOffset: 0, newLines: 0 });
          continue;
        }
        if (!id) {
          reports.push({ path: file.path, status: 'empty', fromOffset: 0, toOffset: 0, newLines: 0 });
          continue;
        }
        const cp = await fileCheckpoint(db, file, id, ctx.now());
        fileId = cp.id;
        if (linker) linker.events.fileId = cp.id;
        let from = cp.byteOffset;
        let lineNo = cp.lines;
        let status: FileStatus = !cp.known || (from === 0 && lineNo === 0) ? 'new' : cp.path !== file.path || cp.inode !== id.inode ? 'rotated' : 'appended';
        if (!file.gz && id.size < from) {
          // Same first line, shorter than what we read: rewritten in place. Read it all again
          // rather than skip lines; the old generation's events stay as they were.
          ctx.out.warn(`${file.path} is shorter (${id.size} bytes) than its checkpoint (${from}): it was rewritten; reading it from the start`);
          status = 'rewritten';
          from = 0;
          lineNo = 0;
        }
        const report: FileReport = { path: file.path, status, fromOffset: from, toOffset: from, newLines: 0 };
        let pending = 0;
        let offset = from;
        // This run's lines of the file by parse verdict. Until one is a syslog line (or an earlier
        // run read some), no batch is cut: a file that is not a log must leave nothing behind.
        const fileCounts = emptyParseCounts();
        let isLog = from > 0;

        // Batches commit while the next ones are read and linked: the database (another process
        // with pg) works in parallel with the parsing.
        const flush = async () => {
          const linker = await useLinker();
          const t0 = performance.now();
          const batch = linker.takeBatch();
          const state = JSON.stringify(linker.serialize());
          const at = { offset, lineNo };
          prof.cutMs += performance.now() - t0;
          pending = 0;
          await settle(WRITE_QUEUE - 1);
          const days = new Set(batch.events.days);
          for (const s of batch.sent) days.add(s.day);
          const write = async () => {
            const w0 = performance.now();
            // COPY on the transaction's own connection: events and sent domains commit with the checkpoint.
            await ctx.store.transactionWithCopy(async (trx, copy) => {
              await noFlushWait(trx);
              await insertEvents(copy, batch.events);
              await addSent(trx, batch.sent);
              await addSentProviders(trx, batch.sentProviders);
              await addSentDomains(copy, batch.sentDomains);
              await touchDays(trx, days, batch.daily);
              await advanceFile(trx, cp.id, file, id, at.offset, at.lineNo, ctx.now());
              await saveLinkerState(trx, state, ctx.now());
            });
            prof.writeMs += performance.now() - w0;
            prof.batches++;
            committedBatches++;
            addCounts(totals, batch.counts);
            for (const [cls, n] of Object.entries(batch.events.byClass) as [BounceClass, number][]) byClass[cls] = (byClass[cls] ?? 0) + n;
            for (const c of batch.daily.values()) {
              dkim.campaignMessages += c.campaignMessages;
              dkim.signed += c.dkimSigned;
              for (const [stream, n] of c.byStream) {
                const t = dkim.byStream.get(stream) ?? { campaignMessages: 0, signed: 0 };
                t.campaignMessages += n.campaignMessages;
                t.signed += n.dkimSigned;
                dkim.byStream.set(stream, t);
              }
            }
            await opts.afterBatch?.(++batchNo);
          };
          writing++;
          chain = chain.then(write).finally(() => writing--);
          uncommitted.push(chain);
          // Handled here so a failure while the reader is busy is not an unhandled rejection; it is
          // rethrown by the next settle().
          chain.catch(() => {});
        };

        // Traditional timestamps are dated by the file's mtime, never later than the run's clock.
        const yearRef = yearReference(id.mtime, ctx.now());
        // Chunks of about a batch (1 MiB at most): a batch can only end where a chunk ends.
        const chunkBytes = Math.min(1 << 20, Math.max(4096, cfg.batchLines * 64));
        try {
          // Nothing can have been added to a plain file that is not longer than its checkpoint.
          const unchanged = !file.gz && id.size <= from;
          // The thread starts before the linker's saved state is read (a query and megabytes of
          // JSON on a bulk night): it is ready sooner, and this thread parses fewer chunks itself.
          parser ??= unchanged ? null : new ParseWorker({ timeZone: ctx.config.timezone, keepSkipped: rejects !== null }, { onDamage: warn });
          if (!unchanged) startFold();
          const reader = unchanged ? null : await useLinker();
          let r0 = performance.now();
          for await (const chunk of !reader || !parser ? [] : parser.parse(file, from, lineNo + 1, yearRef, chunkBytes)) {
            const l0 = performance.now();
            prof.readMs += l0 - r0;
            addCounts(fileCounts, chunk.counts);
            isLog ||= syslogLines(chunk.counts) > 0;
            if (rejects && chunk.skipped.length) await rejects.write(rejectRows(file.path, chunk.skipped));
            const n = reader!.apply(chunk);
            lineNo += n;
            pending += n;
            report.newLines += n;
            offset = chunk.endOffset;
            prof.linkMs += performance.now() - l0;
            if (pending >= cfg.batchLines && isLog) await flush();
            // The database work in flight (batches, the fold) moves on only when this thread gives the
            // event loop a turn: the next chunk, when the worker is ahead, arrives as a resolved
            // promise, and a thread that only ever awaits those never reads its sockets. Without
            // this turn a batch's COPY and statements crept along between the rare moments the
            // worker fell behind, the reader then stalled on a full write queue, and the last
            // batches were still writing when the file was read (0.1-0.35 s of the whole command).
            else if (writing > 0 || foldInFlight) await new Promise<void>((r) => setImmediate(r));
            r0 = performance.now();
          }
          const refused = isLog ? null : notALog(file, fileCounts);
          if (refused) throw refused;
          if (offset !== report.toOffset || pending > 0 || status === 'rewritten' || status === 'rotated') await flush();
        } catch (e) {
          // Never leave a transaction running behind an error of the reader; the reader's error wins.
          await settle().catch(() => {});
          throw e;
        }
        // This file's last batch commits before the next file's checkpoint is read.
        await settle();
        report.toOffset = offset;
        const skippedBadly = skippedWarning(file.path, fileCounts, rejects?.target);
        if (skippedBadly) warn(skippedBadly);
        if (report.newLines === 0 && status !== 'new' && status !== 'rewritten') report.status = status === 'rotated' ? 'rotated' : 'unchanged';
        linesRead += lineNo;
        reports.push(report);
      }
    } catch (e) {
      await parser?.close();
      throw e;
    } finally {
      if (parser) {
        prof.chunksMain += parser.parsedBy.main;
        prof.chunksWorker += parser.parsedBy.worker;
      }
    }
    // The parse thread's teardown (20-70 ms, more on a loaded machine) overlaps the policies
    // rather than delaying them; the run ends once the thread has stopped (a failed policy
    // transaction leaves it stopping: terminate() does not fail).
    const closing = parser?.close();

    prof.stringPathLines += linker?.stringPathLines ?? 0;
    // Nothing stored by this run, and the previous one ok on the same inputs: its suppressions stand.
    const standing = committedBatches === 0 && opts.suppressionInputs ? await standingSuppressions(db, run.id, opts.suppressionInputs) : null;
    const p0 = performance.now();
    await folded;
    // Two independent transactions, side by side on two connections (PGlite takes them in turn):
    // the suppressions, and the holds and health, which read only events and counts. Each recomputes from everything stored, so if one fails the next run redoes
    // both to the same verdicts; the run is closed only once both have committed.
    const now = ctx.now();
    const [supp, dkimVerdict] = await Promise.all([
      standing
        ? { addresses: 0, domains: 0, updated: 0 }
        : db.transaction().execute(async (trx) => {
            await noFlushWait(trx);
            return applySuppressionPolicies(trx, cfg, run.id, now);
          }),
      db.transaction().execute(async (trx) => {
        await noFlushWait(trx);
        await applyProviderHolds(trx, cfg, run.id, now);
        await recomputeStaleHealth(trx, now);
        return applyDkimHold(trx, cfg, run.id, now);
      }),
    ]);
    if (dkimVerdict.action === 'raised' || dkimVerdict.action === 'extended') ctx.out.warn(`global hold: DKIM coverage of campaign mail ${(dkimVerdict.coverage! * 100).toFixed(1)}%${dkimVerdict.stream ? ` in stream ${dkimVerdict.stream}` : ''} on ${dkimVerdict.day}`);
    const openMessages = standing?.openMessages ?? (await useLinker()).openMessages;
    // The rejects file takes its name before the run is closed: a run reported ok has its file.
    await rejects?.commit();
    const summary = await db.transaction().execute(async (trx) => {
      const holds = await activeHolds(trx, now);
      const summary = buildSummary(run, reports, linesRead, totals, byClass, supp, holds, dkim, openMessages, warnings, rejects?.target);
      await finishRun(trx, run, 'ok', summary, null);
      return summary;
    });
    prof.policyMs += performance.now() - p0;
    await closing;
    return summary;
  }
}
