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
import { BAD, classTable, COMMA, CR, HIGH, LF, ORD, parseDot, QUOTE } from './scan-bytes.ts';
import { ScanOutput, type RecordWriter, type ScanOptions, type ScanRejectCode } from './scan-output.ts';

export { MAX_RAW_BYTES, parseDot, rawText } from './scan-bytes.ts';
export type { RecordWriter, ScanOptions, ScanRejectCode, ScanStats } from './scan-output.ts';

export const MAX_RECORD_LINES = 20;
export const MAX_RECORD_BYTES = 1 << 20;
/** A "line" this long is not census data; holding more would break the flat-memory promise. */
export const MAX_LINE_BYTES = 16 << 20;

const S_FIELD_START = 0;
const S_UNQUOTED = 1;
const S_QUOTED = 2;
const S_QUOTE_IN_QUOTED = 3;

const NEED_MORE = -1;
/** scanLine's answer when the record is not one well-formed line in the buffer: scanRecord decides. */
const SLOW = -1;

/** Why the last scanned record failed (valid when scanRecord returned an error). */
interface RecordError {
  code: ScanRejectCode;
  detail: string;
}

export class CensusScanner extends ScanOutput {
  private readonly table: Uint8Array;
  /** The byte classes inside quotes, where a comma or CR is text: ORD. */
  private readonly quotedTable: Uint8Array;
  private carry: Buffer | null = null;
  private err: RecordError | null = null;
  /** The writer, when it may leave whole lines out before they are checked (RecordWriter.skipUnchanged). */
  private readonly skip: RecordWriter | null;

  constructor(opts: ScanOptions) {
    if (opts.dotIndex < 0 || opts.dotIndex >= opts.fieldCount) throw new RangeError('dotIndex outside the header');
    super(opts);
    this.table = classTable(opts.encoding);
    this.quotedTable = this.table.slice();
    this.quotedTable[0x2c] = ORD;
    this.quotedTable[0x0d] = ORD;
    // onAccepted must see every good record's fields: no line is skipped for it.
    this.skip = opts.writer.skipUnchanged && !opts.onAccepted ? opts.writer : null;
  }

  /** Feeds the next bytes of the file; returns output chunks that are complete. */
  push(data: Buffer): Buffer[] {
    const carry = this.carry;
    this.carry = null;
    if (!carry) this.consume(data, false);
    else {
      // The record cut at the end of the last chunk, most often ended by this one's first line
      // break: joined with that line only, rather than copying the whole chunk after it.
      const lf = data.indexOf(0x0a);
      if (lf < 0) this.consume(Buffer.concat([carry, data]), false);
      else {
        this.consume(Buffer.concat([carry, data.subarray(0, lf + 1)]), false);
        const rest = data.subarray(lf + 1);
        const still = this.carry as Buffer | null;
        this.carry = null;
        // A record over several lines may still be open: then it goes on with the rest of the chunk.
        this.consume(still ? Buffer.concat([still, rest]) : rest, false);
      }
    }
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
      if (this.skip !== null) {
        // A line the writer knows is left out whole: one good record of one physical line.
        const lf = buf.indexOf(0x0a, pos);
        if (lf >= 0) {
          const dot = this.skip.skipUnchanged!(buf, pos, lf > pos && buf[lf - 1] === 0x0d ? lf - 1 : lf);
          if (dot > 0) {
            this.stats.read++;
            this.stats.accepted++;
            this.seenDot(dot);
            this.line++;
            pos = lf + 1;
            continue;
          }
        }
      }
      const r = this.scanLine(buf, pos, len) === SLOW ? this.scanRecord(buf, pos, len, final) : 0;
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
   * The common case of scanRecord, field by field instead of byte by byte: a good record of one
   * line, its line break in `buf`. Returns 0 with what scanRecord sets for a good record (err
   * stays null), or SLOW for anything else (a reject, a quoted line break, a stray CR, the end of
   * the buffer), which scanRecord then scans from the start: every reason and every NEED_MORE is
   * its alone, so this path only has to agree with it on good records (test/census/scan-paths.test.ts).
   */
  protected scanLine(buf: Buffer, start: number, len: number): number {
    const table = this.table;
    const quoted = this.quotedTable;
    const fieldCount = this.opts.fieldCount;
    const starts = this.starts;
    const ends = this.ends;
    let field = 0;
    let high = false;
    let i = start;
    starts[0] = start;
    let end: number;
    for (;;) {
      if (i >= len) return SLOW;
      if (buf[i] === 0x22) {
        // A quoted field: up to its closing quote; a doubled quote is text.
        i++;
        for (;;) {
          if (i >= len) return SLOW;
          const k = quoted[buf[i]!]!;
          if (k === ORD) i++;
          else if (k === QUOTE) {
            if (i + 1 < len && buf[i + 1] === 0x22) i += 2;
            else {
              i++;
              break;
            }
          } else if (k === HIGH) {
            high = true;
            i++;
          } else return SLOW;
        }
      } else {
        for (;;) {
          if (i >= len) return SLOW;
          const k = table[buf[i]!]!;
          if (k === ORD) i++;
          else if (k === HIGH) {
            high = true;
            i++;
          } else break;
        }
      }
      if (i >= len) return SLOW;
      const c = buf[i]!;
      if (c === 0x2c) {
        ends[field] = i;
        if (++field >= fieldCount) return SLOW;
        starts[field] = ++i;
        continue;
      }
      if (c === 0x0a) {
        end = i;
        break;
      }
      if (c === 0x0d && i + 1 < len && buf[i + 1] === 0x0a) {
        end = i + 1;
        break;
      }
      return SLOW;
    }
    if (field + 1 !== fieldCount) return SLOW;
    if (high && !isUtf8(buf.subarray(start, end))) return SLOW;
    ends[field] = buf[end - 1] === 0x0d ? end - 1 : end;
    const dotIndex = this.opts.dotIndex;
    const dot = parseDot(buf, starts[dotIndex]!, ends[dotIndex]!);
    if (dot <= 0) return SLOW;
    this.recEnd = end;
    this.recLines = 1;
    this.recHasCr = false;
    this.recDot = dot;
    return 0;
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
}

/** Streams a file's records (after its header line) through the scanner. */
export async function* scanStream(source: AsyncIterable<Buffer>, scanner: CensusScanner): AsyncGenerator<Buffer> {
  for await (const data of source) {
    for (const chunk of scanner.push(data)) yield chunk;
  }
  for (const chunk of scanner.end()) yield chunk;
}
