/**
 * Deliverability history for the report's tests, written into the tables the report reads the way
 * their stages leave them: push ledger rows, delivery events, sent counts (per transport and per
 * provider), DKIM counters (per day and per stream), then the daily health recomputed by the
 * scrub's own code from those, so the health and the events always agree.
 *
 * `seedHistory` makes a plausible history of any length ending on a given day (a warmup ramp, a
 * spike over the cap, a Gmail reputation block with its hold, a DKIM outage on one stream), from
 * a seeded generator: the browser test and the size measurement draw it.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../src/db/database.ts';
import { recomputeStaleHealth } from '../src/maillog/health.ts';
import { addDays, zonedTime } from '../src/warmup/calendar.ts';
import { mulberry32 } from './helpers/prng.ts';

type Db = Kysely<Database>;

let ledgerSeq = 0;

/** `n` ledger rows for the date and segment with the status (synthetic addresses, unique per call). */
export async function insertLedger(db: Db, date: string, segment: string, status: 'reserved' | 'pushed' | 'failed', n: number, provider = 'google'): Promise<void> {
  if (n <= 0) return;
  const tag = `${date}-${segment}-${status}-${++ledgerSeq}`;
  await sql`
    insert into push_ledger (send_date, segment, address, email_id, dot_number, provider, rank, status, run_id)
    select ${date}::date, ${segment}, 'fx' || i || '-' || ${tag} || '@ledger.test', 900000000 + i, 900000000 + i, ${provider}, i, ${status}, 0
    from generate_series(1, ${n}::int) as i`.execute(db);
}

export interface FxEvent {
  day: string;
  status: 'deferred' | 'bounced' | 'expired';
  class: string;
  dsn: string | null;
  domain: string;
  relayProvider?: string | null;
  reason: string;
  own?: boolean;
  count?: number;
  stream?: string | null;
}

/** Delivery events, `count` copies of each, timed at noon of their day in Chicago. */
export async function insertEvents(db: Db, events: readonly FxEvent[]): Promise<void> {
  const rows = events.flatMap((e) => Array.from({ length: e.count ?? 1 }, () => e));
  if (!rows.length) return;
  const col = <T,>(f: (e: FxEvent) => T) => rows.map(f);
  await sql`
    insert into delivery_events (ts, day, host, transport, qid, recipient, domain, relay, relay_host, relay_provider, status, dsn, class, reason, stream, own_domain, file_id, line_no, run_id)
    select u.ts, u.day, 'app1', 'postfix/out05/smtp', 'Q' || u.n, 'rcpt' || u.n || '@' || u.domain, u.domain,
           case when u.rp is null then 'none' else 'mx.' || u.domain || '[192.0.2.1]:25' end,
           case when u.rp is null then null else 'mx.' || u.domain end, u.rp, u.status, u.dsn, u.class, u.reason, u.stream, u.own, 0, u.n, 0
    from unnest(${col((e) => zonedTime(e.day, 12, 'America/Chicago'))}::timestamptz[], ${col((e) => e.day)}::date[], ${col((e) => e.domain)}::text[],
                ${col((e) => e.relayProvider ?? null)}::text[], ${col((e) => e.status)}::text[], ${col((e) => e.dsn)}::text[], ${col((e) => e.class)}::text[],
                ${col((e) => e.reason)}::text[], ${col((e) => e.stream ?? 'trucking')}::text[], ${col((e) => Boolean(e.own))}::boolean[],
                ${rows.map((_, i) => i + 1)}::int[]) as u(ts, day, domain, rp, status, dsn, class, reason, stream, own, n)`.execute(db);
}

/**
 * Successes of a day: per provider into maillog_sent_providers (as the scrub writes them since
 * 0012) and their total into maillog_sent_counts; `legacy` leaves the per-provider counts out, as
 * for a day scrubbed before 0012.
 */
export async function insertSent(db: Db, day: string, byProvider: Record<string, number>, opts: { legacy?: boolean } = {}): Promise<void> {
  const total = Object.values(byProvider).reduce((a, b) => a + b, 0);
  if (!total) return;
  await sql`insert into maillog_sent_counts (day, transport, stream, own_domain, sent) values (${day}::date, 'postfix/out05/smtp', 'trucking', false, ${total})
    on conflict (day, transport, stream, own_domain) do update set sent = maillog_sent_counts.sent + excluded.sent`.execute(db);
  if (opts.legacy) return;
  const entries = Object.entries(byProvider).filter(([, n]) => n > 0);
  await sql`insert into maillog_sent_providers (day, provider, sent)
    select ${day}::date, p, n from unnest(${entries.map(([p]) => p)}::text[], ${entries.map(([, n]) => n)}::bigint[]) as t(p, n)`.execute(db);
}

