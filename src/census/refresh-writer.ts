/**
 * The refresh's writer: the RowTyper's typed row, left out of the COPY when its digest equals the
 * stored carrier's row_hash (row-hash.ts), so a monthly file with 3% of its carriers changed
 * stages and merges those 3%, not two million rows (issue #15).
 *
 * What the rows left out would have told the merge, it keeps here: which DOT numbers the file lists
 * (a typing reject still lists its carrier, as the typed table's reject rows did), so the snapshot's
 * carriers gone are the stored ones listed nowhere; their newest MCS-150 and ADD dates, for the
 * file's data date; and which DOT numbers were left out, since a later line of the same number must
 * still supersede them (staging.ts stages the whole file again in that rare case).
 */
import type { Store } from '../db/store.ts';
import { parseDot } from './scan-bytes.ts';
import { LEFT_OUT, type RecordWriter } from './scan-output.ts';
import type { RowTyper } from './row-typer.ts';

const PRESENT = 1;
const NOT_INACTIVE = 2;
const LISTED = 4;

/** carriers' (dot_number, row_hash, status <> 'inactive'), read once, in an open-addressing table. */
export class StoredRows {
  private keys: Float64Array;
  private hashes: Float64Array;
  private flags: Uint8Array;
  private mask: number;
  size = 0;
  /** Carriers not inactive (active or pending). */
  active = 0;

  constructor(capacity = 1 << 16) {
    this.keys = new Float64Array(capacity);
    this.hashes = new Float64Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.mask = capacity - 1;
  }

  /** Reads every carrier with one COPY ... TO (binary); a null row_hash is stored as -1, which no digest equals. */
  static async load(store: Store): Promise<StoredRows> {
    const rows = new StoredRows(1 << 22);
    let carry: Buffer | null = null;
    let header = true;
    for await (const data of store.copyTo(`select dot_number, coalesce(row_hash, -1), status <> 'inactive' from carriers`)) {
      let buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (carry) buf = Buffer.concat([carry, buf]);
      carry = null;
      let p = 0;
      if (header) {
        if (buf.length < 19) {
          carry = Buffer.from(buf);
          continue;
        }
        p = 19 + buf.readInt32BE(15);
        header = false;
      }
      // int16 3, int32 8 + bigint, int32 8 + bigint, int32 1 + bool: 31 bytes; int16 -1 ends the data.
      while (p + 31 <= buf.length && buf.readInt16BE(p) === 3) {
        rows.add(Number(buf.readBigInt64BE(p + 6)), Number(buf.readBigInt64BE(p + 18)), buf[p + 30] === 1);
        p += 31;
      }
      if (p + 2 <= buf.length && buf.readInt16BE(p) === -1) p = buf.length;
      if (p < buf.length) carry = Buffer.from(buf.subarray(p));
    }
    return rows;
  }

  add(dot: number, hash: number, notInactive: boolean): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    let i = this.slot(dot);
    while (this.flags[i]! & PRESENT) i = (i + 1) & this.mask;
    this.keys[i] = dot;
    this.hashes[i] = hash;
    this.flags[i] = PRESENT | (notInactive ? NOT_INACTIVE : 0);
    this.size++;
    if (notInactive) this.active++;
  }

  /** The slot of `dot`, or -1 when no carrier has it. */
  find(dot: number): number {
    let i = this.slot(dot);
    for (;;) {
      const f = this.flags[i]!;
      if (!(f & PRESENT)) return -1;
      if (this.keys[i] === dot) return i;
      i = (i + 1) & this.mask;
    }
  }

  hashAt(i: number): number {
    return this.hashes[i]!;
  }

  /** The file lists the carrier in slot i. */
  list(i: number): void {
    this.flags[i]! |= LISTED;
  }

  /** What --snapshot deactivates: carriers not inactive that the file lists nowhere, in DOT order. */
  gone(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.flags.length; i++) if ((this.flags[i]! & (PRESENT | NOT_INACTIVE | LISTED)) === (PRESENT | NOT_INACTIVE)) out.push(this.keys[i]!);
    return out.sort((a, b) => a - b);
  }

  private slot(dot: number): number {
    return Math.imul((dot | 0) ^ Math.floor(dot / 0x100000000), 0x9e3779b1) >>> 0 & this.mask;
  }

  private grow(): void {
    const { keys, hashes, flags } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.hashes = new Float64Array(keys.length * 2);
    this.flags = new Uint8Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    this.active = 0;
    for (let i = 0; i < keys.length; i++) {
      const f = flags[i]!;
      if (!(f & PRESENT)) continue;
      let j = this.slot(keys[i]!);
      while (this.flags[j]! & PRESENT) j = (j + 1) & this.mask;
      this.keys[j] = keys[i]!;
      this.hashes[j] = hashes[i]!;
      this.flags[j] = f;
      this.size++;
      if (f & NOT_INACTIVE) this.active++;
    }
  }
}

