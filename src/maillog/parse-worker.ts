/**
 * Parsing in a worker thread: the scrub's main thread only links the records (linker.ts) and
 * writes the batches, while the worker reads the file and parses the next chunks (parse.ts) on
 * the other core. The records arrive in file order, with the byte offset after each chunk, so the
 * checkpoint logic is the same as when parsing in-thread; what the worker has parsed ahead and the
 * main thread has not applied is simply lost on a kill and parsed again by the next run.
 *
 * One worker per run, reading the run's files one after the other; its parser carries the host and
 * tag ids and the last timestamp from file to file, as an in-thread parser would.
 */
import { Worker } from 'node:worker_threads';
import { InputError, InternalError } from '../errors.ts';
import type { LogFile } from './files.ts';
import type { ParsedChunk } from './parse.ts';

export interface WorkerStart {
  timeZone: string;
  /** The linker's last timestamp (the time of a first line without one). */
  lastTs: number;
}

export type ToWorker =
  | { type: 'file'; file: LogFile; from: number; firstLineNo: number; mtimeMs: number; chunkBytes: number }
  | { type: 'credit' };

export type FromWorker =
  | { type: 'chunk'; chunk: ParsedChunk }
  | { type: 'done' }
  | { type: 'error'; input: boolean; message: string; stack: string };

export class ParseWorker {
  private readonly worker: Worker;
  private readonly inbox: FromWorker[] = [];
  private waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(start: WorkerStart) {
    // Module hooks are per thread, and a worker's entry loads before any --import: a tiny eval'd
    // entry registers tsx (a dependency: the CLI runs the sources) before importing the worker.
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const main = new URL('./parse-worker-main.ts', import.meta.url).href;
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(main)}); });`;
    this.worker = new Worker(boot, { eval: true, workerData: start });
    this.worker.on('message', (m: FromWorker) => {
      const w = this.waiting;
      if (w) {
        this.waiting = null;
        w.resolve(m);
      } else this.inbox.push(m);
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      const w = this.waiting;
      this.waiting = null;
      w?.reject(e);
    };
    this.worker.on('error', (e) => fail(new InternalError(`the mail.log parser thread failed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => fail(new InternalError(`the mail.log parser thread stopped (exit code ${code})`)));
  }

  private next(): Promise<FromWorker> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /**
   * The parsed chunks of `file` from byte `from` (line `firstLineNo`), in order. The worker parses
   * ahead while the caller handles a chunk; it must read each file to its end before the next.
   */
  async *parse(file: LogFile, from: number, firstLineNo: number, mtime: Date, chunkBytes: number): AsyncGenerator<ParsedChunk> {
    this.worker.postMessage({ type: 'file', file, from, firstLineNo, mtimeMs: mtime.getTime(), chunkBytes } satisfies ToWorker);
    for (;;) {
      const m = await this.next();
      if (m.type === 'done') return;
      if (m.type === 'error') {
        if (m.input) throw new InputError(m.message);
        const e = new InternalError(`the mail.log parser failed: ${m.message}`);
        e.stack = m.stack;
        throw e;
      }
      yield m.chunk;
      this.worker.postMessage({ type: 'credit' } satisfies ToWorker);
    }
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
