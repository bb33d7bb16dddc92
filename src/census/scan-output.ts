/**
 * The output side of the census scan (scanner.ts): the contract with the writer of typed values
 * (RecordWriter, the RowTyper), and the COPY stream the scan writes, a good record's typed row or
 * a reject row, into chunks of about `chunkBytes`, with the DOT numbers seen on accepted rows. The
 * base of CensusScanner (one class, so every per-record call stays a direct call).
 */
import type { CopyEncoding } from '../db/store.ts';
import { bufferEncoding, rawText, stripCrOutsideQuotes, writeInt } from './scan-bytes.ts';

/** Writes the typed values of a checked record (the RowTyper; tests use simpler ones). */
export interface RecordWriter {
  /** Value columns written per row, between dot_number and reject. */
  readonly valueColumns: number;
  /** Bytes a typed row may need beyond its record's length. */
  readonly overhead: number;
  /**
   * Writes the rest of the row (after `LINE,DOT,`, before the line break) for the record whose
   * fields are buf[starts[i], ends[i]) (quoted as in the file) into out at pos; returns the new
   * position, or -1 with `reject` set when a value cannot be typed, or LEFT_OUT for a good record
   * the COPY need not carry (the refresh's carrier whose row is unchanged: refresh-writer.ts).
   */
  write(buf: Buffer, starts: Int32Array, ends: Int32Array, out: Buffer, pos: number, line: number): number;
  readonly reject: { code: string; detail: string } | null;
  /**
   * Asked first for each record that starts a line whose line break is in the buffer, with the
   * line buf[s, e) (a CRLF's CR left out): a DOT number when the writer leaves the line out as a
   * good record it need not check or type (the refresh's unchanged line: refresh-writer.ts), else
   * 0. A writer answers only for a line it knows as the whole of a record accepted before, with the
   * same checks and typing.
   */
  skipUnchanged?(buf: Buffer, s: number, e: number): number;
}

/** What RecordWriter.write returns for an accepted record it leaves out of the COPY. */
export const LEFT_OUT = -2;

export interface ScanOptions {
  /** Fields per record, from the header. */
  fieldCount: number;
  /** Zero-based index of DOT_NUMBER. */
  dotIndex: number;
  encoding: CopyEncoding;
  writer: RecordWriter;
  /**
   * Where rejects go when the COPY target has no reject columns (the first load COPies straight
   * into carriers): the line, and the reason and raw text as quoted CSV fields in the file's
   * encoding. Without it, rejects are rows of the COPY stream.
   */
  onReject?: (line: number, reason: Buffer, raw: Buffer) => void;
  /**
   * Called for each accepted row once its typed row is written, with the record's fields as the
   * writer saw them (buf[starts[i], ends[i]), quoted as in the file): the first load normalizes the
   * e-mail field here, in the same byte pass (src/email/census-email-pass.ts).
   */
  onAccepted?: (dot: number, buf: Buffer, starts: Int32Array, ends: Int32Array) => void;
  /** Physical line number of the first byte given to the scanner (the header is line 1). */
  firstLine: number;
  /** Target size of an output chunk. */
  chunkBytes?: number;
}

export interface ScanStats {
  /** Records seen (good + rejected), blank lines excluded. */
  read: number;
  accepted: number;
  rejected: number;
  /** DOT numbers seen on more than one accepted line: the ingest keeps the last line of each. */
  duplicateDots: Set<number>;
}

/** Reject reason codes of the scan (the writer adds bad_date, bad_number, bad_flag, bad_status, field_too_long). */
export type ScanRejectCode = 'field_count' | 'bad_dot_number' | 'broken_quoting' | 'undecodable_bytes';

export class ScanOutput {
  readonly stats: ScanStats = { read: 0, accepted: 0, rejected: 0, duplicateDots: new Set() };
  protected readonly chunkBytes: number;
  protected readonly nullValues: Buffer;
  // Field boundaries of the record being scanned (quotes included), filled by scanRecord.
  protected readonly starts: Int32Array;
  protected readonly ends: Int32Array;
  protected line: number;
  protected out: Buffer;
  protected outPos = 0;
  protected readonly ready: Buffer[] = [];
  // Seen DOT numbers: a bitmap covers every real one (< 2^26) in 8 MB; a Set takes the rest.
  protected readonly seen = new Uint8Array(1 << 23);
  protected readonly seenBig = new Set<number>();
  // Set by scanRecord for the caller.
  protected recEnd = 0;
  protected recLines = 0;
  protected recHasCr = false;
  protected recDot = 0;

