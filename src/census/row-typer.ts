/**
 * Typing of one census record, at byte level, while the scanner splits the file: the fields the
 * carriers table keeps become their typed text form (ISO dates, t/f flags, bare integers,
 * digits-only phone, trimmed names), sentinels become null with a data flag, FMCSA test records are
 * marked, and a value that cannot be typed rejects the record with its reason.
 *
 * Why here and not in SQL: the scanner already visits every byte to find the field boundaries, so
 * typing the ~25 fields we keep costs little more, runs on the Node core while PostgreSQL's COPY
 * uses the other, and the COPY then carries only the typed projection straight into a typed table.
 * Typing the same rows in SQL after the load (one CTAS over 2.1M text rows, date lookups and regular
 * expressions per field) took longer than the load itself.
 *
 * The rules are the SQL ones they replace, byte for byte: PostgreSQL's btrim (spaces only), its
 * `\s` for integers, the DD-MON-YY window of the two-digit-year pivot, YYYYMMDD from 1900 to 2099
 * with the Company Census " HHMM" suffix, and format('%L') for the value quoted in a reason.
 * Reason codes: bad_date, bad_number, bad_flag, bad_status, field_too_long (FIELD_MAX_BYTES).
 */
import type { CensusConfig } from './config.ts';
import { FIELD_MAX_BYTES, FIELDS, fieldKind, type CarrierField, type DetectedFormat, type FieldKind } from './formats.ts';
import { lineContext, lineDigest, rowHash, rowHashSeed, type LineContext } from './row-hash.ts';
import { bufferEncoding, writeInt } from './scan-bytes.ts';
import type { RecordWriter } from './scanner.ts';
import { CARRIER_VALUE_COLUMNS } from './typed-columns.ts';
import {
  copy, copyField, equalsUpper, F_DRIVERS, F_MILEAGE, F_UNITS, F_YEAR, given, indexOfLower, isoDate, NOT_GIVEN, parseInteger, sqlLiteral, uatAddress, writeDataFlags,
  yesNo,
} from './typed-values.ts';

export interface RowTyperOptions {
  detected: DetectedFormat;
  config: Pick<CensusConfig, 'absurdCount' | 'absurdMileage'>;
  /** DD-MON-YY: YY <= pivot is in the current century. */
  pivot: number;
  /** The current year (its century anchors the pivot window). */
  year: number;
  /**
   * What follows the values on each row: by default `,,` (the typed table's null reject and raw);
   * the first load into carriers writes its bookkeeping columns here instead, with `inactiveTail`
   * for a carrier whose status is inactive (its deactivated_at is set).
   */
  tail?: { active: Buffer; inactive: Buffer };
}

type TypingReject = NonNullable<RecordWriter['reject']>;

// Field kinds and the roles of fields with extra rules, as small integers: the row loop runs 50M times.
const K_TEXT = 0;
const K_RAW = 1;
const K_DIGITS = 2;
const K_INT = 3;
const K_DATE = 4;
const K_FLAG = 5;
const K_XFLAG = 6;
const K_STATUS = 7;
const KINDS: Record<FieldKind, number> = { text: K_TEXT, raw: K_RAW, digits: K_DIGITS, int: K_INT, date: K_DATE, flag: K_FLAG, xflag: K_XFLAG, status: K_STATUS };
const R_NONE = 0;
const R_LEGAL_NAME = 1;
const R_EMAIL = 2;
const R_PHONE = 3;
const R_MILEAGE_YEAR = 4;
const R_MILEAGE = 5;
const R_POWER_UNITS = 6;
const R_DRIVERS = 7;
const R_MCS150_DATE = 8;
const R_ADD_DATE = 9;
const ROLES: Partial<Record<CarrierField, number>> = {
  legal_name: R_LEGAL_NAME,
  email_raw: R_EMAIL,
  phone: R_PHONE,
  mcs150_mileage_year: R_MILEAGE_YEAR,
  mcs150_mileage: R_MILEAGE,
  power_units: R_POWER_UNITS,
  drivers: R_DRIVERS,
  mcs150_date: R_MCS150_DATE,
  add_date: R_ADD_DATE,
};

