/**
 * The records of a parsed chunk of mail.log lines: what the parser (parse.ts, in either thread)
 * writes and the linker (linker.ts) reads. Plain arrays and bytes, so a worker can transfer them.
 *
 * A record is (kind | flags, host id, tag id, end of its queue id, end of its field, FNV-1a hash of
 * its queue id's bytes: the linker's intern slot, taken by the parser, often on the other thread) in `ints` and
 * (time, line number) in `nums`; its queue id and its one field (when the kind has one) are bytes
 * in `bytes`, one after the other, each record's starting where the one before ended. Strings are
 * made only by the thread that keeps them: a worker copies bytes (no string to create, and a
 * transferred buffer instead of a cloned array of strings). Failed deliveries (a few percent of
 * lines) carry their parsed fields in `failures`. Each chunk carries the hosts and tags its records
 * name (a handful), by ids of its own.
 */
import { fnv1a } from '../text/fnv1a.ts';
import type { BounceClass } from './classify.ts';
import type { LineCounts } from './outcomes.ts';
import type { SkippedLine, SkipReason } from './skipped-lines.ts';

/** Record kinds (the low byte of ints[k]). */
export const R_SENT = 1;
export const R_FAILED = 2;
export const R_REMOVED = 3;
export const R_QUEUED = 4;
export const R_CLIENT = 5;
export const R_PICKUP = 6;
export const R_CAMPAIGN = 7;
export const R_DKIM = 8;
export const R_KIND = 0xff;
/** R_SENT: the relay was `local` (the firm's own mailboxes). */
export const F_RELAY_LOCAL = 1 << 8;
/** The record has its one field (R_QUEUED: sender; R_CLIENT: client IP; R_SENT: always). */
export const F_FIELD = 1 << 9;
/** R_QUEUED: qmgr gave up on the message (`status=expired` or `force-expired`). */
export const F_EXPIRED = 1 << 10;
/** The field's bytes are UTF-8 with non-ASCII characters (else ASCII: decoded as latin1, a copy). */
export const F_UTF8 = 1 << 11;
// R_SENT: bits 12-15 hold the provider code of the relay that accepted it (outcome-provider.ts).

export const INT_STRIDE = 6;
export const NUM_STRIDE = 2;

/** Buffer's own latin1 decoder (what toString('latin1') calls after checking its arguments). */
type Latin1 = { latin1Slice(start: number, end: number): string };

/** The strings of a chunk's records, read without a copy of the buffer. */
export class RecordText {
  private readonly buf: Buffer;
  private pos = 0;
  constructor(bytes: Uint8Array) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /**
   * The next string, ASCII, ending at `end`: the string of the last one with the same bytes and
   * slot in `cache` (a power of two long) when there is one. A message's queue id comes back on
   * about five lines, and a bulk night has one sender and a few injecting clients: reusing their
   * strings spares the linker a new string to allocate and hash each time.
   */
  nextInterned(end: number, cache: (string | undefined)[]): string {
    const start = this.pos;
    this.pos = end;
    return this.intern(start, end, cache);
  }

  /**
   * The domain of the next string, an address (ASCII) ending at `end`, as domainOf (delivery.ts)
   * gives it on the decoded address (after the last '@', a trailing dot dropped), interned. The
   * address itself is not decoded: decode() it if it is needed.
   */
  nextDomain(end: number, cache: (string | undefined)[]): string {
    const buf = this.buf;
    const start = this.pos;
    this.pos = end;
    let at = end - 1;
    while (at >= start && buf[at] !== 64) at--;
    if (at < start) return '';
    return this.intern(at + 1, buf[end - 1] === 46 ? end - 1 : end, cache);
  }

  /** nextInterned, with the hash of the string's bytes (fnv1a) already taken by the parser. */
  nextInternedHashed(end: number, hash: number, cache: (string | undefined)[]): string {
    const start = this.pos;
    this.pos = end;
    return this.internAt(start, end, hash, cache);
  }

  /** Where the next string starts. */
  get at(): number {
    return this.pos;
  }

  /** The string of bytes [start, end), passed over earlier. */
  decode(start: number, end: number, utf8: boolean): string {
    return utf8 ? this.buf.toString('utf8', start, end) : (this.buf as unknown as Latin1).latin1Slice(start, end);
  }

  private intern(start: number, end: number, cache: (string | undefined)[]): string {
    return this.internAt(start, end, fnv1a(this.buf, start, end), cache);
  }

