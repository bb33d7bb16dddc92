/**
 * Writes one batch of linker output: events, sent counts (per transport and stream, per provider),
 * the last success per domain, per-day DKIM counters, and marks the touched days' health stale.
 * Runs inside the transaction that also advances the checkpoint (store.transactionWithCopy), COPY
 * included.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Store } from '../db/store.ts';
import { BinaryRows } from '../db/copy-binary.ts';
import { InternalError } from '../errors.ts';
import type { BounceClass } from './classify.ts';
import type { DailyCounters, DeliveryEvent, EventSink, ProviderSentCount, SentCount, SentDomains } from './linker.ts';

export type Copy = Store['copy'];

const EVENT_COLUMNS = [
  'ts', 'day', 'host', 'transport', 'qid', 'recipient', 'orig_to', 'domain', 'relay', 'relay_host', 'relay_provider', 'status', 'dsn',
  'class', 'cause_class', 'stage', 'reason', 'sender', 'client_ip', 'stream', 'own_domain', 'file_id', 'line_no', 'run_id',
] as const;

/**
 * A batch's events as rows of delivery_events, encoded as the linker makes them (its EventSink):
 * nothing of an event outlives its line, where a batch of event objects and then their CSV lines
 * lived on the heap until the batch was written (most of the main thread's garbage-collection
 * time). Also counts what the run's summary and the health marks need of them.
 */
export class EventRows implements EventSink {
  private readonly rows = new BinaryRows();
  /** The days of the events (their health is recomputed). */
  readonly days = new Set<string>();
  /** Events by class, the firm's own mail apart. */
  readonly byClass: Partial<Record<BounceClass, number>> = {};
  private lastDay = '';
  private lastEpochDay = 0;

  /** `fileId`: the file the events come from; it may be set while no event has been pushed. */
  constructor(
    private readonly runId: number,
    private fileIdValue: number,
  ) {}

  set fileId(id: number) {
    if (this.rows.count > 0 && id !== this.fileIdValue) throw new InternalError('a batch of events cannot span two files');
    this.fileIdValue = id;
  }

  get count(): number {
    return this.rows.count;
  }

  push(e: DeliveryEvent): void {
    if (e.day !== this.lastDay) {
      this.lastDay = e.day;
      this.lastEpochDay = Date.UTC(Number(e.day.slice(0, 4)), Number(e.day.slice(5, 7)) - 1, Number(e.day.slice(8, 10))) / 86_400_000;
      this.days.add(e.day);
    }
    if (!e.ownDomain) this.byClass[e.class] = (this.byClass[e.class] ?? 0) + 1;
    const r = this.rows;
    r.row(EVENT_COLUMNS.length);
    r.timestamptz(e.ts);
    r.date(this.lastEpochDay);
    r.text(e.host);
    r.text(e.transport);
    r.text(e.qid);
    r.text(e.recipient);
    r.text(e.origTo);
    r.text(e.domain);
    r.text(e.relay);
    r.text(e.relayHost);
    r.text(e.provider);
    r.text(e.status);
    r.text(e.dsn);
    r.text(e.class);
    r.text(e.causeClass);
    r.text(e.stage);
    r.text(e.reason);
    r.text(e.sender);
    r.text(e.clientIp);
    r.text(e.stream);
    r.bool(e.ownDomain);
    r.int8(this.fileIdValue);
    r.int8(e.lineNo);
    r.int8(this.runId);
  }

  chunks(): Uint8Array[] {
    return this.rows.chunks();
  }
}

/**
 * Events are COPied straight into delivery_events (no conflict is possible: every event is a new
 * row), in COPY's binary format: the cheapest load for the server, on the batch's own connection
 * so they commit with the checkpoint that covers them.
 */
export async function insertEvents(copy: Copy, events: EventRows): Promise<void> {
  if (!events.count) return;
  await copy({ table: 'delivery_events', columns: EVENT_COLUMNS, format: 'binary', encoding: 'UTF8' }, events.chunks());
}

/** Sent counts per day, transport and stream: a few hundred rows a batch at most, one statement. */
export async function addSent(trx: Transaction<Database>, sent: readonly SentCount[]): Promise<void> {
  if (!sent.length) return;
  const json = JSON.stringify(sent.map((s) => ({ d: s.day, t: s.transport, s: s.stream ?? '', o: s.ownDomain, n: s.count })));
  await sql`
    insert into maillog_sent_counts (day, transport, stream, own_domain, sent)
    select d, t, s, o, n from json_to_recordset(${json}::json) as x(d date, t text, s text, o boolean, n bigint)
    on conflict (day, transport, stream, own_domain) do update set sent = maillog_sent_counts.sent + excluded.sent`.execute(trx);
}

