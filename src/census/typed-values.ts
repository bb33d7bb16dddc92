/**
 * The byte-level value rules of the row typer (row-typer.ts), each one the SQL expression it
 * replaced: PostgreSQL's btrim (spaces only), its `\s`, integer and yes/no parsing, calendar days,
 * the ASCII case folding of the test-record checks, and CSV field copying into the COPY stream.
 * Plain functions on (buffer, start, end): the typer calls them once per field, 50M times a load.
 */
import { writeInt } from './scan-bytes.ts';

export const SP = 0x20;
export const QUOTE = 0x22;
export const COMMA = 0x2c;
// Upper-cased three-letter month (as a 24-bit number) -> 1..12; `& ~0x20` upper-cases the input.
const MONTHS = new Map(['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'].map((m, i) => [(m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2), i + 1]));

/** Copies src[s, e) into out at pos. A loop: most fields are a few bytes, where subarray() + set() cost more than the copy. */
export function copy(src: Buffer, s: number, e: number, out: Buffer, pos: number): number {
  if (e - s > 64) {
    out.set(src.subarray(s, e), pos);
    return pos + (e - s);
  }
  for (let i = s; i < e; i++) out[pos++] = src[i]!;
  return pos;
}

/** The bytes a bare CSV field cannot hold: quote, comma, LF, CR. */
const NEEDS_QUOTES = new Uint8Array(256);
for (const c of [QUOTE, COMMA, 0x0a, 0x0d]) NEEDS_QUOTES[c] = 1;

/**
 * A non-empty text value as a CSV field: bare when it holds no quote, comma or line break (most
 * names and streets), else quoted as in the file (its quotes are still doubled). Bare values are
 * fewer bytes for COPY to parse, and COPY keeps their spaces as data. Copied while it is checked:
 * one pass over the bytes, a second only for a value that needs its quotes.
 */
export function copyField(src: Buffer, s: number, e: number, out: Buffer, pos: number): number {
  const at = pos;
  const quoteIf = NEEDS_QUOTES;
  for (let i = s; i < e; i++) {
    const c = src[i]!;
    if (quoteIf[c] === 1) {
      out[at] = QUOTE;
      pos = copy(src, s, e, out, at + 1);
      out[pos++] = QUOTE;
      return pos;
    }
    out[pos++] = c;
  }
  return pos;
}

export function ascii(out: Buffer, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[pos++] = s.charCodeAt(i);
  return pos;
}

/** PostgreSQL's `btrim(f) <> ''`: anything but spaces. */
export function given(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] !== SP) return true;
  return false;
}

export const NOT_GIVEN = -2;

