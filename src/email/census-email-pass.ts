/**
 * The first normalize's rows, made while the census first load streams the file into carriers
 * (src/census/first-load.ts): each accepted row's e-mail field is taken from the scanner's bytes
 * and handed, in batches, to a worker thread (census-email-worker.ts) that decodes it as
 * PostgreSQL will store it in carriers.email_raw and normalizes it with NormalizePass into spooled
 * COPY rows. The loading thread only copies a few dozen bytes a row; the thread normalizes on the
 * other core meanwhile, and the normalize stage after the load (first-normalize.ts) only COPies
 * the rows in: nothing is read back.
 *
 * The rows are handed over only when they are exactly what a read-back would make: the load
 * committed, every DOT number came once (a superseded line's rows would have to be taken out
 * again), DOT numbers are small enough for the ordering key, and the thread finished without a
 * failure. Otherwise they are dropped and the normalize reads carriers back as before.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DetectedFormat } from '../census/formats.ts';
import type { StageContext } from '../context.ts';
import type { Store } from '../db/store.ts';
import { DIST_CENSUS_EMAIL_WORKER } from '../paths.ts';
import { threadScript } from '../thread-script.ts';
import { BATCH_ROWS, BATCHES_IN_FLIGHT, BatchWriter, FAILED, newSlots, SPOOL_NAMES, type EmailWorkerStart, type FromEmailWorker, type ToEmailWorker } from './census-email-batch.ts';
import { canLoadEarly, EarlyEmailLoad } from './early-email-load.ts';
import { offerPreparedRows } from './first-normalize.ts';
import { FinishedPass, MAX_ORDERED_DOT } from './normalize-pass.ts';
import { removeOrphanTempFiles, Spool } from './row-spool.ts';

/** Spool files are `${SPOOL_PREFIX}${pid}-${run}-${table}.bin`. */
const SPOOL_PREFIX = 'audience-census-emails-';
/** Batches on their way to the thread before the loading thread waits (a slot of about 300 KB each). */
const MAX_IN_FLIGHT = 8;
/** The thread's young generation (V8's default is several times that). */
const YOUNG_MB = 4;
/** The loading thread gives up on a thread that has done no batch for this long (it died). */
const STALL_MS = 120_000;

/** Sizes the tests shrink, so that a small file crosses batches and waits for the thread. */
export interface PassTuning {
  batchRows?: number;
  maxInFlight?: number;
  /** Where the spool files go (the system's temporary folder). */
  spoolDir?: string;
}

export class CensusEmailPass {
  /** Reads and removes what the thread writes (it never writes itself: see Spool.flush). */
  readonly spool: Spool;
  private readonly maxInFlight: number;
  private readonly batches: BatchWriter;
  private readonly control: Int32Array<SharedArrayBuffer>;
  /** Field index of the e-mail column in the file, -1 when the format has none. */
  private readonly field: number;
  private usable = true;
  private disposed = false;
  private ended = false;
  private stopped = false;
  /** Why the thread failed, when it did (the normalize then reads carriers back). */
  failure: string | null = null;
  private readonly done: Promise<FinishedPass | null>;
  /** Milliseconds the loading thread waited for the e-mail thread (-v). */
  waitedMs = 0;
  private readonly onExit = () => this.spool.remove();
  /** The e-mail tables' load begun on a second connection (early-email-load.ts), if any. */
  private early: EarlyEmailLoad | null = null;

  private constructor(
    private readonly worker: Worker,
    detected: DetectedFormat,
    /** The ingest-census run loading the file. */
    private readonly runId: number,
    spoolBase: string,
    control: SharedArrayBuffer,
    slots: SharedArrayBuffer[],
    batchRows: number,
  ) {
    this.control = new Int32Array(control);
    // One slot more than batches on their way: the one being filled.
    this.maxInFlight = slots.length - 1;
    this.spool = new Spool(spoolBase, SPOOL_NAMES);
    this.field = detected.positions.email_raw ?? -1;
    this.batches = new BatchWriter(slots, batchRows, (m) => this.send(m));
    this.done = new Promise<FinishedPass | null>((resolve) => {
      worker.on('message', (m: FromEmailWorker) => resolve(m.type === 'done' ? new FinishedPass(m.tally) : this.failed(m.message)));
      worker.on('error', (e) => resolve(this.failed(e.message)));
      worker.on('exit', (code) => resolve(this.failed(`exit code ${code}`)));
    });
    // Files left by a run that ends before the normalize takes them.
    process.once('exit', this.onExit);
  }

