/**
 * What the census first load's loading thread and its e-mail thread (census-email-worker.ts) pass
 * each other: batches of accepted rows, a DOT number and the e-mail field's bytes as in the file
 * each, written into a ring of shared-memory slots; a message names the slot and its row count.
 * Two shared control words bound the batches on their way, so a slot is only written again once
 * the thread is done with it, whether or not the loading thread's event loop has turned since:
 * buffers handed back by message piled up, unread, while the scan kept the loop busy.
 */
import type { PassTally } from './normalize-pass.ts';
import type { SpoolName } from './row-spool.ts';

/** Control word: batches sent and not yet done by the thread. */
export const BATCHES_IN_FLIGHT = 0;
/** Control word: 1 once the thread failed (it then only counts batches down). */
export const FAILED = 1;

export const SPOOL_NAMES: readonly SpoolName[] = ['links', 'emails', 'reasons', 'sources'];

/** Rows per batch: 512 batches for a 2.1M-row census. */
export const BATCH_ROWS = 1 << 12;
/** Field bytes a slot holds, enough for BATCH_ROWS usual fields; a batch is sent early when full. */
const SLOT_BYTES = 1 << 18;

export interface EmailWorkerStart {
  spoolBase: string;
  sharedThreshold: number;
  /** Addresses to make room for at once (AddressIds). */
  capacity: number;
  /** The file is Windows-1252 (else UTF-8). */
  cp1252: boolean;
  /** Int32 control words (BATCHES_IN_FLIGHT, FAILED). */
  control: SharedArrayBuffer;
  /** The ring of batch slots (Slot). */
  slots: SharedArrayBuffer[];
  batchRows: number;
}

/** Rows in file order: row i is dots[i] and bytes[ends[i - 1] (0 for the first), ends[i]). */
export interface Batch {
  dots: Float64Array;
  ends: Int32Array;
  bytes: Uint8Array;
}

/**
 * To the thread: a batch in slot `slot`; a batch of its own for a field too long for a slot
 * (copied with the message); the end of the rows.
 */
export type ToEmailWorker = { type: 'slot'; slot: number; rows: number } | ({ type: 'rows'; rows: number } & Batch) | { type: 'end' };

export type FromEmailWorker = { type: 'done'; tally: PassTally } | { type: 'error'; message: string };

/** The views of a slot: DOT numbers, then row ends, then field bytes. */
export function slotViews(sab: SharedArrayBuffer, batchRows: number): Batch {
  return {
    dots: new Float64Array(sab, 0, batchRows),
    ends: new Int32Array(sab, batchRows * 8, batchRows),
    bytes: new Uint8Array(sab, batchRows * 12),
  };
}

export function newSlots(count: number, batchRows: number): SharedArrayBuffer[] {
  return Array.from({ length: count }, () => new SharedArrayBuffer(batchRows * 12 + SLOT_BYTES));
}

/**
 * Fills the slots in turn on the loading thread; `send` takes each batch's message. `send` must
 * not return while as many batches as there are slots are on their way (CensusEmailPass waits).
 */
export class BatchWriter {
  private readonly views: Batch[];
  private slot = 0;
  private rows = 0;
  private used = 0;

  constructor(
    slots: SharedArrayBuffer[],
    private readonly batchRows: number,
    private readonly send: (m: ToEmailWorker) => void,
  ) {
    this.views = slots.map((s) => slotViews(s, batchRows));
  }

  /** One row: the field's bytes buf[s, e) (s === e when the format has no e-mail column). */
  add(dot: number, buf: Uint8Array, s: number, e: number): void {
    const len = e - s;
    let v = this.views[this.slot]!;
    if (this.used + len > v.bytes.length) {
      this.flush();
      if (len > v.bytes.length) {
        this.send({ type: 'rows', rows: 1, dots: Float64Array.of(dot), ends: Int32Array.of(len), bytes: buf.slice(s, e) });
        return;
      }
      v = this.views[this.slot]!;
    }
    // Fields are a few dozen bytes: a loop beats making a subarray for set().
    const bytes = v.bytes;
    let u = this.used;
    for (let i = s; i < e; i++) bytes[u++] = buf[i]!;
    this.used = u;
    v.dots[this.rows] = dot;
    v.ends[this.rows] = u;
    if (++this.rows === this.batchRows) this.flush();
  }

  /** Sends the rows written so far, if any; the next rows go to the next slot. */
  flush(): void {
    if (this.rows === 0) return;
    const m: ToEmailWorker = { type: 'slot', slot: this.slot, rows: this.rows };
    this.slot = (this.slot + 1) % this.views.length;
    this.rows = 0;
    this.used = 0;
    this.send(m);
  }
}
