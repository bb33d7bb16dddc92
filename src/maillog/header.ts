/**
 * The syslog header of a mail.log line read straight from its bytes, for the parser's byte path (parse.ts).
 *
 * Only the standard shape is accepted: `TIMESTAMP HOST TAG[PID]: MESSAGE`, where TIMESTAMP is
 * RFC 3339 or traditional (`Mmm dd HH:MM:SS`), HOST and TAG are single ASCII tokens and PID is
 * digits. For such a line every field equals what parseLine (line.ts) gives for the decoded
 * string; any other shape (busybox, compose prefixes, stripped headers, odd tags, non-ASCII
 * header bytes) makes `read` return false and the caller takes the string path, so the fast path
 * never has to re-implement the edge cases, only to recognise that it is not in one.
 *
 * Host and tag strings are interned: a bulk log has a handful of each, and creating them per
 * line was a large part of the per-line cost.
 */
import { DELIVERY_AGENTS, LOCAL_AGENTS, POSTFIX_PROGRAMS } from './prefilter.ts';

/** What the linker does with a program's lines (decided once per distinct tag). */
export const P_FOREIGN = 0;
export const P_DELIVERY = 1;
export const P_QMGR = 2;
export const P_SMTPD = 3;
export const P_PICKUP = 4;
export const P_CLEANUP = 5;
export const P_OPENDKIM = 6;
export const P_POSTSUPER = 7;
/** A Postfix program none of whose lines the linker uses (anvil, bounce, master...). */
export const P_OTHER = 8;

export const TS_NONE = 0;
export const TS_RFC3339 = 1;
export const TS_TRADITIONAL = 2;

const TAG_MASK = 1023;

export interface TagInfo {
  bytes: Buffer;
  /** `postfix/out05/smtp`: the tag without the pid. */
  tag: string;
  instance: string;
  service: string;
  program: string;
  kind: number;
  local: boolean;
  /** The parser's id for this tag in the chunk of generation `gen` (parse.ts). */
  id: number;
  gen: number;
}

