/**
 * The message linker: turns the records of mail.log lines (parse.ts) into delivery outcomes that
 * know their message (research/maillog.md §2). It is the stateful half of reading a log: parsing
 * is per line and may run in another thread (parse-worker.ts); linking needs the records in order.
 * State is kept per (host, syslog instance, queue id) only while the message is open — from smtpd
 * `client=`/pickup to qmgr `removed` — so memory follows the queue, not the file. Short queue ids are reused, which is why `removed` resets the key.
 *
 * It records the injecting client (campaign clients map to Listmonk streams), opendkim's
 * `DKIM-Signature field added`, the envelope sender, and each recipient's last deferral, so that a
 * qmgr `status=expired` can close the recipients still pending with the cause of their last try.
 * Open state survives between runs (serialize/restore) in the same transaction as the checkpoint.
 */
import { providerOfRelayHost } from '../mx/providers.ts';
import type { BounceClass } from './classify.ts';
import { domainOf, relayHost, smtpStage } from './delivery.ts';
import { CODES, providerOfCode, RELAY_CODE_MASK, RELAY_CODE_SHIFT, YAHOO_CODE, YahooDomains } from './outcome-provider.ts';
import {
  emptyCounts, type DailyCounters, type DeliveryEvent, type EventSink, type LineCounts, type OpenMessage, type OutcomeStatus, type PendingRecipient,
  type ProviderSentCount, type SentCount, type SentDomains,
} from './outcomes.ts';
import { LineParser } from './parse.ts';
import {
  F_EXPIRED, F_FIELD, F_RELAY_LOCAL, F_UTF8, INT_STRIDE, NUM_STRIDE, RecordText, R_CAMPAIGN, R_CLIENT, R_DKIM, R_FAILED, R_KIND, R_PICKUP, R_QUEUED, R_REMOVED, R_SENT,
  type FailedDelivery, type ParsedChunk,
} from './records.ts';
import type { LineChunk } from './reader.ts';
import type { TraditionalClock, ZoneClock } from './timestamp.ts';

export { emptyCounts };
export type { DailyCounters, DeliveryEvent, EventSink, LineCounts, OpenMessage, OutcomeStatus, PendingRecipient, ProviderSentCount, SentCount, SentDomains } from './outcomes.ts';

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

/**
 * Pending recipients keyed by address, in a prototype-less object: a dictionary from the start (in
 * V8), where each new address added to a plain {} made a new hidden class (a deferral cost several
 * microseconds), and no address (`__proto__`) can reach a prototype member.
 */
function dictionary(from: Record<string, PendingRecipient> | null): Record<string, PendingRecipient> | null {
  return from && Object.assign(Object.create(null) as Record<string, PendingRecipient>, from);
}

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

/**
 * `S` is where a batch's events go: an array by default, or the sink `newEvents` makes for each
 * batch (the scrub's COPY rows).
 */
export class Linker<S extends EventSink = DeliveryEvent[]> {
  /**
   * Open messages are found by host, then instance, then queue id: the host and instance strings
   * are shared by every record of a chunk (its host and tag lists), so their hashes are computed
   * once and a lookup hashes only the (interned) queue id, where one key string per line
   * (`host\tinstance\tqid`) had to be built and hashed whole.
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
  private lastTs = 0;
  /** This thread's parser: feedChunk and feed (a worker has its own, see parse-worker.ts). */
  private readonly parser: LineParser;
  private parsedStringPathLines = 0;
  /** Recent queue ids, senders and client IPs by a hash of their bytes (RecordText.nextInterned). */
  private readonly interned: (string | undefined)[] = new Array(1 << 14);
  private sinceSweep = 0;

  /** The record being applied: its host and tag. */
  private host = '';
  private instance = '';
  private program = '';
  /** `postfix/out05/smtp`: the syslog name with the program, which names the transport when it sets syslog_name. */
  private tag = '';
  private localAgent = false;