/** Sent counts per day and receiving provider: a few rows a batch, one statement. */
export async function addSentProviders(trx: Transaction<Database>, rows: readonly ProviderSentCount[]): Promise<void> {
  if (!rows.length) return;
  await sql`
    insert into maillog_sent_providers (day, provider, sent)
    select day, provider, n from unnest(${rows.map((r) => r.day)}::date[], ${rows.map((r) => r.provider)}::text[], ${rows.map((r) => r.count)}::bigint[]) as t(day, provider, n)
    on conflict (day, provider) do update set sent = maillog_sent_providers.sent + excluded.sent`.execute(trx);
}

/**
 * The last success per domain, appended by COPY to maillog_sent_domain_log: no index and no
 * conflict to resolve per row, where an upsert per domain and batch was most of a batch's server
 * time. Readers look at both tables; foldSentDomains moves the log into maillog_sent_domains.
 */
export async function addSentDomains(copy: Copy, domains: SentDomains): Promise<void> {
  if (!domains.size) return;
  const rows = new BinaryRows();
  for (const [domain, ts] of domains) {
    rows.row(2);
    rows.text(domain);
    rows.timestamptz(ts);
  }
  await copy({ table: 'maillog_sent_domain_log', columns: ['domain', 'last_ts'], format: 'binary', encoding: 'UTF8' }, rows.chunks());
}

/**
 * Moves the logged successes into maillog_sent_domains, keeping the later time (a maximum, so rows
 * a killed run left behind fold the same way). The scrub runs it at its first file with new lines,
 * beside the parsing, on what earlier runs logged: a move by DELETE ... RETURNING takes exactly the committed rows it
 * deletes, so a batch COPYing into the log meanwhile keeps its rows for the next fold (a TRUNCATE
 * would have dropped them). Readers look at both tables, so nothing waits for a fold.
 */
export async function foldSentDomains(db: Kysely<Database> | Transaction<Database>): Promise<void> {
  await sql`
    with moved as (delete from maillog_sent_domain_log returning domain, last_ts)
    insert into maillog_sent_domains (domain, last_ts)
    select domain, max(last_ts) from moved group by domain
    on conflict (domain) do update set last_ts = excluded.last_ts where maillog_sent_domains.last_ts < excluded.last_ts`.execute(db);
}

/**
 * Adds the DKIM counters of closed campaign messages (per day, and per day and stream) and marks
 * every touched day for recompute.
 */
export async function touchDays(trx: Transaction<Database>, days: ReadonlySet<string>, daily: ReadonlyMap<string, DailyCounters>): Promise<void> {
  const all = [...new Set([...days, ...daily.keys()])];
  if (!all.length) return;
  const campaign = all.map((d) => daily.get(d)?.campaignMessages ?? 0);
  const signed = all.map((d) => daily.get(d)?.dkimSigned ?? 0);
  await sql`
    insert into maillog_daily_health (day, campaign_messages, dkim_signed, stale)
    select day, c, s, true from unnest(${all}::date[], ${campaign}::bigint[], ${signed}::bigint[]) as t(day, c, s)
    on conflict (day) do update set
      campaign_messages = maillog_daily_health.campaign_messages + excluded.campaign_messages,
      dkim_signed = maillog_daily_health.dkim_signed + excluded.dkim_signed,
      stale = true`.execute(trx);
  const rows = [...daily].flatMap(([day, c]) => [...c.byStream].map(([stream, n]) => ({ day, stream, n })));
  if (!rows.length) return;
  await sql`
    insert into maillog_stream_daily (day, stream, campaign_messages, dkim_signed)
    select * from unnest(${rows.map((r) => r.day)}::date[], ${rows.map((r) => r.stream)}::text[],
                         ${rows.map((r) => r.n.campaignMessages)}::bigint[], ${rows.map((r) => r.n.dkimSigned)}::bigint[])
    on conflict (day, stream) do update set
      campaign_messages = maillog_stream_daily.campaign_messages + excluded.campaign_messages,
      dkim_signed = maillog_stream_daily.dkim_signed + excluded.dkim_signed`.execute(trx);
}
