/**
 * The stateless half of the linker: turns mail.log lines into compact records of what each kept
 * line says (research/maillog.md §1–§2), with no knowledge of open messages. The linker
 * (linker.ts) applies the records in order; it is the only part that needs the lines one after
 * the other with all the state. Split this way, parsing (most of the per-line cost) can run in a
 * worker thread while the main thread links and writes (parse-worker.ts), and both modes run the
 * very same code: in-thread (tests, tools), the records are simply not copied.
 *
 * A record is (kind | flags, host id, tag id, end of its queue id, end of its field) in `ints` and
 * (time, line number) in `nums`; its queue id and its one field (when the kind has one) are bytes
 * in `bytes`, one after the other, each record's starting where the one before ended. Strings are
 * made only by the thread that keeps them: a worker copies bytes (no string to create, and a
 * transferred buffer instead of a cloned array of strings). Failed deliveries (a few percent of
 * lines) carry their parsed fields in `failures`. Each chunk carries the hosts and tags its records
 * name (a handful), by ids of its own.
 *
 * Everything decided here is a function of the line alone (and of the file, for the year of a
 * traditional timestamp), so any parser, in any thread, can parse any chunk: a chunk is
 * self-contained. A line whose timestamp is unusable gets NaN as its time; the linker gives it the
 * time of the line before (it keeps that time with its state).
 *
 * Any bytes are a line: a line this parser does not keep is skipped with a reason (SkipReason),
 * counted, and (with `keepSkipped`) handed over with its text for `scrub-bounces --rejects`. A NUL
 * byte never reaches a string: a run of NULs before a line's text (what a syslog daemon's crash
 * leaves in its file) is passed over, and a line with a NUL elsewhere is skipped as `binary`.
 * Other bytes that are not UTF-8 decode as U+FFFD.
 */
import { classifyCached, type BounceClass } from './classify.ts';
import type { LogFile } from './files.ts';
import { cleanAddress, parseDelivery } from './delivery.ts';
import { HeaderReader, P_CLEANUP, P_DELIVERY, P_FOREIGN, P_OPENDKIM, P_OTHER, P_PICKUP, P_POSTSUPER, P_QMGR, P_SMTPD, queueIdEnd, startsWith, TS_RFC3339, TS_TRADITIONAL } from './header.ts';
import { parseLine, queueIdOf } from './line.ts';
import { RELAY_CODE_SHIFT, RelayCodes, relayValue } from './outcome-provider.ts';
import type { LineCounts } from './outcomes.ts';
import { DELIVERY_AGENTS, LOCAL_AGENTS, NL, POSTFIX_PROGRAMS } from './prefilter.ts';
import { MAX_LINE_BYTES, readChunks, type LineChunk } from './reader.ts';
import { rawLine, type SkippedLine, type SkipReason } from './skipped-lines.ts';
import { parseRfc3339, TraditionalClock, type ZoneClock } from './timestamp.ts';

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

export const INT_STRIDE = 5;
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

  /** Where the next string starts. */
  get at(): number {
    return this.pos;
  }

  /** The string of bytes [start, end), passed over earlier. */
  decode(start: number, end: number, utf8: boolean): string {
    return utf8 ? this.buf.toString('utf8', start, end) : (this.buf as unknown as Latin1).latin1Slice(start, end);
  }

  private intern(start: number, end: number, cache: (string | undefined)[]): string {
    const buf = this.buf;
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 16777619);
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

/** The line counts decided by parsing alone (the linker counts the outcomes). */
export type ParseCounts = Pick<LineCounts, 'lines' | SkipReason | 'noTimestamp' | 'probes' | 'rejected'>;

