/**
 * The hot path of the census ingest: a byte-level pass that splits a census file into records,
 * checks each one, and writes either its typed row (through a RecordWriter: the RowTyper) or a
 * reject to the stream PostgreSQL COPY reads. csv-parse in JavaScript was several times slower
 * than COPY itself (see docs/architecture.md); this pass touches each byte once, and COPY then
 * parses only the small typed projection.
 *
 * What it guarantees before the writer sees a record: exactly the header's field count, RFC 4180
 * quoting (no stray quote PostgreSQL would read differently), a DOT number of digits, no NUL and
 * no byte undecodable in the file's encoding. CRs outside quotes are stripped, so CRLF and LF files
 * load alike. An unterminated quote cannot swallow the file: a record may span at most
 * MAX_RECORD_LINES physical lines; on any error only the first physical line of the record is
 * rejected and the scan resumes at the next one.
 *
 * Output rows (FORMAT csv) into the typed table (line_no, dot_number, <values>, reject, raw):
 *   good:   `LINE,DOT,` + the writer's values and tail (null reject and raw)
 *   reject: `LINE,[DOT],` + one comma per value + `"reason","raw text"`
 * so one COPY carries both, and no reject is held in memory.
 */
import { isUtf8 } from 'node:buffer';
import { InputError } from '../errors.ts';
import type { CopyEncoding } from '../db/store.ts';
import { BAD, bufferEncoding, classTable, COMMA, CR, LF, ORD, parseDot, QUOTE, rawText, stripCrOutsideQuotes, writeInt } from './scan-bytes.ts';

export { MAX_RAW_BYTES, parseDot, rawText } from './scan-bytes.ts';

/** Writes the typed values of a checked record (the RowTyper; tests use simpler ones). */
export interface RecordWriter {
  /** Value columns written per row, between dot_number and reject. */
  readonly valueColumns: number;
  /** Bytes a typed row may need beyond its record's length. */
  readonly overhead: number;
  /**
   * Writes the rest of the row (after `LINE,DOT,`, before the line break) for the record whose
   * fields are buf[starts[i], ends[i]) (quoted as in the file) into out at pos; returns the new
   * position, or -1 with `reject` set when a value cannot be typed.
   */
  write(buf: Buffer, starts: Int32Array, ends: Int32Array, out: Buffer, pos: number, line: number): number;
  readonly reject: { code: string; detail: string } | null;
}

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

export const MAX_RECORD_LINES = 20;
export const MAX_RECORD_BYTES = 1 << 20;
/** A "line" this long is not census data; holding more would break the flat-memory promise. */
export const MAX_LINE_BYTES = 16 << 20;

const S_FIELD_START = 0;
const S_UNQUOTED = 1;
const S_QUOTED = 2;
const S_QUOTE_IN_QUOTED = 3;

const NEED_MORE = -1;

/** Why the last scanned record failed (valid when scanRecord returned an error). */
interface RecordError {
  code: ScanRejectCode;
  detail: string;
}

export class CensusScanner {
  readonly stats: ScanStats = { read: 0, accepted: 0, rejected: 0, duplicateDots: new Set() };
  private readonly table: Uint8Array;
  private readonly chunkBytes: number;
  private readonly nullValues: Buffer;
  // Field boundaries of the record being scanned (quotes included), filled by scanRecord.
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private line: number;
  private carry: Buffer | null = null;
  private out: Buffer;
  private outPos = 0;
  private readonly ready: Buffer[] = [];
  // Seen DOT numbers: a bitmap covers every real one (< 2^26) in 8 MB; a Set takes the rest.
  private readonly seen = new Uint8Array(1 << 23);
  private readonly seenBig = new Set<number>();
  // Set by scanRecord for the caller.
  private recEnd = 0;
  private recLines = 0;
  private recHasCr = false;
  private recDot = 0;
  private err: RecordError | null = null;

  constructor(private readonly opts: ScanOptions) {
    if (opts.dotIndex < 0 || opts.dotIndex >= opts.fieldCount) throw new RangeError('dotIndex outside the header');
    this.table = classTable(opts.encoding);
    this.chunkBytes = opts.chunkBytes ?? 1 << 20;
    this.nullValues = Buffer.from(','.repeat(opts.writer.valueColumns));
    this.starts = new Int32Array(opts.fieldCount);
    this.ends = new Int32Array(opts.fieldCount);
    this.line = opts.firstLine;
    this.out = Buffer.allocUnsafe(this.chunkBytes);
  }