/** The newest date (as YYYYMMDD) of ISO text at out[at], if not after `notAfter`. */
function newer(out: Buffer, at: number, max: number, notAfter: number): number {
  if (at < 0) return max;
  const d =
    (out[at]! - 48) * 10_000_000 + (out[at + 1]! - 48) * 1_000_000 + (out[at + 2]! - 48) * 100_000 + (out[at + 3]! - 48) * 10_000 +
    (out[at + 5]! - 48) * 1000 + (out[at + 6]! - 48) * 100 + (out[at + 8]! - 48) * 10 + (out[at + 9]! - 48);
  return d > max && d <= notAfter ? d : max;
}

const isoOf = (d: number): string | null => (d ? `${String(Math.floor(d / 10000)).padStart(4, '0')}-${String(Math.floor(d / 100) % 100).padStart(2, '0')}-${String(d % 100).padStart(2, '0')}` : null);

export class RefreshWriter implements RecordWriter {
  readonly valueColumns: number;
  readonly overhead: number;
  /** Good records left out of the COPY (their carrier's row is the same). */
  leftOut = 0;
  private newestMcs150 = 0;
  private newestAdd = 0;
  private readonly notAfter: number;
  // DOT numbers left out: a bitmap covers every real one (< 2^26), a Set the rest (as ScanOutput's).
  private readonly outBits = new Uint8Array(1 << 23);
  private readonly outBig = new Set<number>();

  constructor(
    private readonly typer: RowTyper,
    private readonly stored: StoredRows,
    private readonly dotIndex: number,
    /** The last plausible day (freshness.ts), YYYY-MM-DD. */
    notAfter: string,
  ) {
    this.valueColumns = typer.valueColumns;
    this.overhead = typer.overhead;
    this.notAfter = Number(notAfter.replaceAll('-', ''));
  }

  get reject() {
    return this.typer.reject;
  }

  write(buf: Buffer, starts: Int32Array, ends: Int32Array, out: Buffer, pos: number): number {
    const dot = parseDot(buf, starts[this.dotIndex]!, ends[this.dotIndex]!);
    const i = this.stored.find(dot);
    if (i >= 0) this.stored.list(i);
    const end = this.typer.write(buf, starts, ends, out, pos);
    if (end < 0 || i < 0 || this.stored.hashAt(i) !== this.typer.hash) return end;
    this.leftOut++;
    this.newestMcs150 = newer(out, this.typer.mcs150At, this.newestMcs150, this.notAfter);
    this.newestAdd = newer(out, this.typer.addAt, this.newestAdd, this.notAfter);
    if (dot < 1 << 26) this.outBits[dot >>> 3]! |= 1 << (dot & 7);
    else this.outBig.add(dot);
    return LEFT_OUT;
  }

  /** Newest MCS-150 and ADD dates (not after the last plausible day) of the records left out. */
  leftOutDates(): { newestMcs150: string | null; newestAddDate: string | null } {
    return { newestMcs150: isoOf(this.newestMcs150), newestAddDate: isoOf(this.newestAdd) };
  }

  /** Whether any line of these DOT numbers was left out. */
  leftOutAny(dots: Iterable<number>): boolean {
    for (const dot of dots) if (dot < 1 << 26 ? this.outBits[dot >>> 3]! & (1 << (dot & 7)) : this.outBig.has(dot)) return true;
    return false;
  }
}