  events: S;
  private sent: SentTree = new Map();
  /** The SentCount the last success went to (in `sent` or `sentOwn` of this batch). */
  private lastSent: SentCount | null = null;
  private sentOwn: SentTree = new Map();
  private sentDomains: SentDomains = new Map();
  /** day -> successes per provider code (outcome-provider.ts), mail outside the firm's domains only. */
  private sentProviders = new Map<string, Float64Array>();
  private lastProviderDay = '';
  private lastProviderCounts: Float64Array | null = null;
  private readonly yahooDomains = new YahooDomains();
  daily = new Map<string, DailyCounters>();
  counts = emptyCounts();

  private readonly newEvents: () => S;

  constructor(
    private readonly opts: LinkerOptions,
    state?: LinkerState | null,
    newEvents?: () => S,
  ) {
    this.newEvents = newEvents ?? (() => [] as DeliveryEvent[] as unknown as S);
    this.events = this.newEvents();
    if (state?.version === 1) {
      const byKey = new Map<string, Open>();
      for (const [k, m] of state.messages) byKey.set(k, this.restore(k, { ...m, pending: dictionary(m.pending) }));
      for (const [hq, k] of state.byHostQid) {
        const m = byKey.get(k);
        if (m) this.indexHost(m.host, hq.slice(hq.indexOf('\t') + 1), m);
      }
      this.lastTs = state.lastTs;
    } else if (state?.version === 2) {
      for (const [key, host, qid, firstTs, clientIp, stream, flags, sender, pending] of state.messages) {
        const m = this.restore(key, { host, qid, firstTs, clientIp, stream, campaign: (flags & 1) !== 0, signed: (flags & 2) !== 0, sender, pending: dictionary(pending) });
        if (flags & 4) this.indexHost(host, qid, m);
      }
      this.lastTs = state.lastTs;
    }
    this.parser = new LineParser();
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

  get openMessages(): number {
    return this.order.size;
  }

  /** Everything produced since the last call; the caller writes it with the checkpoint. */
  takeBatch(): {
    events: S;
    sent: SentCount[];
    sentDomains: SentDomains;
    sentProviders: ProviderSentCount[];
    daily: Map<string, DailyCounters>;
    counts: LineCounts;
  } {
    const sent: SentCount[] = [];
    for (const tree of [this.sent, this.sentOwn]) for (const byTransport of tree.values()) for (const byStream of byTransport.values()) for (const c of byStream.values()) sent.push(c);
    const sentProviders: ProviderSentCount[] = [];
    for (const [day, counts] of this.sentProviders) counts.forEach((count, code) => count && sentProviders.push({ day, provider: providerOfCode(code), count }));
    const out = { events: this.events, sent, sentDomains: this.sentDomains, sentProviders, daily: this.daily, counts: this.counts };
    this.events = this.newEvents();
    this.sent = new Map();
    this.sentOwn = new Map();
    this.lastSent = null;
    this.sentDomains = new Map();
    this.sentProviders = new Map();
    this.lastProviderDay = '';
    this.lastProviderCounts = null;
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
      const qid = text.nextInterned(ints[k + 3]!, this.interned);
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
    return p.lines;
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

  private injected(qid: string, ip: string | null, ts: number): void {
    this.counts.received++;
    // A reused short qid starts a new message.
    this.close(this.scope().msgs.get(qid));
    const m = this.touch(qid, ts);
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
      if (!c) this.daily.set(day, (c = { campaignMessages: 0, dkimSigned: 0, byStream: new Map() }));
      c.campaignMessages++;
      if (m.signed) c.dkimSigned++;
      // A campaign message always has a stream: its client's, or `listmonk` from the header.
      const stream = m.stream ?? 'listmonk';
      let s = c.byStream.get(stream);
      if (!s) c.byStream.set(stream, (s = { campaignMessages: 0, dkimSigned: 0 }));
      s.campaignMessages++;
      if (m.signed) s.dkimSigned++;
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