/** Campaign messages and DKIM-signed ones of a day, per stream (their sum is the day's total); `legacy`: the total only. */
export async function insertDkim(db: Db, day: string, streams: Record<string, [messages: number, signed: number]>, opts: { legacy?: boolean } = {}): Promise<void> {
  const rows = Object.entries(streams);
  const messages = rows.reduce((n, [, [m]]) => n + m, 0);
  const signed = rows.reduce((n, [, [, s]]) => n + s, 0);
  await sql`insert into maillog_daily_health (day, campaign_messages, dkim_signed, stale) values (${day}::date, ${messages}, ${signed}, true)
    on conflict (day) do update set campaign_messages = maillog_daily_health.campaign_messages + excluded.campaign_messages,
      dkim_signed = maillog_daily_health.dkim_signed + excluded.dkim_signed, stale = true`.execute(db);
  if (opts.legacy || !rows.length) return;
  await sql`insert into maillog_stream_daily (day, stream, campaign_messages, dkim_signed)
    select ${day}::date, s, m, g from unnest(${rows.map(([s]) => s)}::text[], ${rows.map(([, [m]]) => m)}::bigint[], ${rows.map(([, [, g]]) => g)}::bigint[]) as t(s, m, g)`.execute(db);
}

/** Marks the days stale and recomputes their health with the scrub's own code, stamped at the last day's end. */
export async function recomputeHealth(db: Db, days: readonly string[]): Promise<void> {
  const stamp = new Date(`${[...days].sort().at(-1) ?? '2000-01-01'}T23:59:59Z`);
  await sql`insert into maillog_daily_health (day, stale) select d, true from unnest(${[...days]}::date[]) as d
    on conflict (day) do update set stale = true`.execute(db);
  await db.transaction().execute((trx) => recomputeStaleHealth(trx, stamp));
}

export async function insertHold(
  db: Db,
  h: { scope: 'provider' | 'domain' | 'global'; provider: string | null; domain?: string; mxHost?: string; reason: string; detail: string; startsAt: Date; until: Date; liftedAt?: Date | null },
): Promise<void> {
  await sql`insert into holds (scope, provider, domain, mx_host, reason, detail, evidence, starts_at, until, lifted_at, lifted_by, lift_reason)
    values (${h.scope}, ${h.provider}, ${h.domain ?? null}, ${h.mxHost ?? null}, ${h.reason}, ${h.detail}, '{}'::jsonb, ${h.startsAt}::timestamptz, ${h.until}::timestamptz,
            ${h.liftedAt ?? null}::timestamptz, ${h.liftedAt ? 'fixture' : null}, ${h.liftedAt ? 'fixture lift' : null})`.execute(db);
}

const GMAIL_BLOCK =
  'host gmail-smtp-in.l.google.com[142.250.27.26] said: 550-5.7.1 [192.0.2.10] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. (in reply to end of DATA command)';
const GMAIL_RATE = 'host gmail-smtp-in.l.google.com[142.250.27.26] said: 421-4.7.28 [192.0.2.10] Our system has detected an unusual rate of unsolicited mail originating from your IP address. (in reply to end of DATA command)';
const UNKNOWN_USER = 'host mx.carrier.example[203.0.113.5] said: 550 5.1.1 <dispatch@carrier.example>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)';
const MS_BLOCK = 'host tenant.mail.protection.outlook.com[52.101.1.1] said: 550 5.7.606 Access denied, banned sending IP [192.0.2.10]. (in reply to MAIL FROM command)';
const TIMEOUT = 'connect to mx.small-fleet.example[203.0.113.9]:25: Connection timed out';
const FULL = 'host mx.carrier.example[203.0.113.5] said: 552 5.2.2 <owner@carrier.example>: Mailbox full (in reply to RCPT TO command)';

/**
 * A plausible history of `days` days ending on `to` (warmup started `warmupAgo` days before it,
 * default ramp): the build pushes about the cap, Postfix sends it; one day goes over the cap, Gmail
 * blocks for two days mid-way (with its hold), the healthcare stream stops signing for three days
 * (with the global DKIM hold). Deterministic for a seed.
 */
