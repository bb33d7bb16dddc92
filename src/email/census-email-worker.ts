/**
 * The thread of the census first load's e-mail pass (census-email-pass.ts): takes batches of
 * accepted rows (DOT number and e-mail field bytes as in the file), decodes each field as
 * PostgreSQL stores it in carriers.email_raw, and runs them through NormalizePass into the spool.
 * Each batch done is counted down in the shared control words, which the loading thread waits on
 * when it is too far ahead; at the end the pass's tally goes back, its counts array transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeCp1252 } from '../text/cp1252.ts';
import { NormalizePass } from './normalize-pass.ts';
import { Spool } from './row-spool.ts';
import { BATCHES_IN_FLIGHT, FAILED, slotViews, SPOOL_NAMES, type Batch, type EmailWorkerStart, type FromEmailWorker, type ToEmailWorker } from './census-email-batch.ts';

const QUOTE = 0x22;
const port = parentPort!;
const start = workerData as EmailWorkerStart;
const control = new Int32Array(start.control);
const spool = new Spool(start.spoolBase, SPOOL_NAMES);
const pass = new NormalizePass(spool, start.sharedThreshold, start.capacity);
/** After a failure the pass is broken: the batches still on their way are only counted down. */
let failed = false;

/**
 * The field as carriers.email_raw holds it: the RowTyper writes its content as it is (an empty one
 * is NULL), quoted when it needs to be, so PostgreSQL undoes the doubled quotes and decodes it.
 */
function emailRaw(buf: Buffer, s: number, e: number): string | null {
  let quoted = false;
  if (e - s >= 2 && buf[s] === QUOTE) {
    s++;
    e--;
    quoted = true;
  }
  if (e <= s) return null;
  const field = buf.subarray(s, e);
  const text = start.cp1252 ? decodeCp1252(field) : field.toString('utf8');
  return quoted && text.includes('"') ? text.replaceAll('""', '"') : text;
}

const slots = start.slots.map((s) => slotViews(s, start.batchRows));

function rows(b: Batch, n: number): void {
  const buf = Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const e = b.ends[i]!;
    pass.carrier(b.dots[i]!, emailRaw(buf, s, e));
    s = e;
  }
}

function send(m: FromEmailWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

port.on('message', (m: ToEmailWorker) => {
  try {
    if (m.type !== 'end') {
      if (!failed) rows(m.type === 'slot' ? slots[m.slot]! : m, m.rows);
      Atomics.sub(control, BATCHES_IN_FLIGHT, 1);
      Atomics.notify(control, BATCHES_IN_FLIGHT);
      return;
    }
    spool.close();
    const tally = pass.finish();
    send({ type: 'done', tally }, [tally.linkCounts.buffer]);
  } catch (e) {
    failed = true;
    Atomics.store(control, FAILED, 1);
    Atomics.notify(control, BATCHES_IN_FLIGHT);
    send({ type: 'error', message: (e as Error).stack ?? String(e) });
  }
});
