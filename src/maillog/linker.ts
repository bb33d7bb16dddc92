/**
 * The message linker: turns mail.log lines into delivery outcomes that know their message
 * (research/maillog.md §2). State is kept per (host, syslog instance, queue id) only while the
 * message is open — from smtpd `client=`/pickup to qmgr `removed` — so memory follows the queue,
 * not the file. Short queue ids are reused, which is why `removed` resets the key.
 *
 * It records the injecting client (campaign clients map to Listmonk streams), opendkim's
 * `DKIM-Signature field added`, the envelope sender, and each recipient's last deferral, so that a
 * qmgr `status=expired` can close the recipients still pending with the cause of their last try.
 * Open state survives between runs (serialize/restore) in the same transaction as the checkpoint.
 */
import { providerOfRelayHost } from '../mx/providers.ts';
import { classifyCached, type BounceClass } from './classify.ts';
import { cleanAddress, domainOf, parseDelivery, relayHost, smtpStage } from './delivery.ts';
import { HeaderReader, P_CLEANUP, P_DELIVERY, P_FOREIGN, P_OPENDKIM, P_PICKUP, P_POSTSUPER, P_QMGR, P_SMTPD, queueIdEnd, startsWith, TS_RFC3339, TS_TRADITIONAL } from './header.ts';
import { parseLine, queueIdOf } from './line.ts';
import type { LineChunk } from './reader.ts';
import { emptyCounts, type DailyCounters, type DeliveryEvent, type LineCounts, type OpenMessage, type OutcomeStatus, type SentCount, type SentDomains } from './outcomes.ts';
import { DELIVERY_AGENTS, LOCAL_AGENTS, NL, POSTFIX_PROGRAMS } from './prefilter.ts';
import { parseRfc3339, type TraditionalClock, type ZoneClock } from './timestamp.ts';

export { emptyCounts };
export type { DailyCounters, DeliveryEvent, LineCounts, OpenMessage, OutcomeStatus, PendingRecipient, SentCount, SentDomains } from './outcomes.ts';

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
const B_RELAY_LOCAL = Buffer.from(', relay=local,');

export interface LinkerOptions {
  zone: ZoneClock;
  /** Client IP -> stream name (Listmonk instance) of campaign mail. */
  campaignClients: ReadonlyMap<string, string>;
  ownDomains: ReadonlySet<string>;
  /** Open messages kept at most (oldest evicted first). */
  maxOpen: number;
  /** Open messages older than this (log time) are evicted: Postfix gives up after 5 days by default. */
  maxOpenAgeMs: number;
}

/** The first format: objects per message and the host+qid index in full. Still read (a state saved before the upgrade). */
export interface LinkerStateV1 {
  version: 1;
  lastTs: number;
  messages: [string, OpenMessage][];
  byHostQid: [string, string][];
}

/**
 * One tuple per open message, in insertion order (the eviction order):
 * [key, host, qid, firstTs, clientIp, stream, flags, sender, pending], flags = campaign | signed << 1
 * | (byHostQid points here) << 2. Saved with every batch, so its size is server and client CPU:
 * about half the text of v1, and the host+qid index is rebuilt exactly from the flag (each entry
 * points at an open message, at most one per host+qid).
 */
export type PackedMessage = [string, string, string, number, string | null, string | null, number, string | null, OpenMessage['pending']];
export interface LinkerStateV2 {
  version: 2;
  lastTs: number;
  messages: PackedMessage[];
}
export type LinkerState = LinkerStateV1 | LinkerStateV2;

/** The open messages of one host and Postfix instance, by queue id (a queue id is unique only there). */
interface Scope {
  /** `host\tinstance\t`: the saved state's key of a message is this plus its queue id. */
  prefix: string;
  msgs: Map<string, Open>;
}
/** An open message and the scope that holds it (never saved: the key says it). */
interface Open extends OpenMessage {
  scope: Scope;
}

/** day -> transport -> stream ('' for none) -> count. */
type SentTree = Map<string, Map<string, Map<string, SentCount>>>;