  private internAt(start: number, end: number, h: number, cache: (string | undefined)[]): string {
    const buf = this.buf;
    const slot = h & (cache.length - 1);
    const c = cache[slot];
    if (c !== undefined && c.length === end - start) {
      let i = 0;
      while (i < c.length && c.charCodeAt(i) === buf[start + i]) i++;
      if (i === c.length) return c;
    }
    const s = (buf as unknown as Latin1).latin1Slice(start, end);
    cache[slot] = s;
    return s;
  }

  /** The next string, ending at `end`. */
  next(end: number, utf8: boolean): string {
    const start = this.pos;
    this.pos = end;
    return this.decode(start, end, utf8);
  }
}

/** The program tag of a line as the linker uses it. */
export interface TagFields {
  /** `postfix/out05/smtp`: names the transport when it sets syslog_name. */
  tag: string;
  instance: string;
  program: string;
  /** A local/virtual delivery agent: the firm's own mail by definition. */
  local: boolean;
}

export function tagFields(tag: string, instance: string, program: string, local: boolean): TagFields {
  return { tag, instance, program, local };
}

/** A deferral or bounce of one recipient (the parsed delivery line, classified). */
export interface FailedDelivery {
  to: string;
  origTo: string | null;
  relay: string;
  dsn: string;
  status: 'deferred' | 'bounced';
  reason: string;
  cls: BounceClass;
}

export function failedDelivery(to: string, origTo: string | null, relay: string, dsn: string, status: FailedDelivery['status'], reason: string, cls: BounceClass): FailedDelivery {
  return { to, origTo, relay, dsn, status, reason, cls };
}

/** The line counts decided by parsing alone (the linker counts the outcomes). */
export type ParseCounts = Pick<LineCounts, 'lines' | SkipReason | 'noTimestamp' | 'probes' | 'rejected'>;

export function emptyParseCounts(): ParseCounts {
  return parseCounts({ lines: 0, comment: 0, blank: 0, malformed: 0, foreign: 0, binary: 0, tooLong: 0, noTimestamp: 0, probes: 0, rejected: 0 });
}

function parseCounts(c: ParseCounts): ParseCounts {
  return { lines: c.lines, comment: c.comment, blank: c.blank, malformed: c.malformed, foreign: c.foreign, binary: c.binary, tooLong: c.tooLong, noTimestamp: c.noTimestamp, probes: c.probes, rejected: c.rejected };
}

export interface ParsedChunk {
  /** Lines in the chunk (kept or not). */
  lines: number;
  /** Byte offset in the file just after the chunk's last line (the checkpoint). */
  endOffset: number;
  /** Records. */
  n: number;
  ints: Int32Array;
  nums: Float64Array;
  bytes: Uint8Array;
  failures: FailedDelivery[];
  counts: ParseCounts;
  /** The skipped lines with their text, when the parser keeps them (else empty). */
  skipped: SkippedLine[];
  stringPathLines: number;
  /** The hosts and tags of the records, by their ids in this chunk. */
  hosts: string[];
  tags: TagFields[];
}

/** A chunk with every field in one order: the one shape the linker's loop sees from either thread. */
export function parsedChunk(c: ParsedChunk): ParsedChunk {
  return {
    lines: c.lines, endOffset: c.endOffset, n: c.n, ints: c.ints, nums: c.nums, bytes: c.bytes, failures: c.failures, counts: c.counts,
    skipped: c.skipped, stringPathLines: c.stringPathLines, hosts: c.hosts, tags: c.tags,
  };
}

/**
 * A chunk the parse worker sent, rebuilt in the shapes the main thread's own parser makes. A
 * structured clone gives each object a map of its own and each array holey elements: the linker's
 * loop, which had seen the main thread's first chunks, was deoptimized at the first chunk from the
 * worker and recompiled for both shapes. The copies are of a chunk's handful of hosts and tags and
 * its failed deliveries (a few percent of its lines); the record arrays and bytes are taken as they are.
 */
export function ownChunk(c: ParsedChunk): ParsedChunk {
  const failures: FailedDelivery[] = [];
  for (const d of c.failures) failures.push(failedDelivery(d.to, d.origTo, d.relay, d.dsn, d.status, d.reason, d.cls));
  const hosts: string[] = [];
  for (const h of c.hosts) hosts.push(h);
  const tags: TagFields[] = [];
  for (const t of c.tags) tags.push(tagFields(t.tag, t.instance, t.program, t.local));
  return parsedChunk({ ...c, failures, counts: parseCounts(c.counts), hosts, tags });
}
