/**
 * Byte-level helpers of the census scanner: byte classes, the DOT number check, line numbers
 * written without strings, and the raw text of a reject made safe for COPY.
 */
import type { CopyEncoding } from '../db/store.ts';

/** Raw text kept per reject: enough to see the problem, bounded for a runaway line. */
export const MAX_RAW_BYTES = 4096;

// Byte classes for the state machine.
export const ORD = 0;
export const QUOTE = 1;
export const COMMA = 2;
export const LF = 3;
export const CR = 4;
export const BAD = 5;
export const HIGH = 6;

export function classTable(encoding: CopyEncoding): Uint8Array {
  const t = new Uint8Array(256);
  t[0x22] = QUOTE;
  t[0x2c] = COMMA;
  t[0x0a] = LF;
  t[0x0d] = CR;
  t[0x00] = BAD;
  if (encoding === 'WIN1252') {
    // The five bytes Windows-1252 leaves undefined: PostgreSQL refuses them, so would the whole COPY.
    for (const b of [0x81, 0x8d, 0x8f, 0x90, 0x9d]) t[b] = BAD;
  } else {
    for (let b = 0x80; b < 0x100; b++) t[b] = HIGH;
  }
  return t;
}

/**
 * The Buffer encoding of text written into a COPY of this encoding. Windows-1252 text is handled
 * as latin1: one char per byte, so text read from the file and written back keeps the file's own
 * bytes, and COPY decodes them as WIN1252 (Node has no cp1252 encoder).
 */
export function bufferEncoding(e: CopyEncoding): BufferEncoding {
  return e === 'WIN1252' ? 'latin1' : 'utf8';
}

/** DOT number of bytes [s, e) (optionally quoted), or 0 when it is not 1-15 digits. */
export function parseDot(buf: Uint8Array, s: number, e: number): number {
  if (e - s >= 2 && buf[s] === 0x22 && buf[e - 1] === 0x22) {
    s++;
    e--;
  }
  if (e <= s || e - s > 15) return 0;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return 0;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Writes a non-negative integer's digits without allocating a string (several times a record: line,
 * DOT number, counts, and two 53-bit digests). Below 2^31 the digits come from int32 division, which
 * V8 turns into multiplications; a larger number is written as its two halves of eight digits.
 */
export function writeInt(out: Buffer, pos: number, n: number): number {
  if (n <= 0x7fffffff) return writeInt32(out, pos, n | 0);
  const hi = Math.floor(n / 1e8);
  pos = writeInt(out, pos, hi);
  let lo = (n - hi * 1e8) | 0;
  for (let i = pos + 7; i >= pos; i--) {
    const q = (lo / 10) | 0;
    out[i] = 0x30 + lo - q * 10;
    lo = q;
  }
  return pos + 8;
}

function writeInt32(out: Buffer, pos: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
  for (let i = pos + digits - 1; i >= pos; i--) {
    const q = (n / 10) | 0;
    out[i] = 0x30 + n - q * 10;
    n = q;
  }
  return pos + digits;
}

export function stripCrOutsideQuotes(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length);
  let n = 0;
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x0d && !quoted) continue;
    out[n++] = c;
  }
  return out.subarray(0, n);
}

/**
 * The rejected line as a quoted CSV field in the COPY's encoding: bytes PostgreSQL would refuse
 * (NUL, undefined Windows-1252 bytes, invalid UTF-8) become visible `\xHH` escapes, and a runaway
 * line is cut at MAX_RAW_BYTES.
 */
export function rawText(line: Buffer, encoding: CopyEncoding): Buffer {
  let text: Buffer;
  if (encoding === 'WIN1252') {
    const cut = line.length > MAX_RAW_BYTES ? line.subarray(0, MAX_RAW_BYTES) : line;
    const parts: Buffer[] = [];
    let from = 0;
    for (let i = 0; i < cut.length; i++) {
      const b = cut[i]!;
      if (b === 0 || b === 0x81 || b === 0x8d || b === 0x8f || b === 0x90 || b === 0x9d) {
        parts.push(cut.subarray(from, i), Buffer.from(`\\x${b.toString(16).toUpperCase().padStart(2, '0')}`));
        from = i + 1;
      }
    }
    parts.push(cut.subarray(from));
    text = Buffer.concat(parts);
  } else {
    let s = new TextDecoder('utf-8').decode(line.length > MAX_RAW_BYTES ? line.subarray(0, MAX_RAW_BYTES) : line);
    s = s.replace(/\0/g, '\\x00');
    text = Buffer.from(s, 'utf8');
  }
  if (line.length > MAX_RAW_BYTES) text = Buffer.concat([text, Buffer.from(' [truncated]')]);
  const escaped = text.includes(0x22) ? Buffer.from(text.toString('latin1').replace(/"/g, '""'), 'latin1') : text;
  return Buffer.concat([Buffer.from('"'), escaped, Buffer.from('"')]);
}