/** What a kept line does (decided by either path, carried out by the same code). */
const A_DELIVERY = 1;
const A_REMOVED = 2;
const A_QUEUED = 3;
const A_CLIENT = 4;
const A_PICKUP = 5;
const A_CAMPAIGN = 6;
const A_DKIM = 7;

export class Linker {
  /**
   * Open messages are found by host, then instance, then queue id: the host and instance strings are
   * interned by the header reader (their hashes are cached), so a lookup hashes only the queue id,
   * where one key string per line (`host\tinstance\tqid`) had to be built and hashed whole.
   */
  private readonly scopes = new Map<string, Map<string, Scope>>();
  /** Every open message in insertion order: the eviction order, and the saved state's order. */
  private readonly order = new Set<Open>();
  /** host -> qid -> the latest open message: opendkim does not log the Postfix instance. */
  private readonly byHostQid = new Map<string, Map<string, Open>>();
  /** The scope of the line being handled, kept while host and instance stay the same. */
  private cur: Scope | null = null;
  private curHost = '';
  private curInstance = '';
  private readonly providerCache = new Map<string, string | null>();
  private readonly header = new HeaderReader();
  private clock: TraditionalClock | null = null;
  private lastTs = 0;
  private sinceSweep = 0;

  /**
   * The line being handled, filled by either path (bytes or string) so the handlers below are
   * shared: whatever the path, a line produces the same state changes and outcomes.
   */
  private host = '';
  private instance = '';
  private program = '';
  /** `postfix/out05/smtp`: the syslog name with the program, which names the transport when it sets syslog_name. */
  private tag = '';
  private localAgent = false;
  private tsKind = 0;
  private tsRaw = '';
  /** Byte path: the timestamp is buf[tsStart, tsEnd), read only when a handler needs it. */
  private tsBuf: Buffer | null = null;
  private tsStart = 0;
  private tsEnd = 0;

  /** Test seam: false sends every line through the string path (the reference the byte path must equal). */
  bytePath = true;
  /** Lines that took the string path (non-standard headers): the bench and tests watch it stays rare. */
  stringPathLines = 0;

  events: DeliveryEvent[] = [];
  private sent: SentTree = new Map();
  private sentOwn: SentTree = new Map();
  private sentDomains: SentDomains = new Map();
  daily = new Map<string, DailyCounters>();
  counts = emptyCounts();

  constructor(
    private readonly opts: LinkerOptions,
    state?: LinkerState | null,
  ) {
    if (state?.version === 1) {
      const byKey = new Map<string, Open>();
      for (const [k, m] of state.messages) byKey.set(k, this.restore(k, { ...m }));
      for (const [hq, k] of state.byHostQid) {
        const m = byKey.get(k);
        if (m) this.indexHost(m.host, hq.slice(hq.indexOf('\t') + 1), m);
      }
      this.lastTs = state.lastTs;
    } else if (state?.version === 2) {
      for (const [key, host, qid, firstTs, clientIp, stream, flags, sender, pending] of state.messages) {
        const m = this.restore(key, { host, qid, firstTs, clientIp, stream, campaign: (flags & 1) !== 0, signed: (flags & 2) !== 0, sender, pending });
        if (flags & 4) this.indexHost(host, qid, m);
      }
      this.lastTs = state.lastTs;
    }
  }

  /** A saved message back in its scope; its key is `host\tinstance\tqid`. */
  private restore(key: string, msg: OpenMessage): Open {
    const instance = key.slice(msg.host.length + 1, key.length - msg.qid.length - 1);
    const sc = this.scopeOf(msg.host, instance);
    const m: Open = Object.assign(msg, { scope: sc });
    const old = sc.msgs.get(m.qid);
    if (old) this.order.delete(old);
    sc.msgs.set(m.qid, m);
    this.order.add(m);
    return m;
  }

  private indexHost(host: string, qid: string, m: Open): void {
    let idx = this.byHostQid.get(host);
    if (!idx) this.byHostQid.set(host, (idx = new Map()));
    idx.set(qid, m);
  }