  /** Feeds the next bytes of the file; returns output chunks that are complete. */
  push(data: Buffer): Buffer[] {
    const buf = this.carry ? Buffer.concat([this.carry, data]) : data;
    this.carry = null;
    this.consume(buf, false);
    return this.take();
  }

  /** End of file: flushes the last record (a missing final newline is fine) and the output. */
  end(): Buffer[] {
    if (this.carry) {
      const buf = this.carry;
      this.carry = null;
      this.consume(buf, true);
    }
    if (this.outPos > 0) this.flush();
    return this.take();
  }

  private take(): Buffer[] {
    return this.ready.splice(0, this.ready.length);
  }

  private consume(buf: Buffer, final: boolean): void {
    let pos = 0;
    const len = buf.length;
    while (pos < len) {
      const c = buf[pos]!;
      // Blank lines are not records.
      if (c === 0x0a) {
        pos++;
        this.line++;
        continue;
      }
      if (c === 0x0d) {
        if (pos + 1 >= len && !final) {
          this.carry = buf.subarray(pos);
          return;
        }
        if (pos + 1 >= len || buf[pos + 1] === 0x0a) {
          pos += 2;
          this.line++;
          continue;
        }
      }
      const r = this.scanRecord(buf, pos, len, final);
      if (r === NEED_MORE) {
        if (len - pos > MAX_LINE_BYTES)
          throw new InputError(`line ${this.line} is longer than ${MAX_LINE_BYTES >> 20} MB without a line break: this is not a census file. Check the file you passed.`);
        this.carry = buf.subarray(pos);
        return;
      }
      this.stats.read++;
      if (this.err) {
        // Reject exactly one physical line and resume after it.
        // scanRecord made sure the line break is in the buffer unless this is the end of the file.
        const lf = buf.indexOf(0x0a, pos);
        let lineEnd = lf < 0 ? len : lf;
        if (lineEnd > pos && buf[lineEnd - 1] === 0x0d) lineEnd--;
        this.emitReject(buf, pos, lineEnd, this.err);
        this.err = null;
        pos = lf < 0 ? len : lf + 1;
        this.line++;
        continue;
      }
      this.emitGood(buf, pos, this.recEnd);
      this.line += this.recLines;
      pos = this.recEnd < len ? this.recEnd + 1 : len;
    }
  }

