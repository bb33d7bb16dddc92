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
import { classify, type BounceClass } from './classify.ts';
import { cleanAddress, domainOf, parseDelivery, relayHost, smtpStage } from './delivery.ts';
import { parseLine, queueIdOf, type LogLine } from './line.ts';
import type { LineChunk } from './reader.ts';
import { emptyCounts, type DailyCounters, type DeliveryEvent, type LineCounts, type OpenMessage, type OutcomeStatus, type SentAggregate } from './outcomes.ts';
import { COLON_SP, DELIVERY_AGENTS, HASH, lastByte, LOCAL_AGENTS, NL, POSTFIX_PROGRAMS, TAG_END, wantedBody } from './prefilter.ts';
import { parseRfc3339, type TraditionalClock, type ZoneClock } from './timestamp.ts';

export { emptyCounts };
export type { DailyCounters, DeliveryEvent, LineCounts, OpenMessage, OutcomeStatus, PendingRecipient, SentAggregate } from './outcomes.ts';

/** `postfix/out05/smtp`: the syslog name with the program, which names the transport when it sets syslog_name. */
function transportOf(l: LogLine): string {
  return l.tag;
}

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

export interface LinkerState {
  version: 1;
  lastTs: number;
  messages: [string, OpenMessage][];
  byHostQid: [string, string][];
}

export class Linker {
  private readonly open = new Map<string, OpenMessage>();
  /** host + qid -> key of the latest open message: opendkim does not log the Postfix instance. */
  private readonly byHostQid = new Map<string, string>();
  private readonly providerCache = new Map<string, string | null>();
  private clock: TraditionalClock | null = null;
  private lastTs = 0;
  private sinceSweep = 0;

  events: DeliveryEvent[] = [];
  sent = new Map<string, SentAggregate>();
  daily = new Map<string, DailyCounters>();
  counts = emptyCounts();

  constructor(
    private readonly opts: LinkerOptions,
    state?: LinkerState | null,
  ) {
    if (state && state.version === 1) {
      for (const [k, m] of state.messages) this.open.set(k, m);
      for (const [k, v] of state.byHostQid) this.byHostQid.set(k, v);
      this.lastTs = state.lastTs;
    }
  }

  /** Traditional timestamps of the next lines take their year from this file's clock. */
  beginFile(clock: TraditionalClock): void {
    this.clock = clock;
  }

  get openMessages(): number {
    return this.open.size;
  }

  /** Everything produced since the last call; the caller writes it with the checkpoint. */
  takeBatch(): { events: DeliveryEvent[]; sent: SentAggregate[]; daily: Map<string, DailyCounters>; counts: LineCounts } {
    const out = { events: this.events, sent: [...this.sent.values()], daily: this.daily, counts: this.counts };
    this.events = [];
    this.sent = new Map();
    this.daily = new Map();
    this.counts = emptyCounts();
    return out;
  }

  serialize(): LinkerState {
    return { version: 1, lastTs: this.lastTs, messages: [...this.open.entries()], byHostQid: [...this.byHostQid.entries()] };
  }