  private scopeOf(host: string, instance: string): Scope {
    let byInstance = this.scopes.get(host);
    if (!byInstance) this.scopes.set(host, (byInstance = new Map()));
    let sc = byInstance.get(instance);
    if (!sc) byInstance.set(instance, (sc = { prefix: host + '\t' + instance + '\t', msgs: new Map() }));
    return sc;
  }

  /** The scope of the current line's host and instance. */
  private scope(): Scope {
    if (this.cur === null || this.curHost !== this.host || this.curInstance !== this.instance) {
      this.cur = this.scopeOf(this.host, this.instance);
      this.curHost = this.host;
      this.curInstance = this.instance;
    }
    return this.cur;
  }

  /** Traditional timestamps of the next lines take their year from this file's clock. */
  beginFile(clock: TraditionalClock): void {
    this.clock = clock;
  }

  get openMessages(): number {
    return this.order.size;
  }

  /** Everything produced since the last call; the caller writes it with the checkpoint. */
  takeBatch(): { events: DeliveryEvent[]; sent: SentCount[]; sentDomains: SentDomains; daily: Map<string, DailyCounters>; counts: LineCounts } {
    const sent: SentCount[] = [];
    for (const tree of [this.sent, this.sentOwn]) for (const byTransport of tree.values()) for (const byStream of byTransport.values()) for (const c of byStream.values()) sent.push(c);
    const out = { events: this.events, sent, sentDomains: this.sentDomains, daily: this.daily, counts: this.counts };
    this.events = [];
    this.sent = new Map();
    this.sentOwn = new Map();
    this.sentDomains = new Map();
    this.daily = new Map();
    this.counts = emptyCounts();
    return out;
  }

  serialize(): LinkerStateV2 {
    const messages: PackedMessage[] = [];
    for (const m of this.order) {
      const indexed = this.byHostQid.get(m.host)?.get(m.qid) === m;
      messages.push([m.scope.prefix + m.qid, m.host, m.qid, m.firstTs, m.clientIp, m.stream, (m.campaign ? 1 : 0) | (m.signed ? 2 : 0) | (indexed ? 4 : 0), m.sender, m.pending]);
    }
    return { version: 2, lastTs: this.lastTs, messages };
  }

  private timeOf(): number {
    let t: number | null = null;
    const buf = this.tsBuf;
    if (this.tsKind === TS_RFC3339) t = parseRfc3339(buf ? buf.toString('latin1', this.tsStart, this.tsEnd) : this.tsRaw);
    else if (this.tsKind === TS_TRADITIONAL && this.clock) t = buf ? this.clock.parseBytes(buf, this.tsStart, this.tsEnd) : this.clock.parse(this.tsRaw);
    if (t === null) {
      // A line without a usable date happened no earlier than the line before it.
      this.counts.noTimestamp++;
      return this.lastTs;
    }
    if (t > this.lastTs) this.lastTs = t;
    return t;
  }

  /** Feeds every line of a chunk of bytes (reader.ts); returns how many lines it held. */
  feedChunk(c: LineChunk, firstLineNo: number): number {
    const { buf, end } = c;
    let ls = c.start;
    let n = 0;
    for (;;) {
      let le = buf.indexOf(NL, ls);
      if (le < 0 || le > end) le = end;
      this.feedBytes(buf, ls, le, c.ascii, firstLineNo + n);
      n++;
      if (le >= end) break;
      ls = le + 1;
    }
    return n;
  }

  /** One line as a string (tests and tools): the very path of the bytes. */
  feed(raw: string, lineNo: number): void {
    const b = Buffer.from(raw, 'utf8');
    this.feedBytes(b, 0, b.length, false, lineNo);
  }

