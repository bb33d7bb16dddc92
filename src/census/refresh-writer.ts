/**
 * The refresh's writer: the RowTyper's typed row, left out of the COPY when its digest equals the
 * stored carrier's row_hash (row-hash.ts), so a monthly file with 3% of its carriers changed
 * stages and merges those 3%, not two million rows (issue #15). Before any typing, a line whose
 * digest equals the stored carrier's line_hash is left out as it is (skipUnchanged): it is the
 * very line the stored row was typed from, by the same rules (the digest's context), so typing it
 * again could only give the stored row. That is most lines of a month, and typing them was most of
 * the scan's time.
 *
 * What the rows left out would have told the merge, it keeps here: which DOT numbers the file lists
 * (a typing reject still lists its carrier, as the typed table's reject rows did), so the snapshot's
 * carriers gone are the stored ones listed nowhere; their newest MCS-150 and ADD dates, for the
 * file's data date (a line left out untyped has its carrier's stored dates); and which DOT numbers
 * were left out, since a later line of the same number must still supersede them (staging.ts
 * stages the whole file again in that rare case).
 */
import { sql } from 'kysely';
import type { Store } from '../db/store.ts';
import { lineDigest, type LineContext } from './row-hash.ts';
import { parseDot } from './scan-bytes.ts';
import { LEFT_OUT, type RecordWriter } from './scan-output.ts';
import type { RowTyper } from './row-typer.ts';

const NOT_INACTIVE = 2;
const LISTED = 4;
/** A stored date that is null, in days since 2000-01-01 (census dates are 1900 to 2099: ±36,524). */
const NO_DATE = -1_000_000;
const EPOCH_2000 = Date.UTC(2000, 0, 1);
const DAY_MS = 86_400_000;
/** A row of StoredRows.load's binary COPY. */
const ROW_BYTES = 59;

/**
 * carriers' (dot_number, row_hash, line_hash, status <> 'inactive', mcs150_date, add_date), read
 * once in DOT order into flat arrays. Census files come in DOT order too, so each lookup starts
 * where the last one ended (a cursor, reading memory in order) and only a line out of order pays
 * a binary search.
 */
export class StoredRows {
  private keys!: Float64Array;
  private hashes!: Float64Array;
  private lines!: Float64Array;
  /** MCS-150 and ADD dates in days since 2000-01-01, NO_DATE for null. */
  private mcs150!: Int32Array;
  private adds!: Int32Array;
  private flags!: Uint8Array;
  private cursor = 0;
  size = 0;
  /** Carriers not inactive (active or pending). */
  active = 0;

  constructor(capacity = 1 << 16) {
    this.allocate(capacity);
  }

  /** Empty arrays with room for `capacity` rows. */
  private allocate(capacity: number): void {
    this.keys = new Float64Array(capacity);
    this.hashes = new Float64Array(capacity);
    this.lines = new Float64Array(capacity);
    this.mcs150 = new Int32Array(capacity);
    this.adds = new Int32Array(capacity);
    this.flags = new Uint8Array(capacity);
  }

  /**
   * Reads every carrier with COPY ... TO (binary); a null digest is stored as -1, which no digest
   * equals. On PostgreSQL, two COPYs at once over the two halves of the heap, on two connections:
   * the read is the server's work (the row_hash columns are at the end of wide rows) and a second
   * core halves it. The ingest lock makes this run the only writer of carriers, so the two
   * snapshots see the same rows.
   */
  static async load(store: Store): Promise<StoredRows> {
    const est = await sql<{ n: number; pages: number }>`
      select reltuples::float8 as n, relpages::float8 as pages from pg_class where oid = 'carriers'::regclass`.execute(store.db);
    // Room for the carriers the statistics count (a bit more), so the arrays are not grown by doubling to twice that.
    const rows = Math.max(0, Number(est.rows[0]?.n ?? 0));
    const pages = Number(est.rows[0]?.pages ?? 0);
    if (store.kind !== 'pg' || pages < 2) return StoredRows.read(store, 'true', rows);
    const mid = Math.floor(pages / 2);
    const [a, b] = await Promise.all([StoredRows.read(store, `ctid < '(${mid},0)'::tid`, rows / 2), StoredRows.read(store, `ctid >= '(${mid},0)'::tid`, rows / 2)]);
    return StoredRows.merge(a, b);
  }

