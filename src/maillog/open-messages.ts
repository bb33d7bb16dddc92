/**
 * The open messages of the linker (linker.ts): what it keeps between the lines of a message, from
 * smtpd `client=`/pickup to qmgr `removed`, found by host, Postfix instance and queue id, evicted
 * when older than any queue lifetime or beyond maxOpen, and saved between runs (serialize/restore)
 * in the same transaction as the checkpoint. Closing a campaign message counts it for DKIM
 * coverage. The base of the linker's class chain (OpenMessages < OutcomeTally < Linker), so the
 * per-record calls stay direct calls on one receiver shape.
 */
import type { DailyCounters, OpenMessage, PendingRecipient } from './outcomes.ts';
import type { ZoneClock } from './timestamp.ts';

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
 * | (byHostQid points here) << 2. The host+qid index is rebuilt exactly from the flag (each entry
 * points at an open message, at most one per host+qid). Still read (a state saved before v3), and
 * the readable form of any state (expandState).
 */
export type PackedMessage = [string, string, string, number, string | null, string | null, number, string | null, OpenMessage['pending']];
export interface LinkerStateV2 {
  version: 2;
  lastTs: number;
  messages: PackedMessage[];
}

/**
 * The saved form written now: v2's content (the same messages in the same order, the same flags)
 * with every string the messages share — host, instance, client IP, stream, sender, and a pending
 * recipient's class, DSN, reason, relay, original recipient and transport — once in `strings`
 * (null at 0), and the messages one after another in one flat array:
 *   host, instance, qid, firstTs, clientIp, stream, sender, flags, pending count (-1: none), then
 *   per pending recipient: address, cls, dsn, reason, relay, origTo, transport
 * (the shared fields as indexes into `strings`). It is saved with every batch, so its size is
 * client and server CPU on the run's critical path: a bulk night's state was 1.8 MB as v2, mostly
 * the field names and repeated reasons of the pending recipients, and is about a third of that.
 */
export interface LinkerStateV3 {
  version: 3;
  lastTs: number;
  strings: (string | null)[];
  messages: (string | number)[];
}
export type LinkerState = LinkerStateV1 | LinkerStateV2 | LinkerStateV3;

/** Fields of a message in v3's flat array before its pending recipients, and of each pending recipient. */
const V3_MESSAGE = 9;
const V3_PENDING = 7;

/** Any saved state in the v2 form (messages as tuples): the one form the linker restores, and what the bench's table digest compares. */
export function expandState(state: LinkerStateV2 | LinkerStateV3): LinkerStateV2 {
  if (state.version === 2) return state;
  const { strings: t, messages: a } = state;
  const str = (i: number) => t[i] as string;
  const messages: PackedMessage[] = [];
  for (let i = 0; i < a.length; ) {
    const host = str(a[i] as number);
    const qid = a[i + 2] as string;
    const n = a[i + 8] as number;
    let pending: Record<string, PendingRecipient> | null = null;
    let j = i + V3_MESSAGE;
    if (n >= 0) {
      pending = Object.create(null) as Record<string, PendingRecipient>;
      for (let k = 0; k < n; k++, j += V3_PENDING) {
        pending[a[j] as string] = {
          cls: str(a[j + 1] as number) as PendingRecipient['cls'],
          dsn: str(a[j + 2] as number),
          reason: str(a[j + 3] as number),
          relay: str(a[j + 4] as number),
          origTo: t[a[j + 5] as number] ?? null,
          transport: str(a[j + 6] as number),
        };
      }
    }
    messages.push([
      host + '\t' + str(a[i + 1] as number) + '\t' + qid, host, qid, a[i + 3] as number,
      t[a[i + 4] as number] ?? null, t[a[i + 5] as number] ?? null, a[i + 7] as number, t[a[i + 6] as number] ?? null, pending,
    ]);
    i = j;
  }
  return { version: 2, lastTs: state.lastTs, messages };
}

/**
 * Pending recipients keyed by address, in a prototype-less object: a dictionary from the start (in
 * V8), where each new address added to a plain {} made a new hidden class (a deferral cost several
 * microseconds), and no address (`__proto__`) can reach a prototype member.
 */