export function emptyParseCounts(): ParseCounts {
  return { lines: 0, comment: 0, blank: 0, malformed: 0, foreign: 0, binary: 0, tooLong: 0, noTimestamp: 0, probes: 0, rejected: 0 };
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

const B_NOQUEUE_REJECT = Buffer.from('NOQUEUE: reject:');
const B_TO = Buffer.from('to=');
const B_REMOVED = Buffer.from('removed');
const B_FROM = Buffer.from('from=');
const B_CLIENT = Buffer.from('client=');
const B_REJECT = Buffer.from('reject:');
const B_UID = Buffer.from('uid=');
const B_LISTMONK = Buffer.from('info: header X-Listmonk-Campaign:');
const B_DKIM = Buffer.from('DKIM-Signature field added');
const B_STATUS_SENT = Buffer.from(', status=sent ');
const B_RELAY = Buffer.from(', relay=');
const B_LOCAL = Buffer.from('local');
const B_STATUS = Buffer.from('status=');
const B_EXPIRED = Buffer.from('expired');
const B_FORCE_EXPIRED = Buffer.from('force-expired');

/** The index of byte `c` in buf[from, to), or -1: a line is short, and Buffer.indexOf would not stop at its end. */
function indexOfByte(buf: Buffer, c: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (buf[i] === c) return i;
  return -1;
}

/** Whether buf[from, to) says `status=expired` or `status=force-expired` (one pass over the line). */
function expiredStatus(buf: Buffer, from: number, to: number): boolean {
  const last = to - B_STATUS.length;
  outer: for (let i = from; i <= last; i++) {
    if (buf[i] !== 115) continue; // 's'
    for (let j = 1; j < B_STATUS.length; j++) if (buf[i + j] !== B_STATUS[j]) continue outer;
    const v = i + B_STATUS.length;
    if (startsWith(buf, v, to, B_EXPIRED) || startsWith(buf, v, to, B_FORCE_EXPIRED)) return true;
  }
  return false;
}

/** What a kept line is, decided by either path before its fields are read. */
const A_DELIVERY = 1;
const A_REMOVED = 2;
const A_QUEUED = 3;
const A_CLIENT = 4;
const A_PICKUP = 5;
const A_CAMPAIGN = 6;
const A_DKIM = 7;

/** Records a chunk starts with room for (grown by doubling). */
const INITIAL_RECORDS = 4096;

export class LineParser {
  /** Test seam: false sends every line through the string path (the reference the byte path must equal). */
  bytePath = true;
  /** Hand over each skipped line's text (scrub-bounces --rejects); off, skipped lines are only counted. */
  keepSkipped = false;

  private readonly header = new HeaderReader();
  private readonly relayCodes = new RelayCodes();
  private clock: TraditionalClock | null = null;
  /** This chunk's ids of hosts and tags (the byte path's tags keep theirs on the interned TagInfo, for this `gen`). */
  private hostIds = new Map<string, number>();
  private tagIds = new Map<string, number>();
  private gen = 1;
  private lastHost = '';
  private lastHostId = -1;

  // The chunk being built.
  private n = 0;
  private ints = new Int32Array(INITIAL_RECORDS * INT_STRIDE);
  private nums = new Float64Array(INITIAL_RECORDS * NUM_STRIDE);
  private out = Buffer.allocUnsafeSlow(1 << 16);
  private outLen = 0;
  /** ints index of the record being written. */
  private k = 0;
  private failures: FailedDelivery[] = [];
  private counts = emptyParseCounts();
  private skipped: SkippedLine[] = [];
  private stringPathLines = 0;
  private hosts: string[] = [];
  private tags: TagFields[] = [];

  // The line being parsed: its host, tag and timestamp, filled by either path.
  private hostId = 0;
  private tagId = 0;
  private tsKind = 0;
  private tsRaw = '';
  /** Byte path: the timestamp is tsBuf[tsStart, tsEnd), read only when the record needs a time. */
  private tsBuf: Buffer | null = null;
  private tsStart = 0;
  private tsEnd = 0;
  /** The queue id: bytes qBuf[qStart, qEnd) on the byte path, else qStr. */
  private qBuf: Buffer | null = null;
  private qStart = 0;
  private qEnd = 0;
  private qStr = '';
  /** The line being parsed, lb[lStart, lEnd): what a skipped line's text is taken from. */
  private lb: Buffer = Buffer.alloc(0);
  private lStart = 0;
  private lEnd = 0;
  /** Index of the next NUL byte in the chunk's buffer at or after the line being parsed; Infinity when none. */
  private nul = Infinity;

  /** Traditional timestamps of the next lines take their year from this file's clock. */
  beginFile(clock: TraditionalClock): void {
    this.clock = clock;
  }

  /** Parses every line of a chunk of bytes (reader.ts); line numbers start at `firstLineNo`. */
  parseChunk(c: LineChunk, firstLineNo: number): ParsedChunk {
    const { buf, end } = c;
    let ls = c.start;
    let n = 0;
    // One search per chunk: lines of a chunk without NUL (nearly always all of them) are not scanned again.
    this.nul = nulFrom(buf, ls);
    for (;;) {
      let le = buf.indexOf(NL, ls);
      if (le < 0 || le > end) le = end;
      this.line(buf, ls, le, c.ascii, firstLineNo + n);
      n++;
      if (le >= end) break;
      ls = le + 1;
    }
    return this.take(n, c.endOffset);
  }

  /** One line as a string (tests and tools): the very path of the bytes. */
  parseString(raw: string, lineNo: number): ParsedChunk {
    const b = Buffer.from(raw, 'utf8');
    this.nul = nulFrom(b, 0);
    this.line(b, 0, b.length, false, lineNo);
    return this.take(1, 0);
  }

  private take(lines: number, endOffset: number): ParsedChunk {
    const out: ParsedChunk = {
      lines,
      endOffset,
      n: this.n,
      ints: this.ints.slice(0, this.n * INT_STRIDE),
      nums: this.nums.slice(0, this.n * NUM_STRIDE),
      // A copy of its own (transferable), the size of what was written.
      bytes: new Uint8Array(this.out.subarray(0, this.outLen)),
      failures: this.failures,
      counts: this.counts,
      skipped: this.skipped,
      stringPathLines: this.stringPathLines,
      hosts: this.hosts,
      tags: this.tags,
    };
    this.n = 0;
    this.outLen = 0;
    this.failures = [];
    this.counts = emptyParseCounts();
    this.skipped = [];
    this.stringPathLines = 0;
    this.hosts = [];
    this.tags = [];
    this.hostIds = new Map();
    this.tagIds = new Map();
    this.gen++;
    this.lastHost = '';
    return out;
  }

  private record(kind: number, ts: number, lineNo: number): void {
    if (this.n * INT_STRIDE >= this.ints.length) {
      const ints = new Int32Array(this.ints.length * 2);
      ints.set(this.ints);
      this.ints = ints;
      const nums = new Float64Array(this.nums.length * 2);
      nums.set(this.nums);
      this.nums = nums;
    }
    const k = this.n * INT_STRIDE;
    this.k = k;
    this.ints[k] = kind;
    this.ints[k + 1] = this.hostId;
    this.ints[k + 2] = this.tagId;
    const j = this.n * NUM_STRIDE;
    this.nums[j] = ts;
    this.nums[j + 1] = lineNo;
    this.n++;
    // The queue id, every record's first string.
    if (this.qBuf) this.copy(this.qBuf, this.qStart, this.qEnd, false);
    else this.write(this.qStr);
    this.ints[k + 3] = this.ints[k + 4] = this.outLen;
  }

  private room(bytes: number): void {
    if (this.outLen + bytes <= this.out.length) return;
    const out = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, this.outLen + bytes));
    this.out.copy(out, 0, 0, this.outLen);
    this.out = out;
  }

  /** Appends buf[s, e) (ASCII), lower-cased if asked; false (nothing appended) at a non-ASCII byte. */
  private copy(buf: Buffer, s: number, e: number, lower: boolean): boolean {
    this.room(e - s);
    const out = this.out;
    let p = this.outLen;
    for (let i = s; i < e; i++) {
      let c = buf[i]!;
      if (c >= 0x80) return false;
      if (lower && c >= 65 && c <= 90) c += 32;
      out[p++] = c;
    }
    this.outLen = p;
    return true;
  }

  /** Appends a string as UTF-8; returns whether it had non-ASCII characters. */
  private write(v: string): boolean {
    this.room(v.length * 3);
    const n = this.out.write(v, this.outLen, 'utf8');
    this.outLen += n;
    return n !== v.length;
  }

  /** The record's field, from a string. */
  private field(v: string): void {
    const utf8 = this.write(v);
    this.ints[this.k] = this.ints[this.k]! | F_FIELD | (utf8 ? F_UTF8 : 0);
    this.ints[this.k + 4] = this.outLen;
  }

  /** The record's field, from bytes, lower-cased if asked as toLowerCase would. */
  private fieldBytes(buf: Buffer, s: number, e: number, lower: boolean): void {
    const at = this.outLen;
    if (this.copy(buf, s, e, lower)) {
      this.ints[this.k] = this.ints[this.k]! | F_FIELD;
      this.ints[this.k + 4] = this.outLen;
      return;
    }
    this.outLen = at;
    // Only a chunk with non-ASCII bytes gets here.
    const v = buf.toString('utf8', s, e);
    this.field(lower ? v.toLowerCase() : v);
  }

  private hostIdOf(host: string): number {
    if (host === this.lastHost) return this.lastHostId;
    let id = this.hostIds.get(host);
    if (id === undefined) {
      id = this.hostIds.size;
      this.hostIds.set(host, id);
      this.hosts.push(host);
    }
    this.lastHost = host;
    this.lastHostId = id;
    return id;
  }

  private tagIdOf(tag: string, instance: string, program: string): number {
    let id = this.tagIds.get(tag);
    if (id === undefined) {
      id = this.tagIds.size;
      this.tagIds.set(tag, id);
      this.tags.push({ tag, instance, program, local: LOCAL_AGENTS.has(program) });
    }
    return id;
  }

  private timeOf(): number {
    let t: number | null = null;
    const buf = this.tsBuf;
    if (this.tsKind === TS_RFC3339) t = parseRfc3339(buf ? buf.toString('latin1', this.tsStart, this.tsEnd) : this.tsRaw);
    else if (this.tsKind === TS_TRADITIONAL && this.clock) t = buf ? this.clock.parseBytes(buf, this.tsStart, this.tsEnd) : this.clock.parse(this.tsRaw);
    if (t === null) {
      // The linker gives it the time of the line before it.
      this.counts.noTimestamp++;
      return NaN;
    }
    return t;
  }

  /**
   * One line as bytes buf[ls, le). A standard header (header.ts) is read from the bytes with
   * interned host and tag, and the message is decided on the bytes: most lines of a bulk log
   * (connect/disconnect, TLS, message-id, anvil, bounce notices) are dropped without any string,
   * and the lines we keep decode only their queue id and the fields their record carries. Any
   * other header shape is decoded and parsed whole by the string path (handle), the reference.
   */
  private line(buf: Buffer, ls: number, le: number, ascii: boolean, lineNo: number): void {
    this.counts.lines++;
    this.lb = buf;
    this.lStart = ls;
    this.lEnd = le;
    if (this.nul < le) {
      let text = ls;
      while (text < le && buf[text] === 0) text++;
      const inside = text < le ? buf.indexOf(0, text) : -1;
      if (text === le || (inside >= 0 && inside < le)) {
        this.nul = inside >= le ? inside : nulFrom(buf, le);
        this.skip('binary', lineNo);
        return;
      }
      // Only a run of NULs before the text: a crashed syslog daemon's leftovers, then a real line.
      this.nul = inside < 0 ? Infinity : inside;
      ls = text;
    }
    if (le - ls > MAX_LINE_BYTES) {
      this.skip('tooLong', lineNo);
      return;
    }
    const h = this.header;
    if (!this.bytePath || !h.read(buf, ls, le)) {
      this.stringPathLines++;
      this.handle(buf.toString(ascii ? 'latin1' : 'utf8', ls, le), lineNo);
      return;
    }
    const t = h.tag;
    if (t.kind === P_FOREIGN) {
      this.skip('foreign', lineNo);
      return;
    }
    const ms = h.msgStart;
    const me = h.msgEnd;
    if (t.kind === P_OTHER) {
      // None of their lines is kept (a queue id cannot start "NOQUEUE": it has vowels and is not hex).
      if (startsWith(buf, ms, me, B_NOQUEUE_REJECT)) this.counts.rejected++;
      return;
    }
    const colon = queueIdEnd(buf, ms, me);
    if (colon < 0) {
      if (startsWith(buf, ms, me, B_NOQUEUE_REJECT)) this.counts.rejected++;
      return;
    }
    const b = colon + 2;
    // What the line is, decided before any string exists (the same tests as handle's).
    let act: number;
    switch (t.kind) {
      case P_DELIVERY:
        if (!startsWith(buf, b, me, B_TO)) return;
        act = A_DELIVERY;
        break;
      case P_QMGR:
        if (me - b === 7 && startsWith(buf, b, me, B_REMOVED)) act = A_REMOVED;
        else if (startsWith(buf, b, me, B_FROM)) act = A_QUEUED;
        else return;
        break;
      case P_SMTPD:
        if (startsWith(buf, b, me, B_CLIENT)) act = A_CLIENT;
        else {
          if (startsWith(buf, b, me, B_REJECT)) this.counts.rejected++;
          return;
        }
        break;
      case P_PICKUP:
        if (!startsWith(buf, b, me, B_UID)) return;
        act = A_PICKUP;
        break;
      case P_CLEANUP:
        if (startsWith(buf, b, me, B_LISTMONK)) act = A_CAMPAIGN;
        else {
          if (startsWith(buf, b, me, B_REJECT)) this.counts.rejected++;
          return;
        }
        break;
      case P_OPENDKIM:
        if (!startsWith(buf, b, me, B_DKIM)) return;
        act = A_DKIM;
        break;
      case P_POSTSUPER:
        if (!startsWith(buf, b, me, B_REMOVED)) return;
        act = A_REMOVED;
        break;
      default:
        return;
    }
    this.hostId = this.hostIdOf(h.host);
    if (t.gen !== this.gen) {
      t.gen = this.gen;
      t.id = this.tagIdOf(t.tag, t.instance, t.program);
    }
    this.tagId = t.id;
    this.tsKind = h.tsKind;
    this.tsBuf = buf;
    this.tsStart = h.tsStart;
    this.tsEnd = h.tsEnd;
    this.qBuf = buf;
    this.qStart = ms;
    this.qEnd = colon;
    switch (act) {
      case A_DELIVERY:
        if (!this.sentBytes(buf, b, me, ascii, lineNo)) this.delivery(buf.toString(ascii ? 'latin1' : 'utf8', b, me), lineNo);
        return;
      case A_QUEUED:
        this.queuedBytes(buf, b, me, lineNo);
        return;
      case A_CLIENT:
        this.clientBytes(buf, b, me, lineNo);
        return;
      default:
        this.act(act, '', lineNo);
    }
  }

  /**
   * qmgr `from=<sender>, …` read on the bytes as act() reads the string: the sender between the
   * first '<' and '>' (ASCII, so the same boundaries in either decoding), lower case; expired when
   * the line says `status=expired` or `status=force-expired` anywhere.
   */
  private queuedBytes(buf: Buffer, b: number, me: number, lineNo: number): void {
    const ts = this.timeOf();
    const gt = indexOfByte(buf, 62, b, me);
    this.record(R_QUEUED | (expiredStatus(buf, b, me) ? F_EXPIRED : 0), ts, lineNo);
    if (buf[b + 5] === 60 && gt > b) this.fieldBytes(buf, b + 6, gt, true);
  }

  /** smtpd `client=NAME[IP]…` on the bytes, as act() reads the string. */
  private clientBytes(buf: Buffer, b: number, me: number, lineNo: number): void {
    const ts = this.timeOf();
    const open = indexOfByte(buf, 91, b, me);
    const close = open > b ? indexOfByte(buf, 93, open, me) : -1;
    this.record(R_CLIENT, ts, lineNo);
    if (close > open) this.fieldBytes(buf, open + 1, close, false);
  }

  /**
   * A success (most delivery lines) decided on the bytes, as delivery() decides it on the string:
   * only the recipient is decoded, not the whole line. Offsets of ASCII bytes ('<', '>', ',') are
   * boundaries in either decoding, so the recipient string is the one delivery() would slice.
   * Returns false (nothing done) for anything else, which then takes delivery() on the string.
   */
  private sentBytes(buf: Buffer, b: number, me: number, ascii: boolean, lineNo: number): boolean {
    // Searches stay inside the line (a view of it): an unbounded indexOf would run on through the
    // chunk whenever the line lacks the needle.
    const line = buf.subarray(b, me);
    const st = line.indexOf(B_STATUS_SENT) + b;
    if (st <= b) return false;
    let gt: number;
    if (buf[b + 3] === 60) {
      gt = line.indexOf(62, 4);
      gt = gt < 0 ? -1 : b + gt + 1;
    } else {
      gt = line.indexOf(44, 3);
      if (gt >= 0) gt += b;
    }
    // The relay, as relayValue() reads it on the string: local (the firm's own mailboxes), or the
    // provider code of its host. One search of the line, where looking for `, relay=local,` was one too.
    const r = line.indexOf(B_RELAY);
    const v = r < 0 ? -1 : b + r + B_RELAY.length;
    const relayLocal = v >= 0 && startsWith(buf, v, me, B_LOCAL) && (v + B_LOCAL.length === me || buf[v + B_LOCAL.length] === 44);
    const code = v < 0 || relayLocal ? 0 : this.relayCodes.ofBytes(buf, v, me);
    const kind = R_SENT | (relayLocal ? F_RELAY_LOCAL : 0) | (code << RELAY_CODE_SHIFT);
    if (gt > b + 5 && buf[b + 3] === 60 && buf[gt - 1] === 62) {
      // `to=<addr>,`: cleanAddress of "<addr>" is addr in lower case (nothing to trim or unquote).
      this.record(kind, this.timeOf(), lineNo);
      this.fieldBytes(buf, b + 4, gt - 1, true);
      return true;
    }
    const to = cleanAddress(buf.toString(ascii ? 'latin1' : 'utf8', b + 3, gt > b ? gt : st));
    if (!to) return false;
    this.sent(to, kind, lineNo);
    return true;
  }


  /** Counts the line being parsed as skipped, and keeps its text when asked. */
  private skip(reason: SkipReason, lineNo: number): void {
    this.counts[reason]++;
    if (this.keepSkipped) this.skipped.push({ line: lineNo, reason, raw: rawLine(this.lb, this.lStart, this.lEnd) });
  }

  /** The string path: parseLine, then the same decisions as the byte path (kept whole as the reference). */
  private handle(raw: string, lineNo: number): void {
    const l = parseLine(raw);
    if (typeof l === 'string') {
      this.skip(l, lineNo);
      return;
    }
    if (!POSTFIX_PROGRAMS.has(l.program)) {
      this.skip('foreign', lineNo);
      return;
    }
    const msg = l.message;
    const qid = queueIdOf(msg);
    if (!qid) {
      if (msg.startsWith('NOQUEUE: reject:')) this.counts.rejected++;
      return;
    }
    const body = msg.slice(qid.length + 2);
    const prog = l.program;
    let act: number;
    if (DELIVERY_AGENTS.has(prog)) {
      if (!body.startsWith('to=')) return;
      act = A_DELIVERY;
    } else
      switch (prog) {
        case 'qmgr':
        case 'oqmgr':
          if (body === 'removed') act = A_REMOVED;
          else if (body.startsWith('from=')) act = A_QUEUED;
          else return;
          break;
        case 'smtpd':
          if (body.startsWith('client=')) act = A_CLIENT;
          else {
            if (body.startsWith('reject:')) this.counts.rejected++;
            return;
          }
          break;
        case 'pickup':
          if (!body.startsWith('uid=')) return;
          act = A_PICKUP;
          break;
        case 'cleanup':
          if (body.startsWith('info: header X-Listmonk-Campaign:')) act = A_CAMPAIGN;
          else {
            if (body.startsWith('reject:')) this.counts.rejected++;
            return;
          }
          break;
        case 'opendkim':
          if (!body.startsWith('DKIM-Signature field added')) return;
          act = A_DKIM;
          break;
        case 'postsuper':
          if (!body.startsWith('removed')) return;
          act = A_REMOVED;
          break;
        default:
          return;
      }
    this.hostId = this.hostIdOf(l.host);
    this.tagId = this.tagIdOf(l.tag, l.instance, l.program);
    this.tsKind = l.tsKind === 'rfc3339' ? TS_RFC3339 : l.tsKind === 'traditional' ? TS_TRADITIONAL : 0;
    this.tsRaw = l.tsRaw;
    this.tsBuf = null;
    this.qBuf = null;
    this.qStr = qid;
    if (act === A_DELIVERY) this.delivery(body, lineNo);
    else this.act(act, body, lineNo);
  }

  /** The record of a kept line other than a delivery attempt (its queue id is the line's). */
  private act(act: number, body: string, lineNo: number): void {
    switch (act) {
      case A_REMOVED:
        this.record(R_REMOVED, 0, lineNo);
        return;
      case A_DKIM:
        this.record(R_DKIM, 0, lineNo);
        return;
      case A_PICKUP:
        this.record(R_PICKUP, this.timeOf(), lineNo);
        return;
      case A_CAMPAIGN:
        this.record(R_CAMPAIGN, this.timeOf(), lineNo);
        return;
      case A_QUEUED: {
        const ts = this.timeOf();
        // from=<sender>, size=…, nrcpt=… (queue active) | status=expired, returned to sender
        const gt = body.indexOf('>');
        this.record(R_QUEUED | (body.includes('status=expired') || body.includes('status=force-expired') ? F_EXPIRED : 0), ts, lineNo);
        if (body.charCodeAt(5) === 60 && gt > 0) this.field(body.slice(6, gt).toLowerCase());
        return;
      }
      case A_CLIENT: {
        const ts = this.timeOf();
        // client=NAME[IP][, sasl_method=…]
        const b = body.indexOf('[');
        const e = body.indexOf(']', b);
        this.record(R_CLIENT, ts, lineNo);
        if (b > 0 && e > b) this.field(body.slice(b + 1, e));
        return;
      }
    }
  }

  /** A sent recipient: its time is read now (a record in line order, like every other). */
  private sent(to: string, kind: number, lineNo: number): void {
    this.record(kind, this.timeOf(), lineNo);
    this.field(to);
  }

  /** R_SENT with the flags of a delivery line's relay value (relayValue()): local, or its provider code. */
  private sentKind(relay: string): number {
    return relay === 'local' ? R_SENT | F_RELAY_LOCAL : R_SENT | (this.relayCodes.of(relay) << RELAY_CODE_SHIFT);
  }

  private delivery(body: string, lineNo: number): void {
    const st = body.indexOf(', status=sent ');
    if (st > 0) {
      // A success needs only its recipient: no key=value parse, no classification.
      const gt = body.charCodeAt(3) === 60 ? body.indexOf('>', 4) + 1 : body.indexOf(',', 3);
      const to = cleanAddress(body.slice(3, gt > 0 ? gt : st));
      if (to) {
        this.sent(to, this.sentKind(relayValue(body)), lineNo);
        return;
      }
    }
    const d = parseDelivery(body);
    if (!d) {
      this.skip('malformed', lineNo);
      return;
    }
    if (d.status === 'deliverable' || d.status === 'undeliverable') {
      // Address-verification probes, not deliveries.
      this.counts.probes++;
      return;
    }
    if (d.status === 'sent') {
      // The relay as the fast paths read it (the first `, relay=`), so every path gives one answer.
      this.sent(d.to, this.sentKind(relayValue(body)), lineNo);
      return;
    }
    const ts = this.timeOf();
    const c = classifyCached(d.status, d.dsn, d.reason);
    this.record(R_FAILED, ts, lineNo);
    this.failures.push({ to: d.to, origTo: d.origTo, relay: d.relay, dsn: d.dsn, status: d.status, reason: d.reason, cls: c.class });
  }
}

/** The index of the first NUL byte of buf at or after `from`, or Infinity. */
function nulFrom(buf: Buffer, from: number): number {
  const i = buf.indexOf(0, from);
  return i < 0 ? Infinity : i;
}

/**
 * The parsed chunks of a file from byte `from` (line `firstLineNo`), in order: what the parse
 * worker sends and what the main thread parses itself until the worker is ready (parse-worker.ts).
 * `yearRef` dates the file's traditional timestamps (see TraditionalClock and yearReference).
 */
export async function* parseFile(
  parser: LineParser,
  zone: ZoneClock,
  file: LogFile,
  at: { from: number; firstLineNo: number; yearRef: Date; chunkBytes: number; onDamage?: (message: string) => void },
): AsyncGenerator<ParsedChunk> {
  parser.beginFile(new TraditionalClock(zone, at.yearRef));
  let lineNo = at.firstLineNo;
  for await (const c of readChunks(file, at.from, { chunkBytes: at.chunkBytes, ...(at.onDamage ? { onDamage: at.onDamage } : {}) })) {
    const p = parser.parseChunk(c, lineNo);
    lineNo += p.lines;
    yield p;
  }
}
