/** Kysely types of sql/0005_maillog.sql (the migration is the truth; these follow it). */
import type { ColumnType, Generated, Selectable } from 'kysely';

type Json = Record<string, unknown>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type TimestampDefault = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type JsonColumn<T = Json> = ColumnType<T, T | string, T | string>;

export interface MaillogFilesTable {
  id: Generated<number>;
  first_line_hash: string;
  inode: number;
  path: string;
  gz: boolean;
  byte_offset: ColumnType<number, number | undefined, number>;
  lines: ColumnType<number, number | undefined, number>;
  first_seen_at: TimestampDefault;
  updated_at: TimestampDefault;
}

export interface MaillogLinkerStateTable {
  id: number;
  /** JSON text of the linker state (0009: text, read back whole by JSON.parse). */
  state: string;
  updated_at: TimestampDefault;
}

export interface DeliveryEventsTable {
  id: Generated<number>;
  ts: Timestamp;
  day: string;
  host: string;
  transport: string;
  qid: string;
  recipient: string | null;
  orig_to: string | null;
  domain: string | null;
  relay: string | null;
  relay_host: string | null;
  relay_provider: string | null;
  status: 'deferred' | 'bounced' | 'expired';
  dsn: string | null;
  class: string;
  cause_class: string | null;
  stage: string | null;
  reason: string;
  sender: string | null;
  client_ip: string | null;
  stream: string | null;
  own_domain: boolean;
  file_id: number;
  line_no: number;
  run_id: number;
}
export type DeliveryEventRow = Selectable<DeliveryEventsTable>;

/** Sent mail per day, transport and stream (0008): what daily health reads. */
export interface MaillogSentCountsTable {
  day: string;
  transport: string;
  stream: string;
  own_domain: boolean;
  sent: number;
}

/** Last success per recipient domain, the firm's own excepted (0008): what the domain-failure policy reads. */
export interface MaillogSentDomainsTable {
  domain: string;
  last_ts: Timestamp;
}

/** Batches' last successes per domain, read with maillog_sent_domains and moved into it by the fold of the next run that reads new lines (0009). */
export interface MaillogSentDomainLogTable {
  domain: string;
  last_ts: Timestamp;
}

export type SuppressionKind = 'address' | 'domain';

export interface SuppressionsTable {
  id: Generated<number>;
  kind: SuppressionKind;
  value: string;
  reason: string;
  source: 'scrub' | 'operator';
  evidence: JsonColumn;
  first_seen: Timestamp;
  last_seen: Timestamp;
  expires_at: NullableTimestamp;
  lifted_at: NullableTimestamp;
  lifted_by: string | null;
  lift_reason: string | null;
  created_run_id: number | null;
  created_at: TimestampDefault;
  updated_at: TimestampDefault;
}
export type Suppression = Selectable<SuppressionsTable>;

/** What a hold stops: a provider, one receiving domain (and its mail server: sql/0013), or everything. */
export type HoldScope = 'provider' | 'domain' | 'global';

export interface HoldsTable {
  id: Generated<number>;
  scope: HoldScope;
  provider: string | null;
  /** scope 'domain': the receiving domain, and the mail server that answered (null if not named). */
  domain: ColumnType<string | null, string | null | undefined, string | null>;
  mx_host: ColumnType<string | null, string | null | undefined, string | null>;
  reason: string;
  detail: string;
  evidence: JsonColumn;
  starts_at: Timestamp;
  until: Timestamp;
  lifted_at: NullableTimestamp;
  lifted_by: string | null;
  lift_reason: string | null;
  created_run_id: number | null;
  created_at: TimestampDefault;
  updated_at: TimestampDefault;
}
export type Hold = Selectable<HoldsTable>;

export interface MaillogDailyHealthTable {
  day: string;
  sent: ColumnType<number, number | undefined, number>;
  deferred: ColumnType<number, number | undefined, number>;
  bounced: ColumnType<number, number | undefined, number>;
  expired: ColumnType<number, number | undefined, number>;
  own_domain_sent: ColumnType<number, number | undefined, number>;
  own_domain_failed: ColumnType<number, number | undefined, number>;
  campaign_messages: ColumnType<number, number | undefined, number>;
  dkim_signed: ColumnType<number, number | undefined, number>;
  by_transport: ColumnType<Json, Json | string | undefined, Json | string>;
  by_class: ColumnType<Json, Json | string | undefined, Json | string>;
  top_deferrals: ColumnType<unknown[], unknown[] | string | undefined, unknown[] | string>;
  top_bounces: ColumnType<unknown[], unknown[] | string | undefined, unknown[] | string>;
  stale: ColumnType<boolean, boolean | undefined, boolean>;
  updated_at: TimestampDefault;
}
export type DailyHealth = Selectable<MaillogDailyHealthTable>;

/** Campaign messages and DKIM signatures per day and stream (0015). */
export interface MaillogStreamDailyTable {
  day: string;
  stream: string;
  campaign_messages: ColumnType<number, number | undefined, number>;
  dkim_signed: ColumnType<number, number | undefined, number>;
}

/** Successes outside the firm's domains per day and receiving provider (sql/0016). */
export interface MaillogSentProvidersTable {
  day: string;
  provider: string;
  sent: number;
}

export interface MaillogTables {
  maillog_files: MaillogFilesTable;
  maillog_linker_state: MaillogLinkerStateTable;
  delivery_events: DeliveryEventsTable;
  maillog_sent_counts: MaillogSentCountsTable;
  maillog_sent_domains: MaillogSentDomainsTable;
  maillog_sent_domain_log: MaillogSentDomainLogTable;
  suppressions: SuppressionsTable;
  holds: HoldsTable;
  maillog_daily_health: MaillogDailyHealthTable;
  maillog_stream_daily: MaillogStreamDailyTable;
  maillog_sent_providers: MaillogSentProvidersTable;
}
