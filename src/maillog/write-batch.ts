/**
 * Writes one batch of linker output: events, sent counts, the last success per domain, per-day
 * DKIM counters, and marks the touched days' health stale. Runs inside the transaction that also
 * advances the checkpoint (store.transactionWithCopy), COPY included.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Store } from '../db/store.ts';
import { csvField } from '../text/csv.ts';
import { isoTime } from '../text/iso-time.ts';
import type { DailyCounters, DeliveryEvent, SentCount, SentDomains } from './linker.ts';

export type Copy = Store['copyCsv'];

/** Rows per COPY chunk: one string join and one Buffer each, a few hundred KB. */
const ROWS_PER_CHUNK = 4096;

/** A COPY CSV value: unquoted empty is NULL, so an empty string is quoted. */
function csv(v: string | null): string {
  if (v === null) return '';
  if (v === '') return '""';
  return csvField(v);
}

async function* chunksOf<T>(rows: readonly T[], line: (r: T) => string): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < rows.length; i += ROWS_PER_CHUNK) {
    let text = '';
    const end = Math.min(rows.length, i + ROWS_PER_CHUNK);
    for (let j = i; j < end; j++) text += line(rows[j]!) + '\n';
    yield Buffer.from(text, 'utf8');
  }
}

const EVENT_COLUMNS = [
  'ts', 'day', 'host', 'transport', 'qid', 'recipient', 'orig_to', 'domain', 'relay', 'relay_host', 'relay_provider', 'status', 'dsn',
  'class', 'cause_class', 'stage', 'reason', 'sender', 'client_ip', 'stream', 'own_domain', 'file_id', 'line_no', 'run_id',
] as const;

/**
 * Events are COPied straight into delivery_events (no conflict is possible: every event is a new
 * row): the cheapest load for the server, on the batch's own connection so they commit with the
 * checkpoint that covers them. ts goes as ISO text (exact to the millisecond).
 */
export async function insertEvents(copy: Copy, events: readonly DeliveryEvent[], fileId: number, runId: number): Promise<void> {
  if (!events.length) return;
  const tail = `,${fileId},`;
  await copy(
    { table: 'delivery_events', columns: EVENT_COLUMNS, encoding: 'UTF8' },
    chunksOf(
      events,
      (e) =>
        `${isoTime(e.ts)},${e.day},${csv(e.host)},${csv(e.transport)},${csv(e.qid)},${csv(e.recipient)},${csv(e.origTo)},${csv(e.domain)},` +
        `${csv(e.relay)},${csv(e.relayHost)},${csv(e.provider)},${e.status},${csv(e.dsn)},${e.class},${e.causeClass ?? ''},${csv(e.stage)},${csv(e.reason)},` +
        `${csv(e.sender)},${csv(e.clientIp)},${csv(e.stream)},${e.ownDomain ? 't' : 'f'}${tail}${e.lineNo},${runId}`,
    ),
  );
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

/**
 * The last success per domain, appended by COPY to maillog_sent_domain_log: no index and no
 * conflict to resolve per row, where an upsert per domain and batch was most of a batch's server
 * time. Readers look at both tables; foldSentDomains moves the log into maillog_sent_domains.
 */
export async function addSentDomains(copy: Copy, domains: SentDomains): Promise<void> {
  if (!domains.size) return;
  await copy({ table: 'maillog_sent_domain_log', columns: ['domain', 'last_ts'], encoding: 'UTF8' }, chunksOf([...domains], ([d, ts]) => `${csv(d)},${isoTime(ts)}`));
}

/**
 * Moves the logged successes into maillog_sent_domains, keeping the later time (a maximum, so rows
 * a killed run left behind fold the same way). The scrub runs it at its start, beside the parsing,
 * on what earlier runs logged: a move by DELETE ... RETURNING takes exactly the committed rows it
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

/** Adds the DKIM counters of closed campaign messages and marks every touched day for recompute. */
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
}
