/**
 * Rows for COPY ... WITH (FORMAT binary), written field by field into one growing buffer.
 *
 * The server reads binary fields as they are: no CSV to scan and unquote, no text to parse into a
 * timestamptz, date or bigint. For the scrub's delivery events that was about a quarter of the
 * server's COPY time, and writing a row here allocates nothing on the JavaScript heap (a CSV line
 * was a handful of strings per row). The store frames what `chunks()` yields with the format's
 * header and trailer (store.ts), once per COPY statement it issues.
 *
 * Layout (PostgreSQL "COPY" docs, binary format): per row an int16 field count, then per field an
 * int32 byte length (-1 for NULL) and the bytes, integers in network order.
 */

/** The 11-byte signature, the int32 flags and the int32 header-extension length. */
export const COPY_BINARY_HEADER = Buffer.from('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0', 'latin1');
/** The file trailer: a field count of -1. */
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** Milliseconds from the Unix epoch to PostgreSQL's, 2000-01-01 00:00:00 UTC. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 2 ** 32;

/** A buffer is handed over at the first row boundary past this size (a few COPY messages' worth). */
const CHUNK_BYTES = 1 << 20;

/** Text values up to this many UTF-16 units are copied in JavaScript; longer ones by the encoder. */
const SHORT_TEXT = 32;

type Utf8Write = { utf8Write(s: string, offset: number, length: number): number };

export class BinaryRows {
  private buf = Buffer.allocUnsafeSlow(1 << 16);
  private pos = 0;
  private readonly full: Uint8Array[] = [];
  private rows = 0;

  /** Rows written. */
  get count(): number {
    return this.rows;
  }

  /** Starts a row of `fields` fields (the row before it must be complete). */
  row(fields: number): void {
    // Between rows: a full buffer is handed over as it is, and the next rows start a new one.
    if (this.pos >= CHUNK_BYTES) this.cut();
    this.room(2);
    this.buf[this.pos] = fields >>> 8;
    this.buf[this.pos + 1] = fields;
    this.pos += 2;
    this.rows++;
  }

  /**
   * A text column. Any string is a valid value: the encoder writes a lone surrogate as U+FFFD, and
   * a NUL, which PostgreSQL's text cannot hold (the whole COPY would fail: "invalid byte sequence
   * for encoding UTF8: 0x00"), is written as U+FFFD too.
   */
  text(v: string | null): void {
    if (v === null) return this.null();
    const len = v.length;
    // At most 3 bytes per UTF-16 unit; the length is written once the bytes are.
    this.room(4 + len * 3);
    const buf = this.buf;
    const at = this.pos + 4;
    // Short ASCII values (ids, hosts, classes) are stored here byte by byte, for less than a call
    // into the encoder; longer ones (a bounce's reply text) go to the encoder at once, several
    // times faster per character. Both write the same bytes.
    let i = 0;
    if (len <= SHORT_TEXT) {
      for (; i < len; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80 || c === 0) break;
        buf[at + i] = c;
      }
    }
    // U+FFFD is 3 bytes, as many as the room reserved for any unit.
    const n = i === len ? len : (buf as unknown as Utf8Write).utf8Write(v.includes('\0') ? v.replaceAll('\0', '\uFFFD') : v, at, len * 3);
    this.int32(n);
    this.pos += n;
  }

  /** A field's length word (or any int32) at the write position. */
  private int32(v: number): void {
    const buf = this.buf;
    const p = this.pos;
    buf[p] = v >>> 24;
    buf[p + 1] = v >>> 16;
    buf[p + 2] = v >>> 8;
    buf[p + 3] = v;
    this.pos = p + 4;
  }

  /** A bigint column; `v` must be an integer within ±2^53. */
  int8(v: number): void {
    this.room(12);
    const hi = Math.floor(v / TWO_32);
    this.int32(8);
    this.int32(hi);
    this.int32(v - hi * TWO_32);
  }

  /** An integer column; `v` must fit in 32 bits. */
  int4(v: number): void {
    this.room(8);
    this.int32(4);
    this.int32(v);
  }

  /** Bytes already framed elsewhere as whole fields (a field copied from a COPY ... TO in binary). */
  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Bytes written and not yet handed over (by take or chunks). */
  get pending(): number {
    return this.pos + this.full.reduce((n, c) => n + c.length, 0);
  }

  /** The rows written since the last take, in chunks of whole rows; the rows start over empty. */
  take(): Uint8Array[] {
    if (this.pos > 0) this.cut();
    return this.full.splice(0, this.full.length);
  }

  /**
   * Hands the rows written since the last take to `sink`, which is done with each chunk when it
   * returns (a synchronous write): the buffer is then written over by the next rows. Drained
   * before it fills up, a writer allocates nothing more (the spool of a long pass, row-spool.ts,
   * left a MB of garbage outside the heap per chunk, freed only by a full collection).
   */
  drain(sink: (chunk: Uint8Array) => void): void {
    for (const c of this.full.splice(0, this.full.length)) sink(c);
    if (this.pos > 0) sink(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  bool(v: boolean): void {
    this.room(5);
    this.int32(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  /** A timestamptz from epoch milliseconds (microseconds since 2000-01-01 UTC on the wire). */
  timestamptz(ms: number): void {
    this.int8((ms - PG_EPOCH_MS) * 1000);
  }

  /** A date from days since 1970-01-01 (days since 2000-01-01 on the wire). */
  date(epochDays: number): void {
    this.room(8);
    this.int32(4);
    this.int32(epochDays - PG_EPOCH_MS / 86_400_000);
  }

  null(): void {
    this.room(4);
    this.int32(-1);
  }

  /** The rows written, in chunks of whole rows (for Store.copy with format 'binary'). */
  chunks(): Uint8Array[] {
    if (this.pos > 0) this.cut();
    return this.full;
  }

  private cut(): void {
    this.full.push(this.buf.subarray(0, this.pos));
    // The next chunk will fill up too: room for it at once rather than doubling up to it.
    this.buf = Buffer.allocUnsafeSlow(CHUNK_BYTES + (1 << 16));
    this.pos = 0;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}
