/**
 * The stateless half of the linker: turns mail.log lines (Postfix and opendkim syslog lines) into
 * compact records of what each kept line says (records.ts), with no knowledge of open messages.
 * The linker (linker.ts) applies the records in order; it is the only part that needs the lines
 * one after the other with all the state. Split this way, parsing (most of the per-line cost) can
 * run in a worker thread while the main thread links and writes (parse-worker.ts), and both modes
 * run the very same code: in-thread (tests, tools), the records are simply not copied. One class
 * chain: ChunkBuilder (chunk-builder.ts, the records being written) < StringPathParser
 * (string-path.ts, the reference path on decoded lines) < LineParser (here, the byte path).
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
import { cleanAddress } from './delivery.ts';
import type { LogFile } from './files.ts';
import { HeaderReader, P_CLEANUP, P_DELIVERY, P_FOREIGN, P_OPENDKIM, P_OTHER, P_PICKUP, P_POSTSUPER, P_QMGR, P_SMTPD, indexOfByte, queueIdEnd, startsWith } from './header.ts';
import { RELAY_CODE_SHIFT } from './outcome-provider.ts';
import { NL } from './prefilter.ts';
import { MAX_LINE_BYTES, readChunks, type LineChunk } from './reader.ts';
import { F_EXPIRED, F_RELAY_LOCAL, R_CLIENT, R_QUEUED, R_SENT, type ParsedChunk } from './records.ts';
import { A_CAMPAIGN, A_CLIENT, A_DELIVERY, A_DKIM, A_PICKUP, A_QUEUED, A_REMOVED, StringPathParser } from './string-path.ts';
import { TraditionalClock, type ZoneClock } from './timestamp.ts';

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

export class LineParser extends StringPathParser {
  /** Test seam: false sends every line through the string path (the reference the byte path must equal). */
  bytePath = true;
  private readonly header = new HeaderReader();

  /** Parses every line of a chunk of bytes (reader.ts); line numbers start at `firstLineNo`. */
  parseChunk(c: LineChunk, firstLineNo: number): ParsedChunk {
    return this.take(this.parseLines(c, firstLineNo), c.endOffset);
  }

  /**
   * The lines of a chunk, parsed; returns how many. Apart from take(): the first chunk's loop is
   * compiled while it runs (OSR), and a call it had never reached (take) left that compiled code
   * at the loop's end, to be compiled again.
   */
  private parseLines(c: LineChunk, firstLineNo: number): number {
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
    return n;
  }

  /** One line as a string (tests and tools): the very path of the bytes. */
  parseString(raw: string, lineNo: number): ParsedChunk {
    const b = Buffer.from(raw, 'utf8');
    this.nul = nulFrom(b, 0);
    this.line(b, 0, b.length, false, lineNo);
    return this.take(1, 0);
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
    // One pass over the line's ", " finds the first `, status=sent ` and the first `, relay=`, as
    // two searches of the line did: no view of the line to make and no call into the runtime per
    // search, on most lines of a bulk night. Searches stay inside the line.
    let st = -1;
    let v = -1;
    for (let i = b; i < me; i++) {
      if (buf[i] !== 44 || buf[i + 1] !== 32) continue;
      if (v < 0 && startsWith(buf, i, me, B_RELAY)) {
        v = i + B_RELAY.length;
        if (st >= 0) break;
      } else if (st < 0 && startsWith(buf, i, me, B_STATUS_SENT)) {
        st = i;
        if (v >= 0) break;
      }
    }
    if (st <= b) return false;
    let gt: number;
    if (buf[b + 3] === 60) {
      gt = indexOfByte(buf, 62, b + 4, me);
      if (gt >= 0) gt++;
    } else gt = indexOfByte(buf, 44, b + 3, me);
    // The relay, as relayValue() reads it on the string: local (the firm's own mailboxes), or the
    // provider code of its host.
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