  private timeOf(l: LogLine): number {
    let t: number | null = null;
    if (l.tsKind === 'rfc3339') t = parseRfc3339(l.tsRaw);
    else if (l.tsKind === 'traditional' && this.clock) t = this.clock.parse(l.tsRaw);
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

  /**
   * One line as bytes buf[ls, le). Most lines of a bulk log (connect/disconnect, TLS, cleanup,
   * anvil, bounce notices) carry nothing we keep: their program and message start are found by
   * byte search and they are dropped without ever becoming a string. The rest is decoded and
   * parsed in full.
   */
  feedBytes(buf: Buffer, ls: number, le: number, ascii: boolean, lineNo: number): void {
    this.counts.lines++;
    if (buf[ls] !== HASH) {
      let tagEnd = buf.indexOf(TAG_END, ls);
      if (tagEnd >= le) tagEnd = -1;
      if (tagEnd > ls) {
        const bracket = lastByte(buf, 0x5b, tagEnd, ls);
        const sp = lastByte(buf, 0x20, bracket, ls);
        const slash = lastByte(buf, 0x2f, bracket, sp + 1);
        const start = (slash > sp ? slash : sp) + 1;
        if (bracket > start) {
          const program = buf.toString('latin1', start, bracket);
          if (!POSTFIX_PROGRAMS.has(program)) {
            this.counts.foreign++;
            return;
          }
          if (!this.wantedBytes(program, buf, tagEnd + 3, le)) return;
          if (this.shortcut(program, buf, ls, le, sp, bracket, tagEnd + 3)) return;
        }
      }
    }
    this.handle(buf.toString(ascii ? 'latin1' : 'utf8', ls, le), lineNo);
  }

  /**
   * `QID: removed` and opendkim's `QID: DKIM-Signature field added` need only the message key,
   * and they are two of the five lines of every message: read host, instance and queue id from
   * the bytes when the header is the standard `TIMESTAMP HOST TAG` (RFC 3339 or traditional), the
   * same values parseLine gives. Other headers take the full parse.
   */
  private shortcut(program: string, buf: Buffer, ls: number, le: number, sp: number, bracket: number, ms: number): boolean {
    const removed = program === 'qmgr' || program === 'oqmgr' || program === 'postsuper';
    if (!removed && program !== 'opendkim') return false;
    const c0 = buf[ls]!;
    const rfc = c0 >= 48 && c0 <= 57 && buf[ls + 4] === 45 && buf[ls + 10] === 84;
    const traditional = c0 >= 65 && c0 <= 90 && buf[ls + 3] === 32;
    if (!rfc && !traditional) return false;
    const colon = buf.indexOf(COLON_SP, ms);
    const b = colon + 2;
    let end = le;
    if (buf[end - 1] === 13) end--;
    if (removed && end - b !== 7) return false; // "removed" and nothing after it
    const qid = queueIdOf(buf.toString('latin1', ms, colon + 2));
    if (!qid) return false;
    const hostStart = lastByte(buf, 0x20, sp - 1, ls) + 1;
    // Traditional headers have exactly three tokens before the host; anything else (busybox's
    // facility.level, a container prefix) goes the long way.
    if (traditional && buf.indexOf(0x20, ls + 16) !== sp) return false;
    if (rfc && buf.indexOf(0x20, ls) + 1 !== hostStart) return false;
    const host = buf.toString('latin1', hostStart, sp);
    if (removed) {
      let instEnd = sp + 1;
      while (instEnd < bracket && buf[instEnd] !== 0x2f) instEnd++;
      this.close(host + '\t' + buf.toString('latin1', sp + 1, instEnd) + '\t' + qid);
    } else {
      const key = this.byHostQid.get(host + '\t' + qid);
      const m = key ? this.open.get(key) : undefined;
      if (m) m.signed = true;
    }
    return true;
  }

  /** One line as a string (tests and tools): the very path of the bytes. */
  feed(raw: string, lineNo: number): void {
    const b = Buffer.from(raw, 'utf8');
    this.feedBytes(b, 0, b.length, false, lineNo);
  }

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
    if (DELIVERY_AGENTS.has(prog)) {
      if (body.startsWith('to=')) this.delivery(l, qid, body, lineNo);
      return;
    }
    switch (prog) {
      case 'qmgr':
      case 'oqmgr':
        if (body === 'removed') this.close(this.key(l, qid));
        else if (body.startsWith('from=')) this.queued(l, qid, body, lineNo);
        return;
      case 'smtpd':
        if (body.startsWith('client=')) this.injected(l, qid, body);
        else if (body.startsWith('reject:')) this.counts.rejected++;
        return;
      case 'pickup':
        if (body.startsWith('uid=')) {
          this.counts.received++;
          this.touch(l, qid, this.timeOf(l)).clientIp = 'pickup';
        }
        return;
      case 'cleanup':
        if (body.startsWith('info: header X-Listmonk-Campaign:')) {
          const m = this.touch(l, qid, this.timeOf(l));
          m.campaign = true;
          m.stream ??= 'listmonk';
        } else if (body.startsWith('reject:')) this.counts.rejected++;
        return;
      case 'opendkim':
        if (body.startsWith('DKIM-Signature field added')) {
          const key = this.byHostQid.get(l.host + '\t' + qid);
          const m = key ? this.open.get(key) : undefined;
          if (m) m.signed = true;
        }
        return;
      case 'postsuper':
        if (body === 'removed' || body.startsWith('removed')) this.close(this.key(l, qid));
        return;
      default:
        return;
    }
  }

  /** Whether the line can matter (see wantedBody); counts NOQUEUE rejects on the way. */
  private wantedBytes(program: string, buf: Buffer, ms: number, le: number): boolean {
    const v = wantedBody(program, buf, ms, le);
    if (v === 'rejected') this.counts.rejected++;
    return v === 'keep';
  }

  private key(l: LogLine, qid: string): string {
    return l.host + '\t' + l.instance + '\t' + qid;
  }

  private touch(l: LogLine, qid: string, ts: number): OpenMessage {
    const key = this.key(l, qid);
    let m = this.open.get(key);
    if (!m) {
      m = { host: l.host, qid, firstTs: ts, clientIp: null, stream: null, campaign: false, signed: false, sender: null, pending: null };
      this.open.set(key, m);
      this.byHostQid.set(l.host + '\t' + qid, key);
      if (++this.sinceSweep >= 5000) this.sweep(ts);
    }
    return m;
  }