export async function seedHistory(db: Db, opts: { to: string; days: number; warmupAgo: number; seed?: number; ramp: (warmupDay: number) => number }): Promise<void> {
  const rnd = mulberry32(opts.seed ?? 19);
  const from = addDays(opts.to, -(opts.days - 1));
  const all: string[] = [];
  const spikeDay = Math.floor(opts.days * 0.35);
  const blockDay = Math.floor(opts.days * 0.55);
  const dkimDay = Math.floor(opts.days * 0.75);
  for (let i = 0; i < opts.days; i++) {
    const day = addDays(from, i);
    all.push(day);
    const wd = opts.warmupAgo - (opts.days - 1 - i);
    if (wd < 0) continue;
    const cap = opts.ramp(wd);
    const today = day === opts.to;
    const push = i === spikeDay ? Math.round(cap * 1.18) : Math.round(cap * (today ? 0.3 : 0.86 + rnd() * 0.12));
    const mcs = Math.round(push * 0.62);
    await insertLedger(db, day, 'mcs150', today ? 'reserved' : 'pushed', mcs);
    await insertLedger(db, day, 'new-carrier', today ? 'reserved' : 'pushed', push - mcs);
    if (!today) await insertLedger(db, day, 'new-carrier', 'failed', Math.round(rnd() * 4));
    if (today) continue;
    const blocked = i >= blockDay && i < blockDay + 2;
    const google = Math.round(push * 0.46);
    const ms = Math.round(push * 0.21);
    const outlook = Math.round(push * 0.09);
    const rest = push - google - ms - outlook;
    const gBlocked = blocked ? Math.round(google * 0.38) : 0;
    const bounces = Math.round(rest * (0.015 + rnd() * 0.01));
    const full = Math.round(rnd() * 3);
    const deferrals = Math.round(push * (0.01 + rnd() * 0.015));
    const expired = Math.round(rnd() * 2);
    await insertSent(db, day, { google: google - gBlocked, microsoft365: ms - (i === blockDay + 1 ? 4 : 0), outlook_consumer: outlook, other: rest - bounces - full - expired }, { legacy: i < 2 });
    await insertEvents(db, [
      { day, status: 'bounced', class: 'reputation_block', dsn: '5.7.1', domain: 'gmail.com', relayProvider: 'google', reason: GMAIL_BLOCK, count: gBlocked },
      { day, status: 'deferred', class: 'rate_limited', dsn: '4.7.28', domain: 'gmail.com', relayProvider: 'google', reason: GMAIL_RATE, count: blocked ? Math.round(google * 0.3) : Math.round(rnd() * 2) },
      { day, status: 'bounced', class: 'recipient_invalid', dsn: '5.1.1', domain: 'carrier.example', reason: UNKNOWN_USER, count: bounces },
      { day, status: 'bounced', class: 'mailbox_full', dsn: '5.2.2', domain: 'carrier.example', reason: FULL, count: full },
      { day, status: 'bounced', class: 'reputation_block', dsn: '5.7.606', domain: 'tenant.example', relayProvider: 'microsoft365', reason: MS_BLOCK, count: i === blockDay + 1 ? 4 : 0 },
      { day, status: 'deferred', class: 'transient_network', dsn: '4.4.1', domain: 'small-fleet.example', reason: TIMEOUT, count: deferrals },
      { day, status: 'expired', class: 'expired', dsn: '4.4.1', domain: 'small-fleet.example', reason: TIMEOUT, count: expired },
      // The firm's own cron noise: reported apart, never in the charts.
      { day, status: 'bounced', class: 'recipient_invalid', dsn: '5.1.1', domain: 'firm-logistics.example', reason: UNKNOWN_USER, own: true, count: 7 },
    ]);
    const campaign = Math.max(1, Math.round(push * 0.98));
    const health = Math.round(campaign * 0.3);
    const broken = i >= dkimDay && i < dkimDay + 3;
    await insertDkim(db, day, { trucking: [campaign - health, campaign - health], healthcare: [health, broken ? Math.round(health * 0.1) : health] }, { legacy: i < 2 });
  }
  await recomputeHealth(db, all);
  const at = (i: number, hour: number) => zonedTime(addDays(from, i), hour, 'America/Chicago');
  await insertHold(db, {
    scope: 'provider', provider: 'google', reason: 'reputation_block', detail: `last signal: ${GMAIL_BLOCK}`,
    startsAt: at(blockDay, 11), until: at(blockDay + 5, 11), liftedAt: at(blockDay + 3, 9),
  });
  await insertHold(db, {
    scope: 'global', provider: null, reason: 'dkim_coverage', detail: 'campaign messages signed by opendkim below 95%: fix DKIM signing before pushing',
    startsAt: at(dkimDay, 23), until: at(dkimDay + 7, 23), liftedAt: at(dkimDay + 3, 8),
  });
  await insertHold(db, {
    scope: 'provider', provider: 'microsoft365', reason: 'reputation_block', detail: `last signal: ${MS_BLOCK}`,
    startsAt: at(blockDay + 1, 12), until: at(blockDay + 4, 12),
  });
}
