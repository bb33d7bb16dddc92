/**
 * The message linker: turns the records of mail.log lines (parse.ts) into delivery outcomes that
 * know their message. It is the stateful half of reading a log: parsing
 * is per line and may run in another thread (parse-worker.ts); linking needs the records in order.
 * State is kept per (host, syslog instance, queue id) only while the message is open — from smtpd
 * `client=`/pickup to qmgr `removed` — so memory follows the queue, not the file. Short queue ids are reused, which is why `removed` resets the key.
 *
 * It records the injecting client (campaign clients map to Listmonk streams), opendkim's
 * `DKIM-Signature field added`, the envelope sender, and each recipient's last deferral, so that a
 * qmgr `status=expired` can close the recipients still pending with the cause of their last try.
 * Open state survives between runs (serialize/restore) in the same transaction as the checkpoint.
 * The state lives in a class chain: OpenMessages (open-messages.ts: the open messages and their
 * saved form) < OutcomeTally (outcome-tally.ts: what a batch has produced) < Linker (here: what
 * each record does), so every per-record call stays a direct call on one receiver shape.
 */
import { domainOf } from './delivery.ts';
import { dictionary, type LinkerOptions, type LinkerState } from './open-messages.ts';
import { OutcomeTally } from './outcome-tally.ts';
import { CODES, RELAY_CODE_MASK, RELAY_CODE_SHIFT, YAHOO_CODE } from './outcome-provider.ts';
import { emptyCounts, type DeliveryEvent, type EventSink } from './outcomes.ts';
import { LineParser } from './parse.ts';
import { F_EXPIRED, F_FIELD, F_RELAY_LOCAL, F_UTF8, INT_STRIDE, NUM_STRIDE, RecordText, R_CAMPAIGN, R_CLIENT, R_DKIM, R_FAILED, R_KIND, R_PICKUP, R_QUEUED, R_REMOVED, R_SENT, type FailedDelivery, type ParsedChunk } from './records.ts';
import type { LineChunk } from './reader.ts';
import type { TraditionalClock } from './timestamp.ts';

export { emptyCounts };
export type { DailyCounters, DeliveryEvent, EventSink, LineCounts, OpenMessage, OutcomeStatus, PendingRecipient, ProviderSentCount, SentCount, SentDomains } from './outcomes.ts';
export type { LinkerOptions, LinkerState, LinkerStateV1, LinkerStateV2, LinkerStateV3, PackedMessage } from './open-messages.ts';
export { expandState } from './open-messages.ts';

/**
 * `S` is where a batch's events go: an array by default, or the sink `newEvents` makes for each
 * batch (the scrub's COPY rows).
 */
export class Linker<S extends EventSink = DeliveryEvent[]> extends OutcomeTally<S> {
  /** This thread's parser: feedChunk and feed (a worker has its own, see parse-worker.ts). */
  private readonly parser: LineParser;
  private parsedStringPathLines = 0;
  /** Recent queue ids, senders and client IPs by a hash of their bytes (RecordText.nextInterned). */
  private readonly interned: (string | undefined)[] = new Array(1 << 14);

  /** The record being applied: its program and tag (its host and instance are OpenMessages'). */
  private program = '';
  /** `postfix/out05/smtp`: the syslog name with the program, which names the transport when it sets syslog_name. */
  private tag = '';
  private localAgent = false;

  constructor(opts: LinkerOptions, state?: LinkerState | null, newEvents?: () => S) {
    super(opts, state, newEvents);
    this.parser = new LineParser();
  }

  /** Traditional timestamps of the next lines fed in this thread take their year from this file's clock. */
  beginFile(clock: TraditionalClock): void {
    this.parser.beginFile(clock);
  }

  /** Test seam: false sends every line fed in this thread through the string path (the reference). */
  get bytePath(): boolean {
    return this.parser.bytePath;
  }
  set bytePath(v: boolean) {
    this.parser.bytePath = v;
  }

  /** Lines that took the string path (non-standard headers): the bench and tests watch it stays rare. */
  get stringPathLines(): number {
    return this.parsedStringPathLines;
  }

  /** Parses and links every line of a chunk of bytes (reader.ts) in this thread; returns how many lines it held. */
  feedChunk(c: LineChunk, firstLineNo: number): number {
    return this.apply(this.parser.parseChunk(c, firstLineNo));
  }