  private injected(l: LogLine, qid: string, body: string): void {
    this.counts.received++;
    const ts = this.timeOf(l);
    // client=NAME[IP][, sasl_method=…]; a reused short qid starts a new message.
    const key = this.key(l, qid);
    if (this.open.has(key)) this.close(key);
    const m = this.touch(l, qid, ts);
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

  private queued(l: LogLine, qid: string, body: string, lineNo: number): void {
    const ts = this.timeOf(l);
    const m = this.touch(l, qid, ts);
    const gt = body.indexOf('>');
    if (m.sender === null && body.charCodeAt(5) === 60 && gt > 0) m.sender = body.slice(6, gt).toLowerCase();
    if (!body.includes('status=expired') && !body.includes('status=force-expired')) return;
    // Message-level: every recipient not yet final fails with its last deferral's reason.
    const day = this.opts.zone.day(ts);
    const pending = m.pending ? Object.entries(m.pending) : [];
    const before = this.events.length;
    if (!pending.length) {
      this.events.push(this.event(l, m, ts, day, lineNo, null, null, 'expired', null, 'expired', null, '', `${l.instance}/${l.program}`, null));
    }
    for (const [rcpt, p] of pending) {
      this.events.push(this.event(l, m, ts, day, lineNo, rcpt, p.origTo, 'expired', p.dsn, 'expired', p.cls, p.reason, p.transport, p.relay));
    }
    // One expired message, counted apart when all its recipients were the firm's own.
    if (this.events.slice(before).every((e) => e.ownDomain) && pending.length) this.counts.ownExpired++;
    else this.counts.expired++;
    m.pending = null;
  }

  private delivery(l: LogLine, qid: string, body: string, lineNo: number): void {
    const st = body.indexOf(', status=sent ');
    if (st > 0) {
      // A success needs only its recipient: no key=value parse, no classification.
      const gt = body.charCodeAt(3) === 60 ? body.indexOf('>', 4) + 1 : body.indexOf(',', 3);
      const to = cleanAddress(body.slice(3, gt > 0 ? gt : st));
      if (to) {
        this.sent1(l, qid, to, body.includes(', relay=local,'));
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
      this.sent1(l, qid, d.to, d.relay === 'local');
      return;
    }
    const ts = this.timeOf(l);
    const day = this.opts.zone.day(ts);
    const transport = transportOf(l);
    const domain = domainOf(d.to);
    const own = LOCAL_AGENTS.has(l.program) || d.relay === 'local' || this.opts.ownDomains.has(domain);
    const m = this.open.get(this.key(l, qid));
    const c = classify(d.status, d.dsn, d.reason);
    if (d.status === 'deferred') {
      if (own) this.counts.ownDeferred++;
      else this.counts.deferred++;
      const mm = m ?? this.touch(l, qid, ts);
      (mm.pending ??= {})[d.to] = { cls: c.class, dsn: d.dsn, reason: d.reason, relay: d.relay, origTo: d.origTo, transport };
    } else {
      if (own) this.counts.ownBounced++;
      else this.counts.bounced++;
      if (m?.pending) delete m.pending[d.to];
    }
    this.events.push(this.event(l, m ?? null, ts, day, lineNo, d.to, d.origTo, d.status, d.dsn, c.class, null, d.reason, transport, d.relay, own));
  }

  private sent1(l: LogLine, qid: string, to: string, relayLocal: boolean): void {
    const ts = this.timeOf(l);
    const day = this.opts.zone.day(ts);
    const transport = transportOf(l);
    const domain = domainOf(to);
    const own = relayLocal || LOCAL_AGENTS.has(l.program) || this.opts.ownDomains.has(domain);
    const m = this.open.get(this.key(l, qid));
    if (own) this.counts.ownSent++;
    else this.counts.sent++;
    const stream = m?.stream ?? null;
    const k = day + '\t' + domain + '\t' + transport + '\t' + (stream ?? '') + (own ? '\t1' : '');
    const agg = this.sent.get(k);
    if (agg) {
      agg.count++;
      if (ts > agg.lastTs) agg.lastTs = ts;
    } else this.sent.set(k, { day, domain, transport, stream, ownDomain: own, count: 1, lastTs: ts });
    if (m?.pending) delete m.pending[to];
  }

  private event(
    l: LogLine,
    m: OpenMessage | null,
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
      host: l.host,
      transport,
      qid: m?.qid ?? queueIdOf(l.message),
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
  private close(key: string): void {
    const m = this.open.get(key);
    if (!m) return;
    this.open.delete(key);
    const hq = m.host + '\t' + m.qid;
    if (this.byHostQid.get(hq) === key) this.byHostQid.delete(hq);
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
    for (const [key, m] of this.open) {
      if (m.firstTs >= cutoff && this.open.size <= this.opts.maxOpen) break;
      this.close(key);
    }
  }
}