  /**
   * One line as bytes buf[ls, le). A standard header (header.ts) is read from the bytes with
   * interned host and tag, and the message is decided on the bytes: most lines of a bulk log
   * (connect/disconnect, TLS, message-id, anvil, bounce notices) are dropped without any string,
   * and the lines we keep decode only their queue id and, when needed, the text after it. Any
   * other header shape is decoded and parsed whole by the string path (handle), the reference.
   */
  feedBytes(buf: Buffer, ls: number, le: number, ascii: boolean, lineNo: number): void {
    this.counts.lines++;
    const h = this.header;
    if (!this.bytePath || !h.read(buf, ls, le)) {
      this.stringPathLines++;
      this.handle(buf.toString(ascii ? 'latin1' : 'utf8', ls, le), lineNo);
      return;
    }
    const t = h.tag;
    if (t.kind === P_FOREIGN) {
      this.counts.foreign++;
      return;
    }
    const ms = h.msgStart;
    const me = h.msgEnd;
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
        if (this.sentBytes(buf, b, me, ascii, colon, h, t)) return;
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
    this.host = h.host;
    this.instance = t.instance;
    this.program = t.program;
    this.tag = t.tag;
    this.localAgent = t.local;
    this.tsKind = h.tsKind;
    this.tsBuf = buf;
    this.tsStart = h.tsStart;
    this.tsEnd = h.tsEnd;
    const qid = buf.toString('latin1', ms, colon);
    const body = act === A_REMOVED || act === A_DKIM || act === A_PICKUP || act === A_CAMPAIGN ? '' : buf.toString(ascii ? 'latin1' : 'utf8', b, me);
    this.act(act, qid, body, lineNo);
  }

  /**
   * A success (most delivery lines) decided on the bytes, as delivery() decides it on the string:
   * only the recipient is decoded, not the whole line. Offsets of ASCII bytes ('<', '>', ',') are
   * boundaries in either decoding, so the recipient string is the one delivery() would slice.
   * Returns false (nothing done) for anything else, which then takes delivery() on the string.
   */
  private sentBytes(buf: Buffer, b: number, me: number, ascii: boolean, colon: number, h: HeaderReader, t: HeaderReader['tag']): boolean {
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
    const to = cleanAddress(buf.toString(ascii ? 'latin1' : 'utf8', b + 3, gt > b ? gt : st));
    if (!to) return false;
    const local = line.indexOf(B_RELAY_LOCAL) >= 0;
    this.host = h.host;
    this.instance = t.instance;
    this.program = t.program;
    this.tag = t.tag;
    this.localAgent = t.local;
    this.tsKind = h.tsKind;
    this.tsBuf = buf;
    this.tsStart = h.tsStart;
    this.tsEnd = h.tsEnd;
    this.sent1(buf.toString('latin1', h.msgStart, colon), to, local);
    return true;
  }