  /**
   * Scans the record starting at `start`. Returns NEED_MORE when it does not end in `buf`, else 0
   * with recEnd (index of its terminating LF, or len at EOF), recLines (LFs consumed including the
   * terminator) and err (null when good).
   */
  private scanRecord(buf: Buffer, start: number, len: number, final: boolean): number {
    const table = this.table;
    const { fieldCount, dotIndex } = this.opts;
    const starts = this.starts;
    const ends = this.ends;
    let state = S_FIELD_START;
    let field = 0;
    let lines = 0;
    let hasCr = false;
    let high = false;
    let err: RecordError | null = null;
    starts[0] = start;
    let i = start;
    let ended = false;
    for (; i < len; i++) {
      const k = table[buf[i]!]!;
      if (k === ORD) {
        if (state === S_FIELD_START) state = S_UNQUOTED;
        else if (state === S_QUOTE_IN_QUOTED) {
          err = { code: 'broken_quoting', detail: `text after a closing quote in field ${field + 1}` };
          break;
        }
        // The rest of a run of ordinary bytes changes nothing: skip it without the state dispatch.
        while (i + 1 < len && table[buf[i + 1]!] === ORD) i++;
        continue;
      }
      if (k === COMMA) {
        if (state === S_QUOTED) continue;
        if (field < fieldCount) ends[field] = i;
        field++;
        if (field < fieldCount) starts[field] = i + 1;
        state = S_FIELD_START;
        continue;
      }
      if (k === QUOTE) {
        if (state === S_FIELD_START) state = S_QUOTED;
        else if (state === S_QUOTED) state = S_QUOTE_IN_QUOTED;
        else if (state === S_QUOTE_IN_QUOTED) state = S_QUOTED;
        else {
          err = { code: 'broken_quoting', detail: `quote inside an unquoted field ${field + 1}` };
          break;
        }
        continue;
      }
      if (k === LF) {
        lines++;
        if (state === S_QUOTED) {
          if (lines >= MAX_RECORD_LINES || i - start > MAX_RECORD_BYTES) {
            err = { code: 'broken_quoting', detail: `quoted field ${field + 1} is not closed` };
            break;
          }
          continue;
        }
        ended = true;
        break;
      }
      if (k === CR) {
        // The CR of a CRLF ending is simply left out of the record; any other CR outside quotes is stripped.
        if (state !== S_QUOTED && !(i + 1 < len && buf[i + 1] === 0x0a)) hasCr = true;
        continue;
      }
      if (k === BAD) {
        err = {
          code: 'undecodable_bytes',
          detail: buf[i] === 0 ? `NUL byte in field ${field + 1}` : `byte 0x${buf[i]!.toString(16).toUpperCase()} is undefined in Windows-1252 (field ${field + 1})`,
        };
        break;
      }
      // HIGH (UTF-8 files): validated once per record below.
      high = true;
      if (state === S_FIELD_START) state = S_UNQUOTED;
      else if (state === S_QUOTE_IN_QUOTED) {
        err = { code: 'broken_quoting', detail: `text after a closing quote in field ${field + 1}` };
        break;
      }
    }
    if (!err && !ended) {
      if (!final) return NEED_MORE;
      if (state === S_QUOTED) err = { code: 'broken_quoting', detail: `quoted field ${field + 1} is not closed at the end of the file` };
    }
    if (err && lines > 0 && err.code === 'broken_quoting')
      err = { code: 'broken_quoting', detail: 'a quoted field is not closed before the end of the line' };
    if (err) {
      // The error may be decided before the first line break is in the buffer.
      if (!final && buf.indexOf(0x0a, start) < 0) return NEED_MORE;
      this.err = err;
      return 0;
    }
    const end = i; // LF index, or len at EOF
    if (field + 1 !== fieldCount) {
      this.err = { code: 'field_count', detail: `${field + 1} fields, the header has ${fieldCount}` };
      return 0;
    }
    if (high && !isUtf8(buf.subarray(start, end))) {
      this.err = { code: 'undecodable_bytes', detail: 'invalid UTF-8' };
      return 0;
    }
    // The last field ends before a CRLF's CR.
    ends[field] = end > start && buf[end - 1] === 0x0d ? end - 1 : end;
    const dot = parseDot(buf, starts[dotIndex]!, ends[dotIndex]!);
    if (dot <= 0) {
      this.err = { code: 'bad_dot_number', detail: 'DOT_NUMBER must be 1 to 15 digits, not zero' };
      return 0;
    }
    this.recEnd = end;
    this.recLines = lines;
    this.recHasCr = hasCr;
    this.recDot = dot;
    return 0;
  }

  private emitGood(buf: Buffer, start: number, end: number): void {
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
    if (pos < 0) {
      this.outPos = rowStart;
      const r = writer.reject!;
      this.emitReject(buf, start, e, { code: r.code, detail: r.detail }, dot);
      return;
    }
    this.out[pos++] = 0x0a;
    this.outPos = pos;
    this.stats.accepted++;

    if (dot < 1 << 26) {
      const byte = dot >>> 3;
      const bit = 1 << (dot & 7);
      if (this.seen[byte]! & bit) this.stats.duplicateDots.add(dot);
      else this.seen[byte]! |= bit;
    } else if (this.seenBig.has(dot)) this.stats.duplicateDots.add(dot);
    else this.seenBig.add(dot);
  }

  private emitReject(buf: Buffer, start: number, end: number, err: { code: string; detail: string }, dot = 0): void {
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

  private reserve(n: number): void {
    if (this.outPos + n <= this.out.length) return;
    if (this.outPos > 0) this.flush();
    if (n > this.out.length) this.out = Buffer.allocUnsafe(n);
  }

  private flush(): void {
    this.ready.push(this.out.subarray(0, this.outPos));
    // A fresh buffer: the consumer may still hold the previous one.
    this.out = Buffer.allocUnsafe(this.chunkBytes);
    this.outPos = 0;
  }
}

/** Field boundaries of a checked record (quotes balanced): commas outside quotes split it. */
function splitFields(buf: Buffer, starts: Int32Array, ends: Int32Array): void {
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


/** Streams a file's records (after its header line) through the scanner. */
export async function* scanStream(source: AsyncIterable<Buffer>, scanner: CensusScanner): AsyncGenerator<Buffer> {
  for await (const data of source) {
    for (const chunk of scanner.push(data)) yield chunk;
  }
  for (const chunk of scanner.end()) yield chunk;
}
