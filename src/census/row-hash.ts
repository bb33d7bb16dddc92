/**
 * The digest of a carrier's loaded columns (carriers.row_hash, sql/0021): 53 bits of two 32-bit
 * murmur3 lanes over the typed row the RowTyper writes for COPY (the CARRIER_VALUE_COLUMNS as CSV
 * text), seeded by the file's encoding.
 *
 * Why the typed row and not the file's line: the typed text is what lands in carriers, so equal
 * digests mean equal loaded columns whatever the typing depended on (the two-digit-year pivot, the
 * absurd-count limits, a fix to the typer); a line typed differently today simply differs. The
 * encoding is in the seed because the same bytes are other characters in Windows-1252 and UTF-8.
 * 53 bits: a whole number JavaScript holds exactly and writes as one bigint; the chance that a
 * changed row keeps its old digest is 2^-53 per row (about 1e-11 over a century of monthly
 * refreshes of 2M carriers).
 *
 * carriers.line_hash (sql/0023) is the digest of the line itself, XORed with the digest of what
 * typing it depended on (lineContext): equal to the stored one, the line is the very one the
 * stored row was typed from, by the same rules, so the refresh leaves it out without typing it.
 */
import type { CopyEncoding } from '../db/store.ts';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

export function rowHashSeed(encoding: CopyEncoding): number {
  return encoding === 'WIN1252' ? 0x5bd1e995 : 0x27d4eb2f;
}

// The DataViews of the last two buffers hashed: a row's words are read four bytes at a time (a
// third faster than assembling them), and a scan hashes many rows of one output buffer, each row
// followed by its line in one input buffer: with one view cached, each of the two made a new one.
let viewOf: Uint8Array | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
let otherOf: Uint8Array | null = null;
let other: DataView<ArrayBufferLike> = view;

/** The digest of buf[s, e) as a whole number below 2^53. */
export function rowHash(buf: Uint8Array, s: number, e: number, seed: number): number {
  if (buf !== viewOf) {
    const of = viewOf;
    const v = view;
    if (buf === otherOf) view = other;
    else view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    viewOf = buf;
    otherOf = of;
    other = v;
  }
  const dv = view;
  let h1 = seed | 0;
  let h2 = ~seed | 0;
  const n = e - s;
  const words = s + (n & ~3);
  let i = s;
  for (; i < words; i += 4) {
    let k = dv.getInt32(i, true);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h1 ^= k;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    h2 ^= k;
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (Math.imul(h2, 9) + 0x38b34ae5) | 0;
  }
  const rest = n & 3;
  if (rest) {
    let k = buf[i]!;
    if (rest > 1) k |= buf[i + 1]! << 8;
    if (rest > 2) k |= buf[i + 2]! << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h1 ^= k;
    h2 ^= k;
  }
  h1 = fmix(h1 ^ n);
  h2 = fmix(h2 ^ n ^ h1);
  h1 = (h1 + h2) | 0;
  return (h2 & 0x1fffff) * 0x100000000 + (h1 >>> 0);
}

/**
 * Bump when the scanner or the RowTyper would make anything else of some line (a rule, a limit,
 * a reject): every stored line digest then differs, and the next refresh types every line again.
 */
export const LINE_DIGEST_VERSION = 1;

const LINE_SEED = 0x9747b28c;

/** What the typed row of a line depends on besides its bytes, as two 32-bit words XORed into its digest. */
export interface LineContext {
  hi: number;
  lo: number;
}

/**
 * The context of lineDigest: the digest version, the format and its encoding (the same bytes are
 * other characters in another one), the header (which field is where), and the typing settings.
 */
export function lineContext(o: { format: string; encoding: CopyEncoding; header: readonly string[]; firstYear: number; absurdCount: number; absurdMileage: number }): LineContext {
  const text = Buffer.from(JSON.stringify([LINE_DIGEST_VERSION, o.format, o.encoding, o.header, o.firstYear, o.absurdCount, o.absurdMileage]), 'utf8');
  const h = rowHash(text, 0, text.length, 0x2545f491);
  return { hi: Math.floor(h / 0x100000000), lo: h >>> 0 };
}

/**
 * The digest of the record buf[s, e) (as scanned: a CRLF's CR left out) in its context: the
 * context is XORed in, so the same line in two contexts gets two digests (unless the two contexts'
 * own digests collide, 2^-53), and a line costs one pass whatever the context's size.
 */
export function lineDigest(buf: Uint8Array, s: number, e: number, c: LineContext): number {
  const h = rowHash(buf, s, e, LINE_SEED);
  return ((Math.floor(h / 0x100000000) ^ c.hi) & 0x1fffff) * 0x100000000 + ((h ^ c.lo) >>> 0);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
