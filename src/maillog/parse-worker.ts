/**
 * Parsing in a worker thread, shared with the main thread. The scrub's main thread links the
 * records (linker.ts), in file order, and writes the batches; a worker parses (parse.ts) on the
 * other core. A plain file is cut into segments (segments.ts) that each thread claims in turn
 * from a shared counter: the worker claims the next one whenever it has room, and the main thread,
 * rather than wait for the worker, claims the next unclaimed segment and parses it itself (it
 * links faster than the worker parses, so this evens out the two cores). A gzip file is one
 * segment, left to the worker while the main thread links. The chunks arrive in file order with
 * the byte offset after each, so checkpoints are the same as in-thread; what was parsed ahead and
 * not linked is lost on a kill and parsed again by the next run.
 *
 * The worker runs one script: parse-worker-main.ts and what it imports, bundled by esbuild (which
 * tsx, the CLI's TypeScript loader, is built on) once per process. Loading tsx in the thread
 * instead took about 0.35 s and a loader thread of its own; the bundle takes about 0.1 s, and the
 * main thread parses the first segments meanwhile. One worker per run reads the run's files in turn.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { InputError, InternalError } from '../errors.ts';
import type { LogFile } from './files.ts';
import { LineParser, type ParsedChunk } from './parse.ts';
import { planSegments, segmentChunks, type SegmentPlan } from './segments.ts';
import { TraditionalClock, ZoneClock } from './timestamp.ts';

export interface WorkerStart {
  timeZone: string;
}

export type ToWorker =
  | { type: 'file'; fileNo: number; plan: SegmentPlan; chunkBytes: number; mtimeMs: number; claims: SharedArrayBuffer }
  | { type: 'credit' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'chunk'; fileNo: number; segment: number; chunk: ParsedChunk }
  | { type: 'segment-end'; fileNo: number; segment: number }
  | { type: 'error'; fileNo: number; input: boolean; message: string; stack: string };

/** Segments of this many chunks: small enough to share a file evenly, large enough to cost nothing. */
const SEGMENT_CHUNKS = 2;
/** Segments the main thread may parse before their turn (it holds their records until then). */
const MAIN_AHEAD = 1;

let bundle: Promise<string> | null = null;

