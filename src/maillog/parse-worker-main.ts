/**
 * The parse worker's thread (see parse-worker.ts): reads the files it is given and parses them
 * into records, at most WINDOW chunks ahead of what the main thread has taken.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../errors.ts';
import { LineParser, parseFile } from './parse.ts';
import { ZoneClock } from './timestamp.ts';
import type { FromWorker, ToWorker, WorkerStart } from './parse-worker.ts';

/** Parsed chunks not yet taken: bounds the worker's lead and the memory it holds. */
const WINDOW = 4;

const port = parentPort!;
const { timeZone, keepSkipped } = workerData as WorkerStart;
const zone = new ZoneClock(timeZone);
const parser = new LineParser();
parser.keepSkipped = Boolean(keepSkipped);
let credits = WINDOW;
let wake: (() => void) | null = null;

const send = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

async function sendFile(m: Extract<ToWorker, { type: 'file' }>): Promise<void> {
  try {
    const onDamage = (message: string) => send({ type: 'damage', message });
    for await (const p of parseFile(parser, zone, m.file, { from: m.from, firstLineNo: m.firstLineNo, yearRef: new Date(m.yearRefMs), chunkBytes: m.chunkBytes, onDamage })) {
      while (credits <= 0) await new Promise<void>((r) => (wake = r));
      credits--;
      send({ type: 'chunk', chunk: p }, [p.ints.buffer as ArrayBuffer, p.nums.buffer as ArrayBuffer, p.bytes.buffer as ArrayBuffer]);
    }
    send({ type: 'done' });
  } catch (e) {
    send({ type: 'error', input: e instanceof InputError, message: (e as Error).message, stack: (e as Error).stack ?? '' });
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'credit') {
    credits++;
    const w = wake;
    wake = null;
    w?.();
  } else void sendFile(m);
});
send({ type: 'ready' });
