/**
 * Parsing in a worker thread: the scrub's main thread only links the records (linker.ts) and
 * writes the batches, while the worker reads the file and parses the next chunks (parse.ts) on
 * the other core. The records arrive in file order, with the byte offset after each chunk, so the
 * checkpoint logic is the same as when parsing in-thread; what the worker has parsed ahead and the
 * main thread has not applied is simply lost on a kill and parsed again by the next run.
 *
 * The worker runs one script: parse-worker-main.ts and what it imports (src/thread-script.ts:
 * the prebuilt file, or bundled once per process in development). Until
 * the worker is ready, the main thread parses the first chunks itself and hands the rest of the
 * file over at a chunk boundary: chunks are self-contained (parse.ts), so which thread parsed one
 * changes nothing. One worker per run reads the run's files in turn.
 */
import { Worker } from 'node:worker_threads';
import { InputError, InternalError } from '../errors.ts';
import { DIST_PARSE_WORKER } from '../paths.ts';
import { threadScript } from '../thread-script.ts';
import type { LogFile } from './files.ts';
import { LineParser, parseFile } from './parse.ts';
import { ownChunk, type ParsedChunk } from './records.ts';
import { ZoneClock } from './timestamp.ts';

export interface WorkerStart {
  timeZone: string;
  /** Hand over the text of skipped lines (scrub-bounces --rejects). */
  keepSkipped?: boolean;
}

export type ToWorker =
  | { type: 'file'; file: LogFile; from: number; firstLineNo: number; yearRefMs: number; chunkBytes: number }
  | { type: 'credit' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'chunk'; chunk: ParsedChunk }
  | { type: 'done' }
  | { type: 'damage'; message: string }
  | { type: 'error'; input: boolean; message: string; stack: string };

/** The worker's script: dist/parse-worker.cjs from the build, else bundled from the sources. */
const workerScript = () => threadScript(new URL('./parse-worker-main.ts', import.meta.url), DIST_PARSE_WORKER);

export class ParseWorker {
  private worker: Worker | null = null;
  private closed = false;
  /** Chunks parsed by the main thread and by the worker (tests check both take part). */
  readonly parsedBy = { main: 0, worker: 0 };
  private readonly zone: ZoneClock;
  private ready = false;
  private readonly readyWait: Promise<void>;
  private readyDone!: () => void;
  private readyFailed!: (e: Error) => void;
  private readonly inbox: FromWorker[] = [];
  private waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly keepSkipped: boolean;
  private readonly onDamage: (message: string) => void;

  /** `onDamage` hears of a damaged gzip file, read up to the damage (reader.ts), from either thread. */
  constructor(start: WorkerStart, events: { onDamage?: (message: string) => void } = {}) {
    this.zone = new ZoneClock(start.timeZone);
    this.keepSkipped = Boolean(start.keepSkipped);
    this.onDamage = events.onDamage ?? (() => {});
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
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        this.ready = true;
        this.readyDone();
        return;
      }
      if (m.type === 'damage') {
        this.onDamage(m.message);
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

  private next(): Promise<FromWorker> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /**
   * The parsed chunks of `file` from byte `from` (line `firstLineNo`), in order: parsed here until
   * the worker is ready, then by the worker, which parses ahead while the caller handles a chunk.
   * Each file must be read to its end before the next.
   */
  async *parse(file: LogFile, from: number, firstLineNo: number, yearRef: Date, chunkBytes: number): AsyncGenerator<ParsedChunk> {
    let offset = from;
    let lineNo = firstLineNo;
    if (!this.ready) {
      let handOver = false;
      const parser = new LineParser();
      parser.keepSkipped = this.keepSkipped;
      for await (const p of parseFile(parser, this.zone, file, { from, firstLineNo, yearRef, chunkBytes, onDamage: this.onDamage })) {
        if (this.failure) throw this.failure;
        this.parsedBy.main++;
        lineNo += p.lines;
        offset = p.endOffset;
        yield p;
        // Leaving the loop closes the file; the worker opens it again at this chunk's end.
        if (this.ready) {
          handOver = true;
          break;
        }
      }
      if (!handOver) return;
    }
    const worker = this.worker!;
    worker.postMessage({ type: 'file', file, from: offset, firstLineNo: lineNo, yearRefMs: yearRef.getTime(), chunkBytes } satisfies ToWorker);
    for (;;) {
      const m = await this.next();
      if (m.type === 'done') return;
      if (m.type === 'error') {
        if (m.input) throw new InputError(m.message);
        const e = new InternalError(`the mail.log parser failed: ${m.message}`);
        e.stack = m.stack;
        throw e;
      }
      if (m.type === 'chunk') {
        this.parsedBy.worker++;
        yield ownChunk(m.chunk);
        worker.postMessage({ type: 'credit' } satisfies ToWorker);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (!this.worker) return;
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