interface Slot {
  kind: number;
  role: number;
  /** Position in the file, or -1 when the format lacks the column. */
  pos: number;
  /** The file's column name, for reasons. */
  column: string;
  /** Longest value in bytes (FIELD_MAX_BYTES); Infinity for typed fields. */
  max: number;
}

// Module-local, not imported: V8 folds a local const into the row loop, an import is a load each time.
const SP = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const FMCSA_NAME = Buffer.from('FEDERAL MOTOR CARRIER SAFETY ADMINISTRATION');
const DOT_GOV_TEST = Buffer.from('@dot.gov.test');
const TEST_PHONE = Buffer.from('2025555555');
const ACTIVE = Buffer.from('active');
const INACTIVE = Buffer.from('inactive');
const PENDING = Buffer.from('pending');
const DEFAULT_TAIL = Buffer.from(',,');
/** Room the typed form may need beyond the record's own bytes (quotes, ISO dates, flags, t/f). */
const MAX_TYPED_OVERHEAD = 512;

export class RowTyper implements RecordWriter {
  /** The values and their two digests (row_hash, line_hash). */
  readonly valueColumns = CARRIER_VALUE_COLUMNS.length + 2;
  readonly overhead: number;
  private readonly slots: Slot[];
  private readonly encoding: BufferEncoding;
  private readonly firstYear: number;
  private readonly absurdCount: number;
  private readonly absurdMileage: number;
  private readonly tail: Buffer;
  private readonly inactiveTail: Buffer;
  private readonly hashSeed: number;
  /** What typing a line depends on besides its bytes (row-hash.ts): the refresh digests lines in it too. */
  readonly lineContext: LineContext;
  private readonly lastField: number;
  /** The last row's carriers.row_hash (row-hash.ts), written after is_test_record. */
  hash = 0;
  /** The last row's carriers.line_hash: the digest of its record as scanned, in lineContext. */
  lineHash = 0;
  private inactive = false;
  /** Where the last row's MCS-150 and ADD dates are in `out` (ISO text), -1 when null: the refresh reads them. */
  mcs150At = -1;
  addAt = -1;
  /** Set when write() returns -1. */
  reject: TypingReject | null = null;
  // Content bounds of the field being typed (quotes removed), set by content().
  private cs = 0;
  private ce = 0;
  private quoted = false;

  constructor(o: RowTyperOptions) {
    const { format, positions, header } = o.detected;
    this.slots = (Object.keys(FIELDS) as CarrierField[]).map((field) => {
      const pos = positions[field] ?? -1;
      return { kind: KINDS[fieldKind(format, field)], role: ROLES[field] ?? R_NONE, pos, column: pos >= 0 ? header[pos]! : '', max: FIELD_MAX_BYTES[field] ?? Infinity };
    });
    this.encoding = bufferEncoding(format.encoding);
    const century = Math.floor(o.year / 100) * 100;
    this.firstYear = century - 100 + o.pivot + 1;
    this.absurdCount = o.config.absurdCount;
    this.absurdMileage = o.config.absurdMileage;
    this.tail = o.tail?.active ?? DEFAULT_TAIL;
    this.inactiveTail = o.tail?.inactive ?? DEFAULT_TAIL;
    this.overhead = MAX_TYPED_OVERHEAD + Math.max(this.tail.length, this.inactiveTail.length);
    this.hashSeed = rowHashSeed(format.encoding);
    this.lineContext = lineContext({ format: format.id, encoding: format.encoding, header, firstYear: this.firstYear, absurdCount: this.absurdCount, absurdMileage: this.absurdMileage });
    this.lastField = header.length - 1;
  }

