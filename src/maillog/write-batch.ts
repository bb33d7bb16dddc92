/**
 * Writes one batch of linker output: events and sent counts (one JSON parameter per statement),
 * per-day DKIM counters, and marks the touched days' health stale.
 * Runs inside the transaction that also advances the checkpoint.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { DailyCounters, DeliveryEvent, SentAggregate } from './linker.ts';

/** Events per insert statement: one JSON parameter each, a few MB at most. */
const EVENTS_PER_STATEMENT = 20_000;

/**
 * Events go in as one JSON array parameter expanded by json_to_recordset: JSON.stringify is native
 * (serializing 22 pg arrays element by element cost more CPU than the whole server-side insert),
 * and the statement runs on the batch's own transaction, which COPY through store.copyCsv (its own
 * connection) cannot: the events must commit with the checkpoint that covers them.
 */
export async function insertEvents(trx: Transaction<Database>, events: readonly DeliveryEvent[], fileId: number, runId: number): Promise<void> {
  for (let i = 0; i < events.length; i += EVENTS_PER_STATEMENT) {
    const part = events.slice(i, i + EVENTS_PER_STATEMENT);
    // Short keys keep the text small; ts as epoch ms (exact, no Date per row).
    const json = JSON.stringify(
      part.map((e) => ({
        t: e.ts, d: e.day, h: e.host, tr: e.transport, q: e.qid, r: e.recipient, o: e.origTo, dm: e.domain, rl: e.relay, rh: e.relayHost,
        p: e.provider, s: e.status, ds: e.dsn, c: e.class, cc: e.causeClass, sg: e.stage, rs: e.reason, sn: e.sender, ip: e.clientIp,
        st: e.stream, own: e.ownDomain, l: e.lineNo,
      })),
    );
    await sql`
      insert into delivery_events (ts, day, host, transport, qid, recipient, orig_to, domain, relay, relay_host, relay_provider,
        status, dsn, class, cause_class, stage, reason, sender, client_ip, stream, own_domain, file_id, line_no, run_id)
      select to_timestamp(t / 1000.0), d, h, tr, q, r, o, dm, rl, rh, p, s, ds, c, cc, sg, rs, sn, ip, st, own, ${fileId}::bigint, l, ${runId}::bigint
      from json_to_recordset(${json}::json) as x(t bigint, d date, h text, tr text, q text, r text, o text, dm text, rl text, rh text,
        p text, s text, ds text, c text, cc text, sg text, rs text, sn text, ip text, st text, own boolean, l bigint)`.execute(trx);
  }
}

/** Sent counts per statement: a bulk night has one per day, domain and transport, about one per sent line. */
const SENT_PER_STATEMENT = 50_000;

export async function addSent(trx: Transaction<Database>, sent: readonly SentAggregate[]): Promise<void> {
  for (let i = 0; i < sent.length; i += SENT_PER_STATEMENT) {
    const part = sent.slice(i, i + SENT_PER_STATEMENT);
    // One JSON parameter, like the events: pg's array serialization was per element in JS.
    const json = JSON.stringify(part.map((s) => ({ d: s.day, dm: s.domain, t: s.transport, s: s.stream ?? '', o: s.ownDomain, n: s.count, l: s.lastTs })));
    await sql`
      insert into maillog_sent_daily (day, domain, transport, stream, own_domain, sent, last_ts)
      select d, dm, t, s, o, n, to_timestamp(l / 1000.0)
      from json_to_recordset(${json}::json) as x(d date, dm text, t text, s text, o boolean, n bigint, l bigint)
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