  /** One line as a string (tests and tools): the very path of the bytes. */
  feed(raw: string, lineNo: number): void {
    this.apply(this.parser.parseString(raw, lineNo));
  }

  /**
   * Links the records of a parsed chunk (parse.ts), in order, whichever thread parsed them.
   * Returns how many lines the chunk held.
   */
  apply(p: ParsedChunk): number {
    // Read before the loop, not after: the first chunk's loop is compiled while it runs (OSR),
    // and a read the code had never reached left that compiled code at its first return.
    const lines = p.lines;
    const { hosts, tags } = p;
    const c = this.counts;
    const pc = p.counts;
    c.lines += pc.lines;
    c.comment += pc.comment;
    c.blank += pc.blank;
    c.malformed += pc.malformed;
    c.foreign += pc.foreign;
    c.binary += pc.binary;
    c.tooLong += pc.tooLong;
    c.noTimestamp += pc.noTimestamp;
    c.probes += pc.probes;
    c.rejected += pc.rejected;
    this.parsedStringPathLines += p.stringPathLines;
    const { ints, nums, failures } = p;
    const text = new RecordText(p.bytes);
    let f = 0;
    for (let i = 0; i < p.n; i++) {
      const k = i * INT_STRIDE;
      const kind = ints[k]!;
      const type = kind & R_KIND;
      this.host = hosts[ints[k + 1]!]!;
      const tag = tags[ints[k + 2]!]!;
      this.instance = tag.instance;
      this.program = tag.program;
      this.tag = tag.tag;
      this.localAgent = tag.local;
      let ts = nums[i * NUM_STRIDE]!;
      if (type !== R_REMOVED && type !== R_DKIM) {
        // A line without a usable date happened no earlier than the line before it (NaN from the parser).
        if (ts !== ts) ts = this.lastTs;
        else if (ts > this.lastTs) this.lastTs = ts;
      }
      const lineNo = nums[i * NUM_STRIDE + 1]!;
      const qid = text.nextInternedHashed(ints[k + 3]!, ints[k + 5]!, this.interned);
      const fieldEnd = ints[k + 4]!;
      const utf8 = (kind & F_UTF8) !== 0;
      // Senders and client IPs repeat all night: interned.
      const field = kind & F_FIELD && type !== R_SENT ? (utf8 ? text.next(fieldEnd, true) : text.nextInterned(fieldEnd, this.interned)) : null;
      switch (type) {
        case R_SENT: {
          // A success needs the recipient's domain (interned: a few thousand a night); the address
          // itself only if its message has recipients pending, so it is decoded then.
          const start = text.at;
          const domain = utf8 ? domainOf(text.next(fieldEnd, true)) : text.nextDomain(fieldEnd, this.interned);
          this.sent1(qid, domain, text, start, fieldEnd, utf8, (kind & F_RELAY_LOCAL) !== 0, (kind & RELAY_CODE_MASK) >>> RELAY_CODE_SHIFT, ts);
          break;
        }
        case R_FAILED:
          this.failed(qid, failures[f++]!, ts, lineNo);
          break;
        case R_REMOVED:
          this.close(this.scope().msgs.get(qid));
          break;
        case R_QUEUED:
          this.queued(qid, field, (kind & F_EXPIRED) !== 0, ts, lineNo);
          break;
        case R_CLIENT:
          this.injected(qid, field, ts);
          break;
        case R_PICKUP:
          this.counts.received++;
          this.touch(qid, ts).clientIp = 'pickup';
          break;
        case R_CAMPAIGN: {
          const m = this.touch(qid, ts);
          m.campaign = true;
          m.stream ??= 'listmonk';
          break;
        }
        case R_DKIM: {
          const m = this.byHostQid.get(this.host)?.get(qid);
          if (m) m.signed = true;
          break;
        }
      }
    }
    return lines;
  }

  private injected(qid: string, ip: string | null, ts: number): void {
    this.counts.received++;
    // A reused short qid starts a new message.
    const sc = this.scope();
    this.close(sc.msgs.get(qid));
    const m = this.open(sc, qid, ts);
    m.clientIp = ip;
    const stream = ip ? this.opts.campaignClients.get(ip) : undefined;
    if (stream) {
      m.campaign = true;
      m.stream = stream;
    }
  }