function programKind(program: string): number {
  if (!POSTFIX_PROGRAMS.has(program)) return P_FOREIGN;
  if (DELIVERY_AGENTS.has(program)) return P_DELIVERY;
  switch (program) {
    case 'qmgr':
    case 'oqmgr':
      return P_QMGR;
    case 'smtpd':
      return P_SMTPD;
    case 'pickup':
      return P_PICKUP;
    case 'cleanup':
      return P_CLEANUP;
    case 'opendkim':
      return P_OPENDKIM;
    case 'postsuper':
      return P_POSTSUPER;
    default:
      return P_OTHER;
  }
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

function same(buf: Buffer, start: number, end: number, b: Buffer): boolean {
  if (end - start !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (buf[start + i] !== b[i]) return false;
  return true;
}

/**
 * Reads headers into its own fields (no object per line). After a successful `read`: `tsKind`,
 * `tsStart`/`tsEnd` (the timestamp token), `host`, `tag`, `msgStart`/`msgEnd` (the message, a
 * trailing CR excluded, as parseLine strips it).
 */
export class HeaderReader {
  tsKind = TS_NONE;
  tsStart = 0;
  tsEnd = 0;
  host = '';
  tag!: TagInfo;
  msgStart = 0;
  msgEnd = 0;

  private lastHost: Buffer = Buffer.alloc(0);
  private lastHostStr = '';
  private readonly table: (TagInfo | undefined)[] = new Array(TAG_MASK + 1).fill(undefined);

  read(buf: Buffer, ls: number, le: number): boolean {
    let me = le;
    if (me > ls && buf[me - 1] === 13) me--;
    if (me - ls < 20) return false;
    const c0 = buf[ls]!;
    let tsEnd: number;
    if (c0 >= 48 && c0 <= 57) {
      // RFC 3339: the token up to the first space (parseLine: digit, '-' at 4, 'T' at 10).
      if (buf[ls + 4] !== 45 || buf[ls + 10] !== 84) return false;
      let i = ls + 1;
      const lim = Math.min(me, ls + 48);
      while (i < lim) {
        const c = buf[i]!;
        if (c === 32) break;
        // Non-ASCII would decode differently as UTF-8; a ']' could end a "]: " the string path takes for the tag's.
        if (c >= 0x80 || c === 93) return false;
        i++;
      }
      if (i >= lim || i < ls + 11) return false;
      tsEnd = i;
      this.tsKind = TS_RFC3339;
    } else if (c0 >= 65 && c0 <= 90 && buf[ls + 3] === 32 && buf[ls + 1]! < 0x80 && buf[ls + 2]! < 0x80) {
      // Traditional, walked exactly like parseLine: month, spaces, day digits, spaces, HH:MM:SS.
      let i = ls + 4;
      while (buf[i] === 32) i++;
      const d0 = i;
      while (i < me && buf[i]! >= 48 && buf[i]! <= 57) i++;
      if (i - d0 > 2) return false;
      while (buf[i] === 32) i++;
      if (buf[i + 2] !== 58 || buf[i + 5] !== 58) return false;
      // Digits where parseLine does not look: anything else is for the string path to judge.
      if (!isDigit(buf[i]) || !isDigit(buf[i + 1]) || !isDigit(buf[i + 3]) || !isDigit(buf[i + 4]) || !isDigit(buf[i + 6]) || !isDigit(buf[i + 7])) return false;
      tsEnd = i + 8;
      if (tsEnd >= me || buf[tsEnd] !== 32) return false;
      this.tsKind = TS_TRADITIONAL;
    } else return false;
    this.tsStart = ls;
    this.tsEnd = tsEnd;

    // HOST: one token of ASCII, then one space. Usually the host of the line before (checked when it was first read).
    const hs = tsEnd + 1;
    const last = this.lastHost;
    let i = hs;
    let sameHost = last.length > 0 && hs + last.length < me && buf[hs + last.length] === 32;
    if (sameHost) {
      for (let k = 0; k < last.length; k++) {
        if (buf[hs + k] !== last[k]) {
          sameHost = false;
          break;
        }
      }
    }
    if (sameHost) i = hs + last.length;
    else {
      while (i < me) {
        const c = buf[i]!;
        if (c === 32) break;
        if (c >= 0x80 || c === 91 || c === 93) return false;
        i++;
      }
      if (i === hs || i >= me) return false;
    }
    const he = i;
    // TAG: one token of ASCII up to '[', then digits, then "]: ".
    const ts = he + 1;
    i = ts;
    // The tag's hash is taken in the same pass (internTag would read the bytes again). Its bytes
    // are checked (no space, no ']', ASCII) only when first interned: bytes equal to an interned
    // tag's are valid, and any other span goes through that check.
    let th = 0;
    while (i < me) {
      const c = buf[i]!;
      if (c === 91) break;
      th = (Math.imul(th, 31) + c) | 0;
      i++;
    }
    if (i === ts || i >= me) return false;
    const bracket = i;
    i++;
    while (i < me && buf[i]! >= 48 && buf[i]! <= 57) i++;
    if (buf[i] !== 93 || buf[i + 1] !== 58 || buf[i + 2] !== 32 || i + 2 >= me) return false;
    const tag = this.internTag(buf, ts, bracket, th);
    if (!tag) return false;
    this.tag = tag;
    this.host = sameHost ? this.lastHostStr : this.internHost(buf, hs, he);
    this.msgStart = i + 3;
    this.msgEnd = me;
    return true;
  }

  private internHost(buf: Buffer, s: number, e: number): string {
    this.lastHost = Buffer.from(buf.subarray(s, e));
    this.lastHostStr = buf.toString('latin1', s, e);
    return this.lastHostStr;
  }

  /** The tag's interned info, or null when it is not one token of ASCII or parseLine would call it malformed (empty program or instance). */
  private internTag(buf: Buffer, s: number, e: number, h: number): TagInfo | null {
    // Open addressing over a small array: a Map and a bucket list cost more than the hash.
    const table = this.table;
    let slot = h & TAG_MASK;
    for (let probe = 0; probe < 8; probe++, slot = (slot + 1) & TAG_MASK) {
      const t = table[slot];
      if (!t) break;
      if (same(buf, s, e, t.bytes)) return t;
    }
    for (let i = s; i < e; i++) {
      const c = buf[i]!;
      if (c === 32 || c >= 0x80 || c === 93) return null;
    }
    const tag = buf.toString('latin1', s, e);
    const firstSlash = tag.indexOf('/');
    const lastSlash = tag.lastIndexOf('/');
    const instance = firstSlash < 0 ? tag : tag.slice(0, firstSlash);
    const program = lastSlash < 0 ? tag : tag.slice(lastSlash + 1);
    const service = firstSlash < 0 || firstSlash === lastSlash ? '' : tag.slice(firstSlash + 1, lastSlash);
    if (!program || !instance) return null;
    const t: TagInfo = { bytes: Buffer.from(buf.subarray(s, e)), tag, instance, service, program, kind: programKind(program), local: LOCAL_AGENTS.has(program), id: -1, gen: 0 };
    // A log has a handful of tags; a flood of distinct ones (garbage) overwrites, never grows.
    slot = h & TAG_MASK;
    for (let probe = 0; probe < 8 && table[slot]; probe++) slot = (slot + 1) & TAG_MASK;
    table[slot] = t;
    return t;
  }
}

/**
 * The queue id at `ms` in bytes, as queueIdOf (line.ts) decides it on the string: returns the
 * index of its ": " or -1 when the message does not start with a queue id.
 */
export function queueIdEnd(buf: Buffer, ms: number, me: number): number {
  // queueIdOf looks at the first ": " of the message and wants it at 6..24 characters.
  const lim = Math.min(me - 1, ms + 25);
  let colon = -1;
  for (let i = ms; i < lim; i++) {
    if (buf[i] === 58 && buf[i + 1] === 32) {
      colon = i;
      break;
    }
  }
  const len = colon - ms;
  if (colon < 0 || len < 6 || len > 24) return -1;
  let hex = true;
  let z = false;
  let vowel = false;
  for (let i = ms; i < colon; i++) {
    const c = buf[i]!;
    const digit = c >= 48 && c <= 57;
    const upper = c >= 65 && c <= 90;
    const lower = c >= 97 && c <= 122;
    if (!digit && !upper && !lower) return -1;
    if (!(digit || (c >= 65 && c <= 70))) hex = false;
    if (c === 122) z = true;
    // a e i o u, either case
    const l = c | 0x20;
    if (l === 97 || l === 101 || l === 105 || l === 111 || l === 117) vowel = true;
  }
  if (hex) return colon;
  if (len >= 12 && z && !vowel) return colon;
  return -1;
}

/** Whether buf[pos, end) starts with `prefix`. */
export function startsWith(buf: Buffer, pos: number, end: number, prefix: Buffer): boolean {
  if (pos + prefix.length > end) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[pos + i] !== prefix[i]) return false;
  return true;
}

/** The index of byte `c` in buf[from, to), or -1: a line is short, and Buffer.indexOf would not stop at its end. */
export function indexOfByte(buf: Buffer, c: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (buf[i] === c) return i;
  return -1;
}