  /** The string path: parseLine, then the same decisions as the byte path (kept whole as the reference). */
  private handle(raw: string, lineNo: number): void {
    const l = parseLine(raw);
    if (typeof l === 'string') {
      this.counts[l]++;
      return;
    }
    if (!POSTFIX_PROGRAMS.has(l.program)) {
      this.counts.foreign++;
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
    this.host = l.host;
    this.instance = l.instance;
    this.program = l.program;
    this.tag = l.tag;
    this.localAgent = LOCAL_AGENTS.has(l.program);
    this.tsKind = l.tsKind === 'rfc3339' ? TS_RFC3339 : l.tsKind === 'traditional' ? TS_TRADITIONAL : 0;
    this.tsRaw = l.tsRaw;
    this.tsBuf = null;
    this.act(act, qid, body, lineNo);
  }

  /** What a kept line does to the open messages and the outcomes. */
  private act(act: number, qid: string, body: string, lineNo: number): void {
    switch (act) {
      case A_DELIVERY:
        this.delivery(qid, body, lineNo);
        return;
      case A_REMOVED:
        this.close(this.scope().msgs.get(qid));
        return;
      case A_QUEUED:
        this.queued(qid, body, lineNo);
        return;
      case A_CLIENT:
        this.injected(qid, body);
        return;
      case A_PICKUP:
        this.counts.received++;
        this.touch(qid, this.timeOf()).clientIp = 'pickup';
        return;
      case A_CAMPAIGN: {
        const m = this.touch(qid, this.timeOf());
        m.campaign = true;
        m.stream ??= 'listmonk';
        return;
      }
      case A_DKIM: {
        const m = this.byHostQid.get(this.host)?.get(qid);
        if (m) m.signed = true;
        return;
      }
    }
  }

  private touch(qid: string, ts: number): Open {
    const sc = this.scope();
    let m = sc.msgs.get(qid);
    if (!m) {
      m = { host: this.host, qid, firstTs: ts, clientIp: null, stream: null, campaign: false, signed: false, sender: null, pending: null, scope: sc };
      sc.msgs.set(qid, m);
      this.order.add(m);
      this.indexHost(this.host, qid, m);
      if (++this.sinceSweep >= 5000) this.sweep(ts);
    }
    return m;
  }

  private injected(qid: string, body: string): void {
    this.counts.received++;
    const ts = this.timeOf();
    // client=NAME[IP][, sasl_method=…]; a reused short qid starts a new message.
    this.close(this.scope().msgs.get(qid));
    const m = this.touch(qid, ts);
    const b = body.indexOf('[');
    const e = body.indexOf(']', b);
    const ip = b > 0 && e > b ? body.slice(b + 1, e) : null;
    m.clientIp = ip;
    const stream = ip ? this.opts.campaignClients.get(ip) : undefined;
    if (stream) {
      m.campaign = true;
      m.stream = stream;
    }
  }

  private queued(qid: string, body: string, lineNo: number): void {
    const ts = this.timeOf();
    const m = this.touch(qid, ts);
    const gt = body.indexOf('>');
    if (m.sender === null && body.charCodeAt(5) === 60 && gt > 0) m.sender = body.slice(6, gt).toLowerCase();
    if (!body.includes('status=expired') && !body.includes('status=force-expired')) return;
    // Message-level: every recipient not yet final fails with its last deferral's reason.
    const day = this.opts.zone.day(ts);
    const pending = m.pending ? Object.entries(m.pending) : [];
    const before = this.events.length;
    if (!pending.length) {
      this.events.push(this.event(m, qid, ts, day, lineNo, null, null, 'expired', null, 'expired', null, '', `${this.instance}/${this.program}`, null));
    }
    for (const [rcpt, p] of pending) {
      this.events.push(this.event(m, qid, ts, day, lineNo, rcpt, p.origTo, 'expired', p.dsn, 'expired', p.cls, p.reason, p.transport, p.relay));
    }
    // One expired message, counted apart when all its recipients were the firm's own.
    if (this.events.slice(before).every((e) => e.ownDomain) && pending.length) this.counts.ownExpired++;
    else this.counts.expired++;
    m.pending = null;
  }

  private delivery(qid: string, body: string, lineNo: number): void {
    const st = body.indexOf(', status=sent ');
    if (st > 0) {
      // A success needs only its recipient: no key=value parse, no classification.
      const gt = body.charCodeAt(3) === 60 ? body.indexOf('>', 4) + 1 : body.indexOf(',', 3);
      const to = cleanAddress(body.slice(3, gt > 0 ? gt : st));
      if (to) {
        this.sent1(qid, to, body.includes(', relay=local,'));
        return;
      }
    }
    const d = parseDelivery(body);
    if (!d) {
      this.counts.malformed++;
      return;
    }
    if (d.status === 'deliverable' || d.status === 'undeliverable') {
      // Address-verification probes, not deliveries.
      this.counts.probes++;
      return;
    }
    if (d.status === 'sent') {
      this.sent1(qid, d.to, d.relay === 'local');
      return;
    }
    const ts = this.timeOf();
    const day = this.opts.zone.day(ts);
    const transport = this.tag;
    const domain = domainOf(d.to);
    const own = this.localAgent || d.relay === 'local' || this.opts.ownDomains.has(domain);
    const m = this.scope().msgs.get(qid);
    const c = classifyCached(d.status, d.dsn, d.reason);
    if (d.status === 'deferred') {
      if (own) this.counts.ownDeferred++;
      else this.counts.deferred++;
      const mm = m ?? this.touch(qid, ts);
      (mm.pending ??= {})[d.to] = { cls: c.class, dsn: d.dsn, reason: d.reason, relay: d.relay, origTo: d.origTo, transport };
    } else {
      if (own) this.counts.ownBounced++;
      else this.counts.bounced++;
      if (m?.pending) delete m.pending[d.to];
    }
    this.events.push(this.event(m ?? null, qid, ts, day, lineNo, d.to, d.origTo, d.status, d.dsn, c.class, null, d.reason, transport, d.relay, own));
  }

  private sent1(qid: string, to: string, relayLocal: boolean): void {
    const ts = this.timeOf();
    const day = this.opts.zone.day(ts);
    const transport = this.tag;
    const domain = domainOf(to);
    const own = relayLocal || this.localAgent || this.opts.ownDomains.has(domain);
    const m = this.scope().msgs.get(qid);
    if (own) this.counts.ownSent++;
    else this.counts.sent++;
    const stream = m?.stream ?? null;
    // Nested maps keyed by the day, transport and stream strings, which are shared objects (the
    // zone's day cache, interned tags, config values) whose hashes V8 keeps: no key string per line.
    const byDay = own ? this.sentOwn : this.sent;
    let byTransport = byDay.get(day);
    if (!byTransport) byDay.set(day, (byTransport = new Map()));
    let byStream = byTransport.get(transport);
    if (!byStream) byTransport.set(transport, (byStream = new Map()));
    const c = byStream.get(stream ?? '');
    if (c) c.count++;
    else byStream.set(stream ?? '', { day, transport, stream, ownDomain: own, count: 1 });
    // The last success per domain is all the domain-failure policy asks; the firm's own mail is never judged.
    if (!own) {
      const last = this.sentDomains.get(domain);
      if (last === undefined || ts > last) this.sentDomains.set(domain, ts);
    }
    if (m?.pending) delete m.pending[to];
  }

  private event(
    m: OpenMessage | null,
    qid: string,
    ts: number,
    day: string,
    lineNo: number,
    recipient: string | null,
    origTo: string | null,
    status: OutcomeStatus,
    dsn: string | null,
    cls: BounceClass,
    cause: BounceClass | null,
    reason: string,
    transport: string,
    relay: string | null,
    ownFlag?: boolean,
  ): DeliveryEvent {
    const domain = recipient ? domainOf(recipient) || null : null;
    const rh = relay ? relayHost(relay) : null;
    const own = ownFlag ?? (domain !== null && this.opts.ownDomains.has(domain));
    return {
      ts,
      day,
      host: this.host,
      transport,
      qid: m?.qid ?? qid,
      recipient,
      origTo,
      domain,
      relay,
      relayHost: rh,
      provider: rh ? this.provider(rh) : null,
      status,
      dsn: dsn || null,
      class: cls,
      causeClass: cause,
      stage: reason ? smtpStage(reason) : null,
      reason,
      sender: m?.sender ?? null,
      clientIp: m?.clientIp ?? null,
      stream: m?.stream ?? null,
      ownDomain: own,
      lineNo,
    };
  }

  private provider(host: string): string | null {
    let p = this.providerCache.get(host);
    if (p === undefined) {
      p = providerOfRelayHost(host);
      if (this.providerCache.size > 50_000) this.providerCache.clear();
      this.providerCache.set(host, p);
    }
    return p;
  }

  /** Ends a message's life: campaign messages are counted for DKIM coverage on their injection day. */
  private close(m: Open | undefined): void {
    if (!m) return;
    this.order.delete(m);
    m.scope.msgs.delete(m.qid);
    const idx = this.byHostQid.get(m.host);
    if (idx?.get(m.qid) === m) idx.delete(m.qid);
    if (m.campaign) {
      const day = this.opts.zone.day(m.firstTs);
      let c = this.daily.get(day);
      if (!c) this.daily.set(day, (c = { campaignMessages: 0, dkimSigned: 0 }));
      c.campaignMessages++;
      if (m.signed) c.dkimSigned++;
    }
  }

  /** Bounded memory: drop messages open longer than any queue lifetime, and the oldest beyond maxOpen. */
  private sweep(now: number): void {
    this.sinceSweep = 0;
    const cutoff = now - this.opts.maxOpenAgeMs;
    for (const m of this.order) {
      if (m.firstTs >= cutoff && this.order.size <= this.opts.maxOpen) break;
      this.close(m);
    }
  }
}