  private queued(qid: string, sender: string | null, expired: boolean, ts: number, lineNo: number): void {
    const m = this.touch(qid, ts);
    if (m.sender === null && sender !== null) m.sender = sender;
    if (!expired) return;
    // Message-level: every recipient not yet final fails with its last deferral's reason.
    const day = this.opts.zone.day(ts);
    const pending = m.pending ? Object.entries(m.pending) : [];
    if (!pending.length) {
      this.events.push(this.event(m, qid, ts, day, lineNo, null, null, 'expired', null, 'expired', null, '', `${this.instance}/${this.program}`, null));
    }
    let allOwn = pending.length > 0;
    for (const [rcpt, p] of pending) {
      const e = this.event(m, qid, ts, day, lineNo, rcpt, p.origTo, 'expired', p.dsn, 'expired', p.cls, p.reason, p.transport, p.relay);
      allOwn &&= e.ownDomain;
      this.events.push(e);
    }
    // One expired message, counted apart when all its recipients were the firm's own.
    if (allOwn) this.counts.ownExpired++;
    else this.counts.expired++;
    m.pending = null;
  }

  private failed(qid: string, d: FailedDelivery, ts: number, lineNo: number): void {
    const day = this.opts.zone.day(ts);
    const transport = this.tag;
    const domain = domainOf(d.to);
    const own = this.localAgent || d.relay === 'local' || this.opts.ownDomains.has(domain);
    const m = this.scope().msgs.get(qid);
    if (d.status === 'deferred') {
      if (own) this.counts.ownDeferred++;
      else this.counts.deferred++;
      const mm = m ?? this.touch(qid, ts);
      (mm.pending ??= dictionary({})!)[d.to] = { cls: d.cls, dsn: d.dsn, reason: d.reason, relay: d.relay, origTo: d.origTo, transport };
    } else {
      if (own) this.counts.ownBounced++;
      else this.counts.bounced++;
      if (m?.pending) delete m.pending[d.to];
    }
    this.events.push(this.event(m ?? null, qid, ts, day, lineNo, d.to, d.origTo, d.status, d.dsn, d.cls, null, d.reason, transport, d.relay, own));
  }

  /** A sent recipient: its domain, and where its address is in the chunk's text. */
  private sent1(qid: string, domain: string, text: RecordText, toStart: number, toEnd: number, utf8: boolean, relayLocal: boolean, relayCode: number, ts: number): void {
    const day = this.opts.zone.day(ts);
    const transport = this.tag;
    const own = relayLocal || this.localAgent || this.opts.ownDomains.has(domain);
    const m = this.scope().msgs.get(qid);
    if (own) this.counts.ownSent++;
    else this.counts.sent++;
    const stream = m?.stream ?? null;
    // A bulk night's successes come in long runs of one day, transport and stream: the count of the
    // success before is usually this one's.
    let c = this.lastSent;
    if (c === null || c.day !== day || c.transport !== transport || c.stream !== stream || c.ownDomain !== own) {
      // Nested maps keyed by the day, transport and stream strings, which are shared objects (the
      // zone's day cache, the chunk's tag list, config values) whose hashes V8 keeps: no key string per line.
      const byDay = own ? this.sentOwn : this.sent;
      let byTransport = byDay.get(day);
      if (!byTransport) byDay.set(day, (byTransport = new Map()));
      let byStream = byTransport.get(transport);
      if (!byStream) byTransport.set(transport, (byStream = new Map()));
      c = byStream.get(stream ?? '') ?? null;
      if (!c) byStream.set(stream ?? '', (c = { day, transport, stream, ownDomain: own, count: 0 }));
      this.lastSent = c;
    }
    c.count++;
    // The last success per domain is all the domain-failure policy asks; the firm's own mail is never judged.
    if (!own) {
      const last = this.sentDomains.get(domain);
      if (last === undefined || ts > last) this.sentDomains.set(domain, ts);
      // Per provider: the day's counts are found once per run of one day, like the sent counts above.
      let counts = this.lastProviderCounts;
      if (counts === null || this.lastProviderDay !== day) {
        counts = this.sentProviders.get(day) ?? null;
        if (!counts) this.sentProviders.set(day, (counts = new Float64Array(CODES)));
        this.lastProviderDay = day;
        this.lastProviderCounts = counts;
      }
      counts[relayCode === 0 && this.yahooDomains.has(domain) ? YAHOO_CODE : relayCode]!++;
    }
    if (m?.pending) delete m.pending[text.decode(toStart, toEnd, utf8)];
  }
}
