/**
 * The parse worker's thread (see parse-worker.ts): claims segments of the file it is given,
 * parses them and posts their chunks, at most WINDOW chunks ahead of what the main thread took.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../errors.ts';
import { LineParser } from './parse.ts';
import { segmentChunks } from './segments.ts';
import { TraditionalClock, ZoneClock } from './timestamp.ts';
import type { FromWorker, ToWorker, WorkerStart } from './parse-worker.ts';

/** Parsed chunks not yet taken: bounds the worker's lead and the memory it holds. */
const WINDOW = 16;

const port = parentPort!;
const { timeZone } = workerData as WorkerStart;
const zone = new ZoneClock(timeZone);
const parser = new LineParser();
let credits = WINDOW;
let wake: (() => void) | null = null;

const send = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

async function parseFile(m: Extract<ToWorker, { type: 'file' }>): Promise<void> {
  const { fileNo, plan, chunkBytes } = m;
  const claims = new Int32Array(m.claims);
  try {
    parser.beginFile(new TraditionalClock(zone, new Date(m.mtimeMs)));
    for (;;) {
      while (credits <= 0) await new Promise<void>((r) => (wake = r));
      const k = Atomics.add(claims, 0, 1);
      if (k >= plan.count) break;
      for await (const c of segmentChunks(plan, k, chunkBytes)) {
        const p = parser.parseChunk(c);
        while (credits <= 0) await new Promise<void>((r) => (wake = r));
        credits--;
        send({ type: 'chunk', fileNo, segment: k, chunk: p }, [p.ints.buffer as ArrayBuffer, p.nums.buffer as ArrayBuffer, p.bytes.buffer as ArrayBuffer]);
      }
      send({ type: 'segment-end', fileNo, segment: k });
    }
  } catch (e) {
    send({ type: 'error', fileNo, input: e instanceof InputError, message: (e as Error).message, stack: (e as Error).stack ?? '' });
  }
}

// Files come one at a time: the main thread sends the next only after it has every segment of this one.
let queue: Promise<void> = Promise.resolve();
port.on('message', (m: ToWorker) => {
  if (m.type === 'credit') {
    credits++;
    const w = wake;
    wake = null;
    w?.();
  } else queue = queue.then(() => parseFile(m));
});
send({ type: 'ready' });