export function dictionary(from: Record<string, PendingRecipient> | null): Record<string, PendingRecipient> | null {
  return from && Object.assign(Object.create(null) as Record<string, PendingRecipient>, from);
}

/** The open messages of one host and Postfix instance, by queue id (a queue id is unique only there). */
export interface Scope {
  /** The Postfix instance (syslog name) of the scope's messages, saved with each. */
  instance: string;
  msgs: Map<string, Open>;
  /** The host's entry of byHostQid, found once per scope rather than once per message. */
  hostIdx: Map<string, Open>;
}
/**
 * An open message, the scope that holds it and its neighbours in the insertion order (never saved:
 * the key says the scope, the saved list's order the neighbours).
 */
export interface Open extends OpenMessage {
  scope: Scope;
  prev: Open | null;
  next: Open | null;
}

/** An open message, every one built with the same fields in the same order (one object shape). */
function openMessage(m: OpenMessage, scope: Scope): Open {
  return {
    host: m.host, qid: m.qid, firstTs: m.firstTs, clientIp: m.clientIp, stream: m.stream, campaign: m.campaign, signed: m.signed, sender: m.sender, pending: m.pending,
    scope, prev: null, next: null,
  };
}

/**
 * The shared strings of a saved state (null at 0). A class, not a closure made by each serialize():
 * the compiled serialize had inlined the previous call's closure, and left its code at the next.
 */
class StringTable {
  readonly strings: (string | null)[] = [null];
  private readonly index = new Map<string, number>();

  ix(v: string | null): number {
    if (v === null) return 0;
    let i = this.index.get(v);
    if (i === undefined) {
      this.index.set(v, (i = this.strings.length));
      this.strings.push(v);
    }
    return i;
  }
}

export class OpenMessages {
  /**
   * Open messages are found by host, then instance, then queue id: the host and instance strings
   * are shared by every record of a chunk (its host and tag lists), so their hashes are computed
   * once and a lookup hashes only the (interned) queue id, where one key string per line
   * (`host\tinstance\tqid`) had to be built and hashed whole.
   */
  protected readonly scopes = new Map<string, Map<string, Scope>>();
  /**
   * Every open message in insertion order (the eviction order, and the saved state's order): a
   * list through the messages' own prev/next, where a Set cost a hash entry to add and one to
   * delete per message, and their garbage.
   */
  private first: Open | null = null;
  private last: Open | null = null;
  private size = 0;
  /** host -> qid -> the latest open message: opendkim does not log the Postfix instance. */
  protected readonly byHostQid = new Map<string, Map<string, Open>>();
  /** The scope of the line being handled, kept while host and instance stay the same. */
  protected cur: Scope | null = null;
  protected curHost = '';
  protected curInstance = '';
  protected lastTs = 0;
  protected sinceSweep = 0;
  /** The record being applied: its host and Postfix instance. */
  protected host = '';
  protected instance = '';
  daily = new Map<string, DailyCounters>();

  constructor(
    protected readonly opts: LinkerOptions,
    state?: LinkerState | null,
  ) {
    if (state?.version === 1) {
      const byKey = new Map<string, Open>();
      for (const [k, m] of state.messages) byKey.set(k, this.restore(k, { ...m, pending: dictionary(m.pending) }));
      for (const [hq, k] of state.byHostQid) {
        const m = byKey.get(k);
        if (m) this.indexHost(m.host, hq.slice(hq.indexOf('\t') + 1), m);
      }
      this.lastTs = state.lastTs;
    } else if (state) {
      for (const [key, host, qid, firstTs, clientIp, stream, flags, sender, pending] of expandState(state).messages) {
        const m = this.restore(key, { host, qid, firstTs, clientIp, stream, campaign: (flags & 1) !== 0, signed: (flags & 2) !== 0, sender, pending: dictionary(pending) });
        if (flags & 4) this.indexHost(host, qid, m);
      }
      this.lastTs = state.lastTs;
    }
  }

  /** A saved message back in its scope; its key is `host\tinstance\tqid`. */
  protected restore(key: string, msg: OpenMessage): Open {
    const instance = key.slice(msg.host.length + 1, key.length - msg.qid.length - 1);
    const sc = this.scopeOf(msg.host, instance);
    const m = openMessage(msg, sc);
    const old = sc.msgs.get(m.qid);
    if (old) this.unlink(old);
    sc.msgs.set(m.qid, m);
    this.append(m);
    return m;
  }