  constructor(protected readonly opts: ScanOptions) {
    this.chunkBytes = opts.chunkBytes ?? 1 << 20;
    this.nullValues = Buffer.from(','.repeat(opts.writer.valueColumns));
    this.starts = new Int32Array(opts.fieldCount);
    this.ends = new Int32Array(opts.fieldCount);
    this.line = opts.firstLine;
    this.out = Buffer.allocUnsafe(this.chunkBytes);
  }

  protected take(): Buffer[] {
    return this.ready.splice(0, this.ready.length);
  }

  protected emitGood(buf: Buffer, start: number, end: number): void {
    let e = end > start && buf[end - 1] === 0x0d ? end - 1 : end;
    if (this.recHasCr) {
      // Rare: a CR outside quotes inside the record. Strip it and find the fields again.
      buf = stripCrOutsideQuotes(buf.subarray(start, e));
      start = 0;
      e = buf.length;
      splitFields(buf, this.starts, this.ends);
    }
    const dot = this.recDot;
    const { writer } = this.opts;
    this.reserve(e - start + writer.overhead + 48);
    const rowStart = this.outPos;
    let pos = writeInt(this.out, this.outPos, this.line);
    this.out[pos++] = 0x2c;
    pos = writeInt(this.out, pos, dot);
    this.out[pos++] = 0x2c;
    pos = writer.write(buf, this.starts, this.ends, this.out, pos, this.line);
    if (pos === LEFT_OUT) this.outPos = rowStart;
    else if (pos < 0) {
      this.outPos = rowStart;
      const r = writer.reject!;
      this.emitReject(buf, start, e, { code: r.code, detail: r.detail }, dot);
      return;
    } else {
      this.out[pos++] = 0x0a;
      this.outPos = pos;
    }
    this.stats.accepted++;
    this.opts.onAccepted?.(dot, buf, this.starts, this.ends);
    this.seenDot(dot);
  }

  /** A good record's DOT number: one seen on an earlier good record is a duplicate. */
  protected seenDot(dot: number): void {
    if (dot < 1 << 26) {
      const byte = dot >>> 3;
      const bit = 1 << (dot & 7);
      if (this.seen[byte]! & bit) this.stats.duplicateDots.add(dot);
      else this.seen[byte]! |= bit;
    } else if (this.seenBig.has(dot)) this.stats.duplicateDots.add(dot);
    else this.seenBig.add(dot);
  }

  protected emitReject(buf: Buffer, start: number, end: number, err: { code: string; detail: string }, dot = 0): void {
    const raw = rawText(buf.subarray(start, end), this.opts.encoding);
    const reason = Buffer.from(`"${err.code}: ${err.detail.replaceAll('"', '""')}"`, bufferEncoding(this.opts.encoding));
    this.stats.rejected++;
    if (this.opts.onReject) {
      this.opts.onReject(this.line, reason, raw);
      return;
    }
    this.reserve(raw.length + reason.length + this.nullValues.length + 48);
    this.outPos = writeInt(this.out, this.outPos, this.line);
    this.out[this.outPos++] = 0x2c;
    if (dot > 0) this.outPos = writeInt(this.out, this.outPos, dot);
    this.out[this.outPos++] = 0x2c;
    this.outPos += this.nullValues.copy(this.out, this.outPos);
    this.outPos += reason.copy(this.out, this.outPos);
    this.out[this.outPos++] = 0x2c;
    this.outPos += raw.copy(this.out, this.outPos);
    this.out[this.outPos++] = 0x0a;
  }

  protected reserve(n: number): void {
    if (this.outPos + n <= this.out.length) return;
    if (this.outPos > 0) this.flush();
    if (n > this.out.length) this.out = Buffer.allocUnsafe(n);
  }

  protected flush(): void {
    this.ready.push(this.out.subarray(0, this.outPos));
    // A fresh buffer: the consumer may still hold the previous one.
    this.out = Buffer.allocUnsafe(this.chunkBytes);
    this.outPos = 0;
  }
}

/** Field boundaries of a checked record (quotes balanced): commas outside quotes split it. */
export function splitFields(buf: Buffer, starts: Int32Array, ends: Int32Array): void {
  let field = 0;
  let quoted = false;
  starts[0] = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x2c && !quoted) {
      ends[field++] = i;
      starts[field] = i + 1;
    }
  }
  ends[field] = buf.length;
}