/** The worker's script, built once per process (the sources do not change under a running process). */
function workerScript(): Promise<string> {
  bundle ??= build({
    entryPoints: [fileURLToPath(new URL('./parse-worker-main.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0]!.text);
  bundle.catch(() => (bundle = null));
  return bundle;
}

export class ParseWorker {
  private worker: Worker | null = null;
  private closed = false;
  /** Chunks parsed by the main thread and by the worker (tests check both take part). */
  readonly parsedBy = { main: 0, worker: 0 };
  private readonly zone: ZoneClock;
  private fileNo = 0;
  /** Posts made before the worker existed (its script is built asynchronously). */
  private readonly pendingPosts: ToWorker[] = [];
  private readonly readyWait: Promise<void>;
  private readyDone!: () => void;
  private readyFailed!: (e: Error) => void;
  private readonly inbox: FromWorker[] = [];
  private waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(start: WorkerStart) {
    this.zone = new ZoneClock(start.timeZone);
    this.readyWait = new Promise<void>((resolve, reject) => {
      this.readyDone = resolve;
      this.readyFailed = reject;
    });
    // Only tests wait for it; a failure reaches the scrub through parse().
    this.readyWait.catch(() => {});
    workerScript().then(
      (script) => {
        if (!this.closed) this.started(new Worker(script, { eval: true, workerData: start }));
      },
      (e: Error) => this.fail(new InternalError(`cannot build the mail.log parser thread's script: ${e.message}`, { cause: e })),
    );
  }

  /** Resolves when the worker can take a file (tests). */
  whenReady(): Promise<void> {
    return this.readyWait;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.readyFailed(e);
    const w = this.waiting;
    this.waiting = null;
    w?.reject(e);
  }

  private started(worker: Worker): void {
    this.worker = worker;
    for (const m of this.pendingPosts.splice(0)) worker.postMessage(m);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        this.readyDone();
        return;
      }
      const w = this.waiting;
      if (w) {
        this.waiting = null;
        w.resolve(m);
      } else this.inbox.push(m);
    });
    worker.on('error', (e) => this.fail(new InternalError(`the mail.log parser thread failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => this.fail(new InternalError(`the mail.log parser thread stopped (exit code ${code})`)));
  }

  /** The worker's next message about file `fileNo` if one is waiting (older files' are dropped). */
  private take(fileNo: number): Exclude<FromWorker, { type: 'ready' }> | undefined {
    for (;;) {
      const m = this.inbox.shift() as Exclude<FromWorker, { type: 'ready' }> | undefined;
      if (!m || m.fileNo === fileNo) return m;
    }
  }

  private async next(fileNo: number): Promise<Exclude<FromWorker, { type: 'ready' }>> {
    for (;;) {
      const m = this.take(fileNo);
      if (m) return m;
      if (this.failure) throw this.failure;
      const got = (await new Promise<FromWorker>((resolve, reject) => (this.waiting = { resolve, reject }))) as Exclude<FromWorker, { type: 'ready' }>;
      if (got.fileNo === fileNo) return got;
    }
  }

  /**
   * The parsed chunks of `file` from byte `from` (a line boundary), in file order. `size` is the
   * file's size when the run looked at it. Each file must be read to its end before the next.
   */
  async *parse(file: LogFile, from: number, size: number, mtime: Date, chunkBytes: number): AsyncGenerator<ParsedChunk> {
    const plan = planSegments(file, from, size, SEGMENT_CHUNKS * chunkBytes);
    if (plan.count === 0) return;
    const fileNo = ++this.fileNo;
    const claims = new Int32Array(new SharedArrayBuffer(4));
    this.post({ type: 'file', fileNo, plan, chunkBytes, mtimeMs: mtime.getTime(), claims: claims.buffer as SharedArrayBuffer });
    const local = new LineParser();
    local.beginFile(new TraditionalClock(this.zone, mtime));
    const here = async (k: number): Promise<ParsedChunk[]> => {
      const out: ParsedChunk[] = [];
      for await (const c of segmentChunks(plan, k, chunkBytes)) out.push(local.parseChunk(c));
      this.parsedBy.main += out.length;
      return out;
    };
    const claim = (k: number) => Atomics.compareExchange(claims, 0, k, k + 1) === k;
    // A gzip file (one segment) is the worker's: the main thread links while it parses.
    const mainParses = plan.count > 1;
    const ahead = new Map<number, ParsedChunk[]>();
    for (let k = 0; k < plan.count; k++) {
      const mine = ahead.get(k) ?? (mainParses && claim(k) ? await here(k) : null);
      if (mine) {
        ahead.delete(k);
        yield* mine;
        continue;
      }
      // The worker has segment k. While none of its chunks is waiting, parse the next unclaimed segment.
      for (;;) {
        let m = this.take(fileNo);
        if (!m && mainParses && ahead.size < MAIN_AHEAD) {
          const j = Atomics.load(claims, 0);
          if (j < plan.count && claim(j)) {
            ahead.set(j, await here(j));
            continue;
          }
        }
        m ??= await this.next(fileNo);
        if (m.type === 'error') {
          if (m.input) throw new InputError(m.message);
          const e = new InternalError(`the mail.log parser failed: ${m.message}`);
          e.stack = m.stack;
          throw e;
        }
        if (m.type !== 'chunk' && m.type !== 'segment-end') throw new InternalError(`the mail.log parser thread sent ${(m as FromWorker).type} during a file`);
        if (m.segment !== k) throw new InternalError(`the mail.log parser thread sent segment ${m.segment} where ${k} was due`);
        if (m.type === 'segment-end') break;
        this.parsedBy.worker++;
        yield m.chunk;
        this.post({ type: 'credit' });
      }
    }
  }

  private post(m: ToWorker): void {
    if (this.worker) this.worker.postMessage(m);
    else this.pendingPosts.push(m);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (!this.worker) return;
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