  /**
   * Writes the typed row of the record whose fields are buf[starts[i], ends[i]) (still quoted as
   * in the file) into `out` at `pos`: the CARRIER_VALUE_COLUMNS separated by commas, their digest
   * (row_hash), the record's (line_hash), then the tail.
   * Returns the new position, or -1 with `reject` set (then `out` past `pos` is garbage). `out`
   * must have room for the record's length plus `overhead`.
   */
  write(buf: Buffer, starts: Int32Array, ends: Int32Array, out: Buffer, pos: number): number {
    const end = this.writeValues(buf, starts, ends, out, pos);
    return end < 0 ? end : this.writeTail(out, end);
  }

  /**
   * The values alone (write() without the digests and tail): returns the position after them, or -1
   * as write(). Sets `hash` and `lineHash`, so the refresh can drop the row before writing the rest (writeTail).
   */
  writeValues(buf: Buffer, starts: Int32Array, ends: Int32Array, out: Buffer, pos: number): number {
    let flags = 0;
    let phoneStart = -1;
    let phoneEnd = -1;
    let emailStart = -1;
    let emailEnd = -1;
    let testName = false;
    let inactive = false;
    const valuesAt = pos;
    this.mcs150At = -1;
    this.addAt = -1;
    const slots = this.slots;
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[k]!;
      if (slot.pos < 0) {
        if (slot.kind === K_STATUS) pos = copy(ACTIVE, 0, ACTIVE.length, out, pos);
        out[pos++] = COMMA;
        continue;
      }
      this.content(buf, starts[slot.pos]!, ends[slot.pos]!);
      const cs = this.cs;
      const ce = this.ce;
      if (ce - cs > slot.max) return this.fail('field_too_long', `${slot.column} is ${ce - cs} bytes, at most ${slot.max}`);
      switch (slot.kind) {
        case K_TEXT: {
          let s = cs;
          let e = ce;
          while (s < e && buf[s] === SP) s++;
          while (e > s && buf[e - 1] === SP) e--;
          if (e > s) {
            pos = copyField(buf, s, e, out, pos);
            if (slot.role === R_LEGAL_NAME && e - s === FMCSA_NAME.length && equalsUpper(buf, s, FMCSA_NAME)) testName = true;
          }
          break;
        }
        case K_RAW:
          // As filed: the e-mail stage normalizes it and must see the original spelling.
          if (ce > cs) {
            const at = pos;
            pos = copyField(buf, cs, ce, out, pos);
            if (slot.role === R_EMAIL) {
              // The value's bytes, inside the quotes if it got them.
              emailStart = out[at] === QUOTE ? at + 1 : at;
              emailEnd = out[at] === QUOTE ? pos - 1 : pos;
            }
          }
          break;
        case K_DIGITS: {
          const from = pos;
          for (let i = cs; i < ce; i++) {
            const c = buf[i]!;
            if (c >= 0x30 && c <= 0x39) out[pos++] = c;
          }
          if (slot.role === R_PHONE && pos > from) {
            phoneStart = from;
            phoneEnd = pos;
          }
          break;
        }
        case K_INT: {
          const v = parseInteger(buf, cs, ce);
          if (v === NOT_GIVEN) break;
          if (v < 0) return this.fail('bad_number', `${slot.column} ${this.literal(buf)}`);
          let keep = true;
          if (slot.role === R_MILEAGE_YEAR && (v === 0 || v === 9999 || v < 1900 || v > 2100)) {
            flags |= F_YEAR;
            keep = false;
          } else if (slot.role === R_MILEAGE && v > this.absurdMileage) {
            flags |= F_MILEAGE;
            keep = false;
          } else if (slot.role === R_POWER_UNITS && v > this.absurdCount) {
            flags |= F_UNITS;
            keep = false;
          } else if (slot.role === R_DRIVERS && v > this.absurdCount) {
            flags |= F_DRIVERS;
            keep = false;
          }
          if (keep) pos = writeInt(out, pos, v);
          break;
        }
        case K_DATE: {
          if (!given(buf, cs, ce)) break;
          const at = isoDate(buf, cs, ce, out, pos, this.firstYear);
          if (at < 0) return this.fail('bad_date', `${slot.column} ${this.literal(buf)}`);
          if (slot.role === R_MCS150_DATE) this.mcs150At = pos;
          else if (slot.role === R_ADD_DATE) this.addAt = pos;
          pos = at;
          break;
        }
        case K_FLAG: {
          if (!given(buf, cs, ce)) break;
          const v = yesNo(buf, cs, ce);
          if (v === 0) return this.fail('bad_flag', `${slot.column} ${this.literal(buf)} (expected Y/N or true/false)`);
          out[pos++] = v;
          break;
        }
        case K_XFLAG: {
          let s = cs;
          let e = ce;
          while (s < e && buf[s] === SP) s++;
          while (e > s && buf[e - 1] === SP) e--;
          if (e === s) out[pos++] = 0x66; // f
          else if (e - s === 1 && (buf[s] === 0x58 || buf[s] === 0x78)) out[pos++] = 0x74; // t
          else return this.fail('bad_flag', `${slot.column} ${this.literal(buf)} (expected X or empty)`);
          break;
        }
        case K_STATUS: {
          let s = cs;
          let e = ce;
          while (s < e && buf[s] === SP) s++;
          while (e > s && buf[e - 1] === SP) e--;
          const c = e - s === 1 ? buf[s]! | 0x20 : 0;
          if (c === 0x61) pos = copy(ACTIVE, 0, ACTIVE.length, out, pos);
          else if (c === 0x69) {
            pos = copy(INACTIVE, 0, INACTIVE.length, out, pos);
            inactive = true;
          } else if (c === 0x70) pos = copy(PENDING, 0, PENDING.length, out, pos);
          else return this.fail('bad_status', `${slot.column} ${this.literal(buf)} (expected A, I or P)`);
          break;
        }
      }
      out[pos++] = COMMA;
    }
    // data_flags
    if (flags === 0) {
      out[pos++] = 0x7b;
      out[pos++] = 0x7d;
    } else pos = writeDataFlags(out, pos, flags);
    out[pos++] = COMMA;
    // FMCSA's own test records: never mailed by any later stage.
    const test =
      testName ||
      (phoneEnd - phoneStart === TEST_PHONE.length && equalsUpper(out, phoneStart, TEST_PHONE)) ||
      (emailStart >= 0 && (uatAddress(out, emailStart, emailEnd) || indexOfLower(out, emailStart, emailEnd, DOT_GOV_TEST) >= 0));
    out[pos++] = test ? 0x74 : 0x66;
    this.hash = rowHash(out, valuesAt, pos, this.hashSeed);
    // The record as the scanner checked it: from its first field to its last, a CRLF's CR left out.
    this.lineHash = lineDigest(buf, starts[0]!, ends[this.lastField]!, this.lineContext);
    this.inactive = inactive;
    return pos;
  }

  /** After writeValues: the row's digests and the tail. */
  writeTail(out: Buffer, pos: number): number {
    out[pos++] = COMMA;
    pos = writeInt(out, pos, this.hash);
    out[pos++] = COMMA;
    pos = writeInt(out, pos, this.lineHash);
    const tail = this.inactive ? this.inactiveTail : this.tail;
    return copy(tail, 0, tail.length, out, pos);
  }

  /** Sets cs/ce (and quoted) to the content of the field [s, e): inside its quotes if quoted. */
  private content(buf: Buffer, s: number, e: number): void {
    if (e - s >= 2 && buf[s] === QUOTE) {
      this.cs = s + 1;
      this.ce = e - 1;
      this.quoted = true;
    } else {
      this.cs = s;
      this.ce = e;
      this.quoted = false;
    }
  }

  private fail(code: 'bad_date' | 'bad_number' | 'bad_flag' | 'bad_status' | 'field_too_long', detail: string): number {
    this.reject = { code, detail };
    return -1;
  }

  /** The field being typed as format('%L') quotes it (for a reason). */
  private literal(buf: Buffer): string {
    return sqlLiteral(buf, this.cs, this.ce, this.quoted, this.encoding);
  }
}
