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

const NOT_INACTIVE = 2;
const LISTED = 4;

/**
 * carriers' (dot_number, row_hash, status <> 'inactive'), read once in DOT order into flat arrays.
 * Census files come in DOT order too, so each lookup starts where the last one ended (a cursor,
 * reading memory in order) and only a line out of order pays a binary search.
 */
export class StoredRows {
  private keys = new Float64Array(1 << 16);
  private hashes = new Float64Array(1 << 16);
  private flags = new Uint8Array(1 << 16);
  private cursor = 0;
  size = 0;
  /** Carriers not inactive (active or pending). */
  active = 0;

  /** Reads every carrier with one COPY ... TO (binary); a null row_hash is stored as -1, which no digest equals. */
  static async load(store: Store): Promise<StoredRows> {
    const rows = new StoredRows();
    let carry: Buffer | null = null;
    let header = true;
    // In the table's own order, not `order by`: a sequential read is 2.3x faster than walking the
    // key's index, and after a first load the heap is in DOT order but for the rows merges moved
    // (sorted here, see sortTail).
    const query = `select dot_number, coalesce(row_hash, -1), status <> 'inactive' from carriers`;
    for await (const data of store.copyTo(query, { jit: 'off' })) {
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
      // Both bigints are below 2^53 (or -1): two 32-bit halves, without a BigInt per value.
      while (p + 31 <= buf.length && buf.readInt16BE(p) === 3) {
        const dot = buf.readInt32BE(p + 6) * 0x100000000 + buf.readUInt32BE(p + 10);
        const hash = buf.readInt32BE(p + 18) * 0x100000000 + buf.readUInt32BE(p + 22);
        rows.add(dot, hash, buf[p + 30] === 1);
        p += 31;
      }
      if (p + 2 <= buf.length && buf.readInt16BE(p) === -1) p = buf.length;
      if (p < buf.length) carry = Buffer.from(buf.subarray(p));
    }
    rows.sortTail();
    return rows;
  }

  /** Rows that came after a greater DOT number, kept apart until sortTail(). */
  private later: StoredRows | null = null;

  /** Adds a carrier: in order, appended; else set apart for sortTail(). */
  add(dot: number, hash: number, notInactive: boolean): void {
    if (this.size && dot <= this.keys[this.size - 1]!) {
      this.later ??= new StoredRows();
      this.later.append(dot, hash, notInactive);
      return;
    }
    this.append(dot, hash, notInactive);
  }

  /** Sorts the rows set apart by add() and merges them in: then every lookup may use the order. */
  sortTail(): void {
    const later = this.later;
    if (!later) return;
    this.later = null;
    const order = Uint32Array.from({ length: later.size }, (_, i) => i).sort((a, b) => later.keys[a]! - later.keys[b]!);
    const main = { keys: this.keys, hashes: this.hashes, flags: this.flags, size: this.size };
    const n = main.size + later.size;
    this.keys = new Float64Array(n);
    this.hashes = new Float64Array(n);
    this.flags = new Uint8Array(n);
    this.size = 0;
    this.active = 0;
    let i = 0;
    let j = 0;
    while (i < main.size || j < order.length) {
      if (j >= order.length || (i < main.size && main.keys[i]! < later.keys[order[j]!]!)) {
        this.append(main.keys[i]!, main.hashes[i]!, main.flags[i] === NOT_INACTIVE);
        i++;
      } else {
        const k = order[j++]!;
        this.append(later.keys[k]!, later.hashes[k]!, later.flags[k] === NOT_INACTIVE);
      }
    }
  }

  private append(dot: number, hash: number, notInactive: boolean): void {
    if (this.size === this.keys.length) {
      const grow = <T extends Float64Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.keys = grow(this.keys);
      this.hashes = grow(this.hashes);
      this.flags = grow(this.flags);
    }
    this.keys[this.size] = dot;
    this.hashes[this.size] = hash;
    this.flags[this.size] = notInactive ? NOT_INACTIVE : 0;
    this.size++;
    if (notInactive) this.active++;
  }

  /** The index of `dot`, or -1 when no carrier has it. */
  find(dot: number): number {
    const keys = this.keys;
    let c = this.cursor;
    if (c < this.size && keys[c] === dot) {
      this.cursor = c + 1;
      return c;
    }
    // The next few in order (a carrier gone from the file), else a binary search.
    for (let k = 0; k < 4 && c < this.size && keys[c]! < dot; k++) c++;
    if (c < this.size && keys[c] === dot) {
      this.cursor = c + 1;
      return c;
    }
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < dot) lo = mid + 1;
      else hi = mid;
    }
    this.cursor = lo;
    if (lo < this.size && keys[lo] === dot) {
      this.cursor = lo + 1;
      return lo;
    }
    return -1;
  }

  hashAt(i: number): number {
    return this.hashes[i]!;
  }

  /** The file lists the carrier at index i. */
  list(i: number): void {
    this.flags[i]! |= LISTED;
  }

  /** What --snapshot deactivates: carriers not inactive that the file lists nowhere, in DOT order. */
  gone(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if ((this.flags[i]! & (NOT_INACTIVE | LISTED)) === NOT_INACTIVE) out.push(this.keys[i]!);
    return out;
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
    const end = this.typer.writeValues(buf, starts, ends, out, pos);
    if (end < 0) return end;
    if (i < 0 || this.stored.hashAt(i) !== this.typer.hash) return this.typer.writeTail(out, end);
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
