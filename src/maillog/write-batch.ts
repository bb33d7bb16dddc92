/**
 * Writes one batch of linker output: events (multi-row `unnest` inserts, a few thousand rows per
 * statement), sent counts, per-day DKIM counters, and marks the touched days' health stale.
 * Runs inside the transaction that also advances the checkpoint.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { DailyCounters, DeliveryEvent, SentAggregate } from './linker.ts';

const ROWS_PER_STATEMENT = 4000;

export async function insertEvents(trx: Transaction<Database>, events: readonly DeliveryEvent[], fileId: number, runId: number): Promise<void> {
  for (let i = 0; i < events.length; i += ROWS_PER_STATEMENT) {
    const part = events.slice(i, i + ROWS_PER_STATEMENT);
    const col = <T>(f: (e: DeliveryEvent) => T): T[] => part.map(f);
    await sql`
      insert into delivery_events (ts, day, host, transport, qid, recipient, orig_to, domain, relay, relay_host, relay_provider,
        status, dsn, class, cause_class, stage, reason, sender, client_ip, stream, own_domain, file_id, line_no, run_id)
      select ts, day, host, transport, qid, recipient, orig_to, domain, relay, relay_host, relay_provider,
        status, dsn, class, cause_class, stage, reason, sender, client_ip, stream, own_domain, ${fileId}::bigint, line_no, ${runId}::bigint
      from unnest(
        ${col((e) => new Date(e.ts).toISOString())}::timestamptz[], ${col((e) => e.day)}::date[], ${col((e) => e.host)}::text[],
        ${col((e) => e.transport)}::text[], ${col((e) => e.qid)}::text[], ${col((e) => e.recipient)}::text[], ${col((e) => e.origTo)}::text[],
        ${col((e) => e.domain)}::text[], ${col((e) => e.relay)}::text[], ${col((e) => e.relayHost)}::text[], ${col((e) => e.provider)}::text[],
        ${col((e) => e.status)}::text[], ${col((e) => e.dsn)}::text[], ${col((e) => e.class)}::text[], ${col((e) => e.causeClass)}::text[],
        ${col((e) => e.stage)}::text[], ${col((e) => e.reason)}::text[], ${col((e) => e.sender)}::text[], ${col((e) => e.clientIp)}::text[],
        ${col((e) => e.stream)}::text[], ${col((e) => e.ownDomain)}::boolean[], ${col((e) => e.lineNo)}::bigint[]
      ) as t(ts, day, host, transport, qid, recipient, orig_to, domain, relay, relay_host, relay_provider,
        status, dsn, class, cause_class, stage, reason, sender, client_ip, stream, own_domain, line_no)`.execute(trx);
  }
}

export async function addSent(trx: Transaction<Database>, sent: readonly SentAggregate[]): Promise<void> {
  for (let i = 0; i < sent.length; i += ROWS_PER_STATEMENT) {
    const part = sent.slice(i, i + ROWS_PER_STATEMENT);
    await sql`
      insert into maillog_sent_daily (day, domain, transport, stream, own_domain, sent, last_ts)
      select * from unnest(${part.map((s) => s.day)}::date[], ${part.map((s) => s.domain)}::text[], ${part.map((s) => s.transport)}::text[],
        ${part.map((s) => s.stream ?? '')}::text[], ${part.map((s) => s.ownDomain)}::boolean[], ${part.map((s) => s.count)}::bigint[],
        ${part.map((s) => new Date(s.lastTs).toISOString())}::timestamptz[])
      on conflict (day, domain, transport, stream, own_domain) do update
        set sent = maillog_sent_daily.sent + excluded.sent, last_ts = greatest(maillog_sent_daily.last_ts, excluded.last_ts)`.execute(trx);
  }
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
