/**
 * What the linker (linker.ts) has produced since the last batch: the delivery events, the line and
 * outcome counts, the successes per day, transport and stream, the last success per domain and the
 * successes per provider; and how one event row is built. The middle of the linker's class chain
 * (OpenMessages < OutcomeTally < Linker).
 */
import { providerOfRelayHost } from '../mx/providers.ts';
import type { BounceClass } from './classify.ts';
import { domainOf, relayHost, smtpStage } from './delivery.ts';
import { OpenMessages, type LinkerOptions, type LinkerState } from './open-messages.ts';
import { providerOfCode, YahooDomains } from './outcome-provider.ts';
import {
  emptyCounts, type DailyCounters, type DeliveryEvent, type EventSink, type LineCounts, type OpenMessage, type OutcomeStatus, type ProviderSentCount,
  type SentCount, type SentDomains,
} from './outcomes.ts';

/** day -> transport -> stream ('' for none) -> count. */
type SentTree = Map<string, Map<string, Map<string, SentCount>>>;

export class OutcomeTally<S extends EventSink> extends OpenMessages {
  events: S;
  protected sent: SentTree = new Map();
  /** The SentCount the last success went to (in `sent` or `sentOwn` of this batch). */
  protected lastSent: SentCount | null = null;
  protected sentOwn: SentTree = new Map();
  protected sentDomains: SentDomains = new Map();
  /** day -> successes per provider code (outcome-provider.ts), mail outside the firm's domains only. */
  protected sentProviders = new Map<string, Float64Array>();
  protected lastProviderDay = '';
  protected lastProviderCounts: Float64Array | null = null;
  protected readonly yahooDomains = new YahooDomains();
  counts = emptyCounts();
  protected readonly providerCache = new Map<string, string | null>();
  protected readonly newEvents: () => S;

  constructor(opts: LinkerOptions, state: LinkerState | null | undefined, newEvents: (() => S) | undefined) {
    super(opts, state);
    this.newEvents = newEvents ?? (() => [] as DeliveryEvent[] as unknown as S);
    this.events = this.newEvents();
    // Every field a batch resets is stored twice before the first record, so V8 compiles it as a
    // mutable field from the start: a field stored once is compiled as a constant, and the first
    // batch cut deoptimized the linking code (apply and all it inlines), which was then recompiled.
    this.startBatch();
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
    this.startBatch();
    return out;
  }

  private startBatch(): void {
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
  }

  protected event(
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

  protected provider(host: string): string | null {
    let p = this.providerCache.get(host);
    if (p === undefined) {
      p = providerOfRelayHost(host);
      if (this.providerCache.size > 50_000) this.providerCache.clear();
      this.providerCache.set(host, p);
    }
    return p;
  }
}
