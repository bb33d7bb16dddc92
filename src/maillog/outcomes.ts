/**
 * What the linker produces (outcomes, sent counts, per-day DKIM counters, line counts) and the
 * state it keeps per open message. Shared by the linker, the batch writer and the scan tools.
 */
import type { BounceClass } from './classify.ts';

export type OutcomeStatus = 'deferred' | 'bounced' | 'expired';

/** One non-`sent` outcome for one recipient: stored whole (dsn, class, raw text). */
export interface DeliveryEvent {
  ts: number;
  day: string;
  host: string;
  transport: string;
  qid: string;
  recipient: string | null;
  origTo: string | null;
  domain: string | null;
  relay: string | null;
  relayHost: string | null;
  provider: string | null;
  status: OutcomeStatus;
  dsn: string | null;
  class: BounceClass;
  /** For `expired`: the class of the recipient's last deferral. */
  causeClass: BounceClass | null;
  stage: string | null;
  reason: string;
  sender: string | null;
  clientIp: string | null;
  stream: string | null;
  ownDomain: boolean;
  lineNo: number;
}

/**
 * Where the linker puts the events it makes: an array (tests, tools) or the scrub's COPY rows,
 * which encode each event as it comes (write-batch.ts) so that none is kept as an object.
 */
export interface EventSink {
  push(e: DeliveryEvent): void;
}

/**
 * `sent` outcomes are counted, not stored one by one (a healthy day is almost all of them): per
 * day, transport and stream; and the last success per recipient domain (SentDomains), which is all
 * the domain-failure policy asks.
 */
export interface SentCount {
  day: string;
  transport: string;
  stream: string | null;
  ownDomain: boolean;
  count: number;
}

/** Recipient domain -> time (epoch ms) of its last success; the firm's own domains are not kept. */
export type SentDomains = Map<string, number>;

export interface DkimCounters {
  campaignMessages: number;
  dkimSigned: number;
}

/**
 * Campaign messages closed on a day and how many opendkim signed, in total and per stream (a
 * Listmonk instance, by its client IP or `listmonk` for header-marked mail): one stream whose
 * signing broke must not hide behind a healthy one.
 */
export interface DailyCounters extends DkimCounters {
  byStream: Map<string, DkimCounters>;
}

/**
 * Successes to recipients outside the firm's own domains, per day and receiving provider
 * (outcome-provider.ts): what the delivery rate per provider is measured on.
 */
export interface ProviderSentCount {
  day: string;
  provider: string;
  count: number;
}

export interface PendingRecipient {
  cls: BounceClass;
  dsn: string;
  reason: string;
  relay: string;
  origTo: string | null;
  transport: string;
}

/** What the linker keeps about one open message (saved with the checkpoint between runs). */
export interface OpenMessage {
  host: string;
  qid: string;
  firstTs: number;
  clientIp: string | null;
  stream: string | null;
  campaign: boolean;
  signed: boolean;
  sender: string | null;
  pending: Record<string, PendingRecipient> | null;
}

export interface LineCounts {
  lines: number;
  comment: number;
  blank: number;
  malformed: number;
  foreign: number;
  /** Lines holding NUL bytes (parse.ts). */
  binary: number;
  /** Lines longer than MAX_LINE_BYTES (reader.ts). */
  tooLong: number;
  noTimestamp: number;
  received: number;
  sent: number;
  deferred: number;
  bounced: number;
  expired: number;
  probes: number;
  rejected: number;
  ownSent: number;
  ownDeferred: number;
  ownBounced: number;
  ownExpired: number;
}

export function emptyCounts(): LineCounts {
  return {
    lines: 0, comment: 0, blank: 0, malformed: 0, foreign: 0, binary: 0, tooLong: 0, noTimestamp: 0, received: 0, sent: 0, deferred: 0, bounced: 0,
    expired: 0, probes: 0, rejected: 0, ownSent: 0, ownDeferred: 0, ownBounced: 0, ownExpired: 0,
  };
}