  private static async read(store: Store, where: string, expected: number): Promise<StoredRows> {
    const rows = new StoredRows(Math.max(1 << 16, Math.ceil(expected * 1.02)));
    let carry: Buffer | null = null;
    let header = true;
    // In the table's own order, not `order by`: a sequential read is 2.3x faster than walking the
    // key's index, and after a first load the heap is in DOT order but for the rows merges moved
    // (sorted here, see sortTail).
    const query = `select dot_number, coalesce(row_hash, -1), coalesce(line_hash, -1), status <> 'inactive',
      coalesce(mcs150_date - date '2000-01-01', ${NO_DATE}), coalesce(add_date - date '2000-01-01', ${NO_DATE}) from carriers where ${where}`;
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
      // int16 6; three (int32 8 + bigint); int32 1 + bool; two (int32 4 + int): 59 bytes; int16 -1
      // ends the data. The bigints are below 2^53 (or -1): two 32-bit halves, without a BigInt per value.
      while (p + ROW_BYTES <= buf.length && buf.readInt16BE(p) === 6) {
        rows.add(
          buf.readInt32BE(p + 6) * 0x100000000 + buf.readUInt32BE(p + 10),
          buf.readInt32BE(p + 18) * 0x100000000 + buf.readUInt32BE(p + 22),
          buf.readInt32BE(p + 30) * 0x100000000 + buf.readUInt32BE(p + 34),
          buf[p + 42] === 1,
          buf.readInt32BE(p + 47),
          buf.readInt32BE(p + 55),
        );
        p += ROW_BYTES;
      }
      if (p + 2 <= buf.length && buf.readInt16BE(p) === -1) p = buf.length;
      if (p < buf.length) carry = Buffer.from(buf.subarray(p));
    }
    rows.sortTail();
    return rows;
  }

  /** One StoredRows of two sorted ones (DOT numbers are a key: none is in both). */
  static merge(a: StoredRows, b: StoredRows): StoredRows {
    const out = new StoredRows(a.size + b.size);
    let i = 0;
    let j = 0;
    while (i < a.size || j < b.size) {
      if (j >= b.size || (i < a.size && a.keys[i]! < b.keys[j]!)) out.copyRow(a, i++);
      else out.copyRow(b, j++);
    }
    return out;
  }

  /** Rows that came after a greater DOT number, kept apart until sortTail(). */
  private later: StoredRows | null = null;

  /** Adds a carrier: in order, appended; else set apart for sortTail(). */
  add(dot: number, hash: number, line: number, notInactive: boolean, mcs150 = NO_DATE, add = NO_DATE): void {
    if (this.size && dot <= this.keys[this.size - 1]!) {
      this.later ??= new StoredRows();
      this.later.append(dot, hash, line, notInactive ? NOT_INACTIVE : 0, mcs150, add);
      return;
    }
    this.append(dot, hash, line, notInactive ? NOT_INACTIVE : 0, mcs150, add);
  }

  /** Sorts the rows set apart by add() and merges them in: then every lookup may use the order. */
  sortTail(): void {
    const later = this.later;
    if (!later) return;
    this.later = null;
    const order = Uint32Array.from({ length: later.size }, (_, i) => i).sort((a, b) => later.keys[a]! - later.keys[b]!);
    const main: StoredRows = Object.assign(Object.create(StoredRows.prototype) as StoredRows, this);
    this.allocate(main.size + later.size);
    this.size = 0;
    this.active = 0;
    let i = 0;
    let j = 0;
    while (i < main.size || j < order.length) {
      if (j >= order.length || (i < main.size && main.keys[i]! < later.keys[order[j]!]!)) this.copyRow(main, i++);
      else this.copyRow(later, order[j++]!);
    }
  }

  private copyRow(from: StoredRows, i: number): void {
    this.append(from.keys[i]!, from.hashes[i]!, from.lines[i]!, from.flags[i]!, from.mcs150[i]!, from.adds[i]!);
  }

  private append(dot: number, hash: number, line: number, flags: number, mcs150: number, add: number): void {
    if (this.size === this.keys.length) {
      const grow = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.keys = grow(this.keys);
      this.hashes = grow(this.hashes);
      this.lines = grow(this.lines);
      this.mcs150 = grow(this.mcs150);
      this.adds = grow(this.adds);
      this.flags = grow(this.flags);
    }
    const k = this.size++;
    this.keys[k] = dot;
    this.hashes[k] = hash;
    this.lines[k] = line;
    this.mcs150[k] = mcs150;
    this.adds[k] = add;
    this.flags[k] = flags;
    if (flags & NOT_INACTIVE) this.active++;
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

  lineAt(i: number): number {
    return this.lines[i]!;
  }

  mcs150At(i: number): number {
    return this.mcs150[i]!;
  }

  addDateAt(i: number): number {
    return this.adds[i]!;
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
const daysOf = (iso: string): number => Math.round((Date.parse(`${iso}T00:00:00Z`) - EPOCH_2000) / DAY_MS);
const isoOfDays = (days: number): string | null => (days === NO_DATE ? null : new Date(EPOCH_2000 + days * DAY_MS).toISOString().slice(0, 10));
const later = (a: string | null, b: string | null): string | null => (a === null || (b !== null && b > a) ? b : a);

export class RefreshWriter implements RecordWriter {
  readonly valueColumns: number;
  readonly overhead: number;
  /** Good records left out of the COPY (their carrier's row is the same). */
  leftOut = 0;
  /** Of which left out by their line digest alone, untyped (skipUnchanged). */
  leftOutUntyped = 0;
  /**
   * Good records staged whose values may still equal their carrier's: its row_hash unknown, or
   * equal to theirs (typed from another line). Any other staged row differs from its carrier (or
   * has none), so when there are none the merge has no digest-only update to look for.
   */
  mayEqual = 0;
  // Newest dates of the rows left out: typed ones as YYYYMMDD, untyped ones (their carrier's) in days.
  private newestMcs150 = 0;
  private newestAdd = 0;
  private newestMcs150Days = NO_DATE;
  private newestAddDays = NO_DATE;
  private readonly notAfter: number;
  private readonly notAfterDays: number;
  private readonly lineContext: LineContext;
  // DOT numbers left out: a bitmap covers every real one (< 2^26), a Set the rest (as ScanOutput's).
  private readonly outBits = new Uint8Array(1 << 23);
  private readonly outBig = new Set<number>();
  // The last lookup of skipUnchanged, which write() makes again when the line was not left out.
  private lastDot = -1;
  private lastIndex = -1;

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
    this.notAfterDays = daysOf(notAfter);
    this.lineContext = typer.lineContext;
  }

  get reject() {
    return this.typer.reject;
  }

  private find(dot: number): number {
    if (dot === this.lastDot) return this.lastIndex;
    this.lastDot = dot;
    this.lastIndex = this.stored.find(dot);
    return this.lastIndex;
  }

  /**
   * The scanner asks this first, for the line buf[s, e) at the start of a record (a CRLF's CR left
   * out): when its digest in the typer's context equals the line_hash of the carrier its DOT_NUMBER
   * field names, the line is the one that carrier's row was typed from and it is left out untyped;
   * returns that DOT number, else 0 (then the scanner checks and types the record as ever).
   *
   * The DOT number is read from the line before any check: commas are counted without regard to
   * quotes. A line read wrong cannot be left out wrongly: its digest would have to equal the one of
   * the line stored for the carrier it was read as, i.e. be that very line, which names that carrier.
   */
  skipUnchanged(buf: Buffer, s: number, e: number): number {
    let fs = s;
    for (let k = this.dotIndex; k > 0 && fs < e; fs++) if (buf[fs] === 0x2c) k--;
    let fe = fs;
    while (fe < e && buf[fe] !== 0x2c) fe++;
    const dot = parseDot(buf, fs, fe);
    if (dot <= 0) return 0;
    const stored = this.stored;
    const i = this.find(dot);
    if (i < 0) return 0;
    // Both digests are written together and cleared together; one unknown, the row is typed.
    const line = stored.lineAt(i);
    if (line < 0 || stored.hashAt(i) < 0 || lineDigest(buf, s, e, this.lineContext) !== line) return 0;
    stored.list(i);
    this.leftOut++;
    this.leftOutUntyped++;
    const m = stored.mcs150At(i);
    if (m > this.newestMcs150Days && m <= this.notAfterDays) this.newestMcs150Days = m;
    const a = stored.addDateAt(i);
    if (a > this.newestAddDays && a <= this.notAfterDays) this.newestAddDays = a;
    this.markLeftOut(dot);
    return dot;
  }

  write(buf: Buffer, starts: Int32Array, ends: Int32Array, out: Buffer, pos: number): number {
    const dot = parseDot(buf, starts[this.dotIndex]!, ends[this.dotIndex]!);
    const i = this.find(dot);
    if (i >= 0) this.stored.list(i);
    const end = this.typer.writeValues(buf, starts, ends, out, pos);
    if (end < 0) return end;
    // Left out only when both digests are the stored ones: a row equal in values but typed from
    // another line (or before line_hash existed) is staged, so the merge stores its line's digest
    // (a digest-only update) and next month's same line is left out untyped.
    if (i < 0 || this.stored.hashAt(i) !== this.typer.hash || this.stored.lineAt(i) !== this.typer.lineHash) {
      if (i >= 0 && (this.stored.hashAt(i) < 0 || this.stored.hashAt(i) === this.typer.hash)) this.mayEqual++;
      return this.typer.writeTail(out, end);
    }
    this.leftOut++;
    this.newestMcs150 = newer(out, this.typer.mcs150At, this.newestMcs150, this.notAfter);
    this.newestAdd = newer(out, this.typer.addAt, this.newestAdd, this.notAfter);
    this.markLeftOut(dot);
    return LEFT_OUT;
  }

  private markLeftOut(dot: number): void {
    if (dot < 1 << 26) this.outBits[dot >>> 3]! |= 1 << (dot & 7);
    else this.outBig.add(dot);
  }

  /** Newest MCS-150 and ADD dates (not after the last plausible day) of the records left out. */
  leftOutDates(): { newestMcs150: string | null; newestAddDate: string | null } {
    return {
      newestMcs150: later(isoOf(this.newestMcs150), isoOfDays(this.newestMcs150Days)),
      newestAddDate: later(isoOf(this.newestAdd), isoOfDays(this.newestAddDays)),
    };
  }

  /** Whether any line of these DOT numbers was left out. */
  leftOutAny(dots: Iterable<number>): boolean {
    for (const dot of dots) if (dot < 1 << 26 ? this.outBits[dot >>> 3]! & (1 << (dot & 7)) : this.outBig.has(dot)) return true;
    return false;
  }
}