/** `^\s*\d{1,15}\s*$` as an integer; NOT_GIVEN when only spaces; -1 when given but not one. */
export function parseInteger(buf: Buffer, s: number, e: number): number {
  if (!given(buf, s, e)) return NOT_GIVEN;
  while (s < e && isSpace(buf[s]!)) s++;
  while (e > s && isSpace(buf[e - 1]!)) e--;
  if (e === s || e - s > 15) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** The regular-expression class `\s`: space, \t, \n, \v, \f, \r. */
export function isSpace(c: number): boolean {
  return c === SP || (c >= 0x09 && c <= 0x0d);
}

/** n decimal digits at s as a number, or -1. */
export function digits(buf: Buffer, s: number, n: number): number {
  let v = 0;
  for (let i = s; i < s + n; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

export function daysIn(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** lower(btrim(f)) in y/true (0x74 't') or n/false (0x66 'f'); 0 otherwise. */
export function yesNo(buf: Buffer, s: number, e: number): number {
  while (s < e && buf[s] === SP) s++;
  while (e > s && buf[e - 1] === SP) e--;
  const n = e - s;
  const c = buf[s]! | 0x20;
  if (n === 1) return c === 0x79 ? 0x74 : c === 0x6e ? 0x66 : 0;
  if (n === 4 && c === 0x74 && lowerIs(buf, s, 'true')) return 0x74;
  if (n === 5 && c === 0x66 && lowerIs(buf, s, 'false')) return 0x66;
  return 0;
}

export function lowerIs(buf: Buffer, s: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if ((buf[s + i]! | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

export function equalsUpper(buf: Buffer, s: number, upper: Buffer): boolean {
  for (let i = 0; i < upper.length; i++) {
    const c = buf[s + i]!;
    if ((c >= 0x61 && c <= 0x7a ? c - 0x20 : c) !== upper[i]) return false;
  }
  return true;
}

/** Case-insensitive (ASCII) search of a lower-case needle in buf[s, e). */
export function indexOfLower(buf: Buffer, s: number, e: number, needle: Buffer): number {
  outer: for (let i = s; i + needle.length <= e; i++) {
    for (let j = 0; j < needle.length; j++) {
      const c = buf[i + j]!;
      if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** [a-z0-9._%+-], case-insensitively. */
export function isLocalChar(c: number): boolean {
  const l = c | 0x20;
  return (l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x2d;
}

/** `(^|[^a-z0-9._%+-])uat[a-z0-9._%+-]*@`, case-insensitively: a local part starting with "uat". */
export function uatAddress(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i + 3 < e; i++) {
    if ((buf[i]! | 0x20) !== 0x75 || (buf[i + 1]! | 0x20) !== 0x61 || (buf[i + 2]! | 0x20) !== 0x74) continue;
    if (i > s && isLocalChar(buf[i - 1]!)) continue;
    let j = i + 3;
    while (j < e && isLocalChar(buf[j]!)) j++;
    if (j < e && buf[j] === 0x40) return true;
  }
  return false;
}

/**
 * Writes the ISO date of a DD-MON-YY or YYYYMMDD[ HHMM] value, or returns -1. A two-digit year
 * falls in the hundred years from `firstYear` (the pivot window).
 */
export function isoDate(buf: Buffer, cs: number, ce: number, out: Buffer, pos: number, firstYear: number): number {
  let s = cs;
  let e = ce;
  // The Company Census File's " HHMM" suffix (the SQL looked at length 13 before trimming).
  if (e - s === 13 && buf[s + 8] === SP) e = s + 8;
  else {
    while (s < e && buf[s] === SP) s++;
    while (e > s && buf[e - 1] === SP) e--;
  }
  let y: number;
  let m: number;
  let d: number;
  if (e - s === 8) {
    y = digits(buf, s, 4);
    m = digits(buf, s + 4, 2);
    d = digits(buf, s + 6, 2);
    if (y < 1900 || y > 2099) return -1;
  } else if (e - s === 9 && buf[s + 2] === 0x2d && buf[s + 6] === 0x2d) {
    d = digits(buf, s, 2);
    const yy = digits(buf, s + 7, 2);
    m = MONTHS.get(((buf[s + 3]! & ~0x20) << 16) | ((buf[s + 4]! & ~0x20) << 8) | (buf[s + 5]! & ~0x20)) ?? -1;
    if (yy < 0) return -1;
    y = firstYear + ((yy - (firstYear % 100) + 100) % 100);
  } else return -1;
  if (m < 1 || m > 12 || d < 1 || d > daysIn(y, m)) return -1;
  pos = writeInt(out, pos, y);
  out[pos++] = 0x2d;
  out[pos++] = 0x30 + Math.floor(m / 10);
  out[pos++] = 0x30 + (m % 10);
  out[pos++] = 0x2d;
  out[pos++] = 0x30 + Math.floor(d / 10);
  out[pos++] = 0x30 + (d % 10);
  return pos;
}

/** A field's content buf[cs, ce) as format('%L') quotes it: NULL for an empty unquoted field, E'..' with a backslash. */
export function sqlLiteral(buf: Buffer, cs: number, ce: number, quoted: boolean, encoding: BufferEncoding): string {
  if (!quoted && ce === cs) return 'NULL';
  let v = buf.toString(encoding, cs, ce);
  if (quoted) v = v.replaceAll('""', '"');
  const q = `'${v.replaceAll("'", "''")}'`;
  return v.includes('\\') ? `E${q.replaceAll('\\', '\\\\')}` : q;
}

// Data flags, written in this order (the order the SQL typing used).
export const F_YEAR = 1;
export const F_MILEAGE = 2;
export const F_UNITS = 4;
export const F_DRIVERS = 8;
const FLAG_NAMES: [number, string][] = [
  [F_YEAR, 'mcs150_mileage_year_sentinel'],
  [F_MILEAGE, 'mcs150_mileage_absurd'],
  [F_UNITS, 'power_units_absurd'],
  [F_DRIVERS, 'drivers_absurd'],
];

/** The data_flags text[] of a row with some flags set, as a quoted CSV field (`"{a,b}"`). */
export function writeDataFlags(out: Buffer, pos: number, flags: number): number {
  out[pos++] = QUOTE;
  out[pos++] = 0x7b;
  let first = true;
  for (const [bit, name] of FLAG_NAMES) {
    if (!(flags & bit)) continue;
    if (!first) out[pos++] = COMMA;
    pos = ascii(out, pos, name);
    first = false;
  }
  out[pos++] = 0x7d;
  out[pos++] = QUOTE;
  return pos;
}