  /** Starts the e-mail thread for a file of `fileBytes` bytes (a bound on its rows, so on its distinct addresses). */
  static async start(detected: DetectedFormat, sharedThreshold: number, runId: number, fileBytes: number, tuning: PassTuning = {}): Promise<CensusEmailPass> {
    removeOrphanTempFiles(SPOOL_PREFIX);
    const script = await threadScript(new URL('./census-email-worker.ts', import.meta.url), DIST_CENSUS_EMAIL_WORKER);
    const control = new SharedArrayBuffer(8);
    const batchRows = tuning.batchRows ?? BATCH_ROWS;
    const slots = newSlots((tuning.maxInFlight ?? MAX_IN_FLIGHT) + 1, batchRows);
    const workerData: EmailWorkerStart = {
      spoolBase: path.join(tuning.spoolDir ?? os.tmpdir(), `${SPOOL_PREFIX}${process.pid}-${runId}`),
      sharedThreshold,
      // A census row is well over 100 bytes; a compressed file's guess falls short and the arrays grow.
      capacity: Math.max(1 << 16, Math.ceil(fileBytes / 100)),
      cp1252: detected.format.encoding === 'WIN1252',
      control,
      slots,
      batchRows,
    };
    // The thread's garbage is a few short strings a row: a small young generation does, and the
    // command stays within its memory budget (issue #15: peak RSS < 300 MB) with a second heap.
    const worker = new Worker(script, { eval: true, workerData, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } });
    return new CensusEmailPass(worker, detected, runId, workerData.spoolBase, control, slots, batchRows);
  }

  private failed(message: string): null {
    this.usable = false;
    this.failure ??= message;
    return null;
  }

  /** The scanner's hook for an accepted row (ScanOptions.onAccepted). */
  readonly onAccepted = (dot: number, buf: Buffer, starts: Int32Array, ends: Int32Array): void => {
    if (dot >= MAX_ORDERED_DOT) this.usable = false;
    if (this.field < 0) this.batches.add(dot, buf, 0, 0);
    else this.batches.add(dot, buf, starts[this.field]!, ends[this.field]!);
  };

  /**
   * Hands a full batch to the thread; first waits, while MAX_IN_FLIGHT batches are on their way,
   * for the thread to finish one: that bounds the memory of a thread that falls behind.
   */
  private send(m: ToEmailWorker): void {
    const control = this.control;
    if (Atomics.load(control, FAILED)) return;
    let inFlight = Atomics.load(control, BATCHES_IN_FLIGHT);
    if (inFlight >= this.maxInFlight) {
      const t0 = Date.now();
      while (inFlight >= this.maxInFlight && !Atomics.load(control, FAILED)) {
        if (Date.now() - t0 > STALL_MS) {
          this.failed(`no batch done in ${STALL_MS / 1000} s`);
          Atomics.store(control, FAILED, 1);
          return;
        }
        Atomics.wait(control, BATCHES_IN_FLIGHT, inFlight, 1000);
        inFlight = Atomics.load(control, BATCHES_IN_FLIGHT);
      }
      this.waitedMs += Date.now() - t0;
    }
    Atomics.add(control, BATCHES_IN_FLIGHT, 1);
    this.worker.postMessage(m);
  }

  /** The file is scanned: the last rows go to the thread, which finishes its spool. */
  end(): void {
    if (this.ended || this.disposed) return;
    this.ended = true;
    this.batches.flush();
    this.worker.postMessage({ type: 'end' });
  }

  /**
   * The file is scanned with every DOT number once (`duplicates` 0): on PostgreSQL, the e-mail
   * tables' load starts on a second connection as soon as the thread is done, while the census
   * load finishes (early-email-load.ts). It commits only in the normalize stage after the load.
   */
  loadEarly(ctx: StageContext, duplicates: number): void {
    if (this.early || this.disposed || duplicates > 0 || !this.usable || !canLoadEarly(ctx.store)) return;
    // The thread done, its heap (the address table) goes before the load reads the spool beside it:
    // the two at once took the command's peak RSS from 229 to 274 MB on FMCSA_CENSUS1.
    const finished = this.finished().then(async (f) => {
      if (f) await this.stopThread();
      return f;
    });
    this.early = EarlyEmailLoad.start(ctx, finished, this.spool);
  }

  /** Ends the pass and waits for the thread: the rows made, or null when they cannot be used. */
  async finished(): Promise<FinishedPass | null> {
    this.end();
    const finished = await this.done;
    return finished && this.usable ? finished : null;
  }

  /**
   * After the load committed: hands the rows to the normalize stage that follows on `store`, unless
   * some DOT number came twice (`duplicates`), was too big, or the thread failed. The pass is done
   * either way.
   */
  async offer(store: Store, duplicates: number): Promise<boolean> {
    if (this.disposed) return false;
    const finished = await this.finished();
    if (!finished || duplicates > 0) {
      await this.dispose();
      return false;
    }
    await this.stopThread();
    this.early?.awaitClaim();
    offerPreparedRows(store, { censusRunId: this.runId, rows: finished, spool: this.spool, ...(this.early ? { early: this.early } : {}), dispose: () => this.dispose() });
    return true;
  }

  private async stopThread(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  /**
   * Gives up the early load (rolled back unless committed), stops the thread, then removes its
   * files (read by neither any more, so nothing can write or read one again after).
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await this.early?.giveUp();
      await this.stopThread();
    } finally {
      process.removeListener('exit', this.onExit);
      this.spool.remove();
    }
  }
}