  private append(m: Open): void {
    m.prev = this.last;
    m.next = null;
    if (this.last) this.last.next = m;
    else this.first = m;
    this.last = m;
    this.size++;
  }

  /** Takes a message out of the order; one not in it (already taken out) is left as it is. */
  private unlink(m: Open): void {
    if (m.prev === null && this.first !== m) return;
    if (m.prev) m.prev.next = m.next;
    else this.first = m.next;
    if (m.next) m.next.prev = m.prev;
    else this.last = m.prev;
    m.prev = m.next = null;
    this.size--;
  }

  protected indexHost(host: string, qid: string, m: Open): void {
    let idx = this.byHostQid.get(host);
    if (!idx) this.byHostQid.set(host, (idx = new Map()));
    idx.set(qid, m);
  }

  protected scopeOf(host: string, instance: string): Scope {
    let byInstance = this.scopes.get(host);
    if (!byInstance) this.scopes.set(host, (byInstance = new Map()));
    let sc = byInstance.get(instance);
    if (!sc) {
      let hostIdx = this.byHostQid.get(host);
      if (!hostIdx) this.byHostQid.set(host, (hostIdx = new Map()));
      byInstance.set(instance, (sc = { instance, msgs: new Map(), hostIdx }));
    }
    return sc;
  }

  /** The scope of the current line's host and instance. */
  protected scope(): Scope {
    if (this.cur === null || this.curHost !== this.host || this.curInstance !== this.instance) {
      this.cur = this.scopeOf(this.host, this.instance);
      this.curHost = this.host;
      this.curInstance = this.instance;
    }
    return this.cur;
  }

  get openMessages(): number {
    return this.size;
  }

  serialize(): LinkerStateV3 {
    const t = new StringTable();
    const a: (string | number)[] = [];
    for (let m = this.first; m !== null; m = m.next) {
      const indexed = this.byHostQid.get(m.host)?.get(m.qid) === m;
      a.push(t.ix(m.host), t.ix(m.scope.instance), m.qid, m.firstTs, t.ix(m.clientIp), t.ix(m.stream), t.ix(m.sender), (m.campaign ? 1 : 0) | (m.signed ? 2 : 0) | (indexed ? 4 : 0), -1);
      const pending = m.pending;
      if (pending === null) continue;
      const count = a.length - 1;
      let n = 0;
      for (const rcpt in pending) {
        const p = pending[rcpt]!;
        a.push(rcpt, t.ix(p.cls), t.ix(p.dsn), t.ix(p.reason), t.ix(p.relay), t.ix(p.origTo), t.ix(p.transport));
        n++;
      }
      a[count] = n;
    }
    return { version: 3, lastTs: this.lastTs, strings: t.strings, messages: a };
  }

  protected touch(qid: string, ts: number): Open {
    const sc = this.scope();
    return sc.msgs.get(qid) ?? this.open(sc, qid, ts);
  }

  /** A new open message of the current line's host in scope `sc`, where `qid` is not open. */
  protected open(sc: Scope, qid: string, ts: number): Open {
    const m: Open = {
      host: this.host, qid, firstTs: ts, clientIp: null, stream: null, campaign: false, signed: false, sender: null, pending: null,
      scope: sc, prev: null, next: null,
    };
    sc.msgs.set(qid, m);
    this.append(m);
    sc.hostIdx.set(qid, m);
    if (++this.sinceSweep >= 5000) this.sweep(ts);
    return m;
  }

  /** Ends a message's life: campaign messages are counted for DKIM coverage on their injection day. */
  protected close(m: Open | undefined): void {
    if (!m) return;
    this.unlink(m);
    m.scope.msgs.delete(m.qid);
    const idx = m.scope.hostIdx;
    if (idx.get(m.qid) === m) idx.delete(m.qid);
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
  protected sweep(now: number): void {
    this.sinceSweep = 0;
    const cutoff = now - this.opts.maxOpenAgeMs;
    for (let m = this.first; m !== null; ) {
      if (m.firstTs >= cutoff && this.size <= this.opts.maxOpen) break;
      const next = m.next;
      this.close(m);
      m = next;
    }
  }
}
