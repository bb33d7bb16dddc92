/**
 * Holds: the STOP rule of the runbook. Sender-side outcomes (reputation_block, content_spam,
 * rate_limited, policy_auth) put the recipient's provider (or, for a server of `other`, the
 * receiving domain) on hold for `holdDays` after the last signal; unsigned campaign mail (DKIM coverage below `dkimCoverageMin` on the latest day with
 * enough campaign mail) puts everything on hold until a later day is covered again.
 *
 * Provider: the recipient domain's provider from the MX data (view domain_providers, read only
 * when it exists: this migration must not depend on 0004) else the relay host's provider (the
 * suffix table of src/mx/providers.ts, stored on each event), else `other`.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { MaillogConfig } from './config.ts';
import type { Hold } from './tables.ts';

type Executor = Kysely<Database> | Transaction<Database>;
export type HoldPolicy = Pick<MaillogConfig, 'holdDays' | 'holdClasses' | 'dkimCoverageMin' | 'dkimMinMessages' | 'dkimHoldDays'>;

export const DKIM_HOLD_REASON = 'dkim_coverage';

async function hasDomainProviders(db: Executor): Promise<boolean> {
  const r = await sql<{ t: string | null }>`select to_regclass('domain_providers')::text as t`.execute(db);
  return Boolean(r.rows[0]?.t);
}

export interface HoldChanges {
  raised: number;
  extended: number;
  /** Provider holds on other/mixed (from before holds by scope) lifted for the domain holds. */
  replaced: number;
}

/** Providers that are not one receiver: `other` (no suffix claims the MX), `mixed` (several do). */
const NOT_ONE_PROVIDER = ['other', 'mixed'];

/**
 * Raises or extends holds from every stored sender-side signal whose hold would still run at `now`.
 *
 * By scope: a signal from a named provider (google, microsoft365, yahoo, a gateway...) holds that
 * provider, whose filters judge the sender as a whole. A signal from a server of `other` or `mixed`
 * holds only the receiving domain (and, through its mx_host, the domains that server receives for:
 * rules/provider-hold.ts): one self-hosted server's "550 Too many invalid recipients" says nothing
 * about every other small domain, and holding `other` removed all of them from the build.
 * Provider holds on `other`/`mixed` left by earlier versions are lifted here, in the transaction
 * that raises the domain holds replacing them.
 */
export async function applyProviderHolds(trx: Transaction<Database>, p: HoldPolicy, runId: number, now: Date): Promise<HoldChanges> {
  if (!p.holdClasses.length) return { raised: 0, extended: 0, replaced: 0 };
  // The signals whose hold would still run at `now`. A bound the (class, ts) index can use, so old
  // signals are not read: adding calendar days in a time zone can differ from 24-hour days by a
  // zone's jump (at most about a day), so two days of margin keep every signal the exact test keeps.
  const signal = sql`not e.own_domain and e.status in ('deferred', 'bounced')
        and e.class = any(${p.holdClasses}::text[])
        and e.ts > ${now}::timestamptz - make_interval(hours => ${24 * (p.holdDays + 2)})
        and e.ts + make_interval(days => ${p.holdDays}) > ${now}::timestamptz`;
  // With none, nothing below would be raised or extended; building the table of signals (a temp
  // table and a statement over the MX view, ~20 ms of the server) is skipped. The common case of a
  // re-run once a night's holds have run out, and of any re-run with no sender-side signal.
  const any = await sql<{ any: boolean }>`select exists (select 1 from delivery_events e where ${signal}) as any`.execute(trx);
  if (!any.rows[0]?.any) return { raised: 0, extended: 0, replaced: await liftNotOneProvider(trx, now) };
  const withMx = await hasDomainProviders(trx);
  // The MX provider of each signalling domain, looked up once for all (the view is a full join:
  // one lookup per event read both its tables again). The view has one row per domain; min only
  // makes that explicit.
  const providers = withMx
    ? sql`select dp.domain, min(dp.provider) as provider from domain_providers dp
          where dp.provider not in ('other', 'mixed') and dp.domain in (select domain from s)
          group by dp.domain`
    : sql`select null::text as domain, null::text as provider where false`;
  await sql`drop table if exists pg_temp.hold_signals`.execute(trx);
  await sql`
    create temp table hold_signals on commit drop as
    with s as (
      select e.domain, e.relay_provider, e.relay_host, e.class, e.ts, e.id, e.recipient
      from delivery_events e
      where ${signal}
    ),
    providers as (${providers}),
    attributed as (
      select coalesce(dp.provider, s.relay_provider, 'other') as provider, s.domain, s.relay_host, s.class, s.ts, s.id, s.recipient
      from s left join providers dp on dp.domain = s.domain
    ),
    -- A recipient without a domain names nothing to hold (and nothing the build could mail).
    scoped as (
      select case when provider = any(${NOT_ONE_PROVIDER}::text[]) then 'domain' else 'provider' end as scope,
             case when provider = any(${NOT_ONE_PROVIDER}::text[]) then null else provider end as provider,
             case when provider = any(${NOT_ONE_PROVIDER}::text[]) then domain end as domain,
             relay_host, class, ts, id, recipient
      from attributed
      where not (provider = any(${NOT_ONE_PROVIDER}::text[]) and domain is null)
    ),
    -- One sort per subject and class, newest first: the first row is the sample.
    ranked as (
      select *, row_number() over (partition by scope, provider, domain, class order by ts desc, id desc) as rn from scoped
    ),
    signals as (
      select scope, provider, domain, class, count(*) as n, min(ts) as first_seen, max(ts) as last_seen,
        count(distinct recipient) as recipients, min(id) filter (where rn = 1) as sample_id,
        -- The server that answered last, among the lines that name one (postfix/error says relay=none).
        (array_agg(lower(relay_host) order by ts desc, id desc) filter (where relay_host is not null and relay_host not in ('', 'none')))[1] as mx_host
      from ranked group by scope, provider, domain, class
    )
    select g.scope, g.provider, g.domain, case when g.scope = 'domain' then g.mx_host end as mx_host,
      g.class as reason, g.first_seen as starts_at, g.last_seen + make_interval(days => ${p.holdDays}) as until,
      jsonb_build_object('count', g.n, 'firstSeen', g.first_seen, 'lastSeen', g.last_seen,
        'dsn', d.dsn, 'sample', d.reason, 'relay', d.relay_host, 'recipients', g.recipients) as evidence
    from signals g join delivery_events d on d.id = g.sample_id`.execute(trx);
  const sameSubject = sql`h.scope = s.scope and h.provider is not distinct from s.provider and h.domain is not distinct from s.domain and h.reason = s.reason`;
  const extended = await sql`
    update holds h set until = greatest(h.until, s.until), evidence = s.evidence, mx_host = coalesce(s.mx_host, h.mx_host), updated_at = ${now}::timestamptz,
      detail = ${'last signal '}|| (s.evidence->>'lastSeen') || ': ' || left(s.evidence->>'sample', 300)
    from pg_temp.hold_signals s
    where ${sameSubject} and h.lifted_at is null
      and (h.evidence is distinct from s.evidence or h.until < s.until)`.execute(trx);
  const raised = await sql`
    insert into holds (scope, provider, domain, mx_host, reason, detail, evidence, starts_at, until, created_run_id, created_at, updated_at)
    select s.scope, s.provider, s.domain, s.mx_host, s.reason,
      'last signal ' || (s.evidence->>'lastSeen') || ': ' || left(s.evidence->>'sample', 300),
      s.evidence, s.starts_at, s.until, ${runId}::bigint, ${now}::timestamptz, ${now}::timestamptz
    from pg_temp.hold_signals s
    where not exists (select 1 from holds h where ${sameSubject} and h.lifted_at is null)
      and not exists (select 1 from holds h where ${sameSubject} and h.lifted_at >= (s.evidence->>'lastSeen')::timestamptz)`.execute(trx);
  return { raised: Number(raised.numAffectedRows ?? 0), extended: Number(extended.numAffectedRows ?? 0), replaced: await liftNotOneProvider(trx, now) };
}

/** Lifts the provider holds on other/mixed left by versions before holds by scope; returns how many. */
async function liftNotOneProvider(trx: Transaction<Database>, now: Date): Promise<number> {
  const r = await sql`
    update holds set lifted_at = ${now}, lifted_by = 'scrub-bounces', updated_at = ${now},
      lift_reason = 'a signal from a server of provider other/mixed holds its receiving domain only (holds by scope)'
    where scope = 'provider' and provider = any(${NOT_ONE_PROVIDER}::text[]) and lifted_at is null`.execute(trx);
  return Number(r.numAffectedRows ?? 0);
}

export interface DkimVerdict {
  day: string | null;
  /** The stream judged (the worst among those sending lately); null on days scrubbed before streams were kept. */
  stream: string | null;
  campaignMessages: number;
  signed: number;
  coverage: number | null;
  action: 'raised' | 'extended' | 'lifted' | 'none';
}

/** How far a stream's latest judged day may trail the newest one and still count: doctor's window. */
const DKIM_STREAM_WINDOW_DAYS = 7;

interface DkimDay {
  day: string;
  stream: string | null;
  campaign_messages: number;
  dkim_signed: number;
}

/**
 * The day the DKIM hold is judged on: each stream's latest day with at least `dkimMinMessages`
 * campaign messages, among streams whose day is within DKIM_STREAM_WINDOW_DAYS of the newest such
 * day, and of those the worst covered. Judged per stream because one stream whose signing broke
 * (a second Listmonk container whose mail bypasses opendkim) hides behind a healthy, larger one in
 * the day's total, and unsigned campaign mail is what the hold exists to stop. A stream that stopped
 * sending does not hold the others forever. Days scrubbed before streams were kept are judged on
 * the day's total, as before.
 */
async function dkimDayToJudge(trx: Transaction<Database>, min: number): Promise<DkimDay | null> {
  const r = await sql<DkimDay>`
    with latest as (
      select distinct on (stream) day, stream, campaign_messages::int as campaign_messages, dkim_signed::int as dkim_signed
      from maillog_stream_daily where campaign_messages >= ${min}
      order by stream, day desc
    )
    select to_char(day, 'YYYY-MM-DD') as day, stream, campaign_messages, dkim_signed from latest
    where day >= (select max(day) from latest) - ${DKIM_STREAM_WINDOW_DAYS}::int
    order by dkim_signed::float8 / campaign_messages, day desc, stream
    limit 1`.execute(trx);
  const perStream = r.rows[0];
  const total = await trx
    .selectFrom('maillog_daily_health')
    .select(['day', 'campaign_messages', 'dkim_signed'])
    .where('campaign_messages', '>=', min)
    .orderBy('day', 'desc')
    .limit(1)
    .executeTakeFirst();
  // A newer total than any stream's day is a day scrubbed before streams were kept (or with none).
  if (total && (!perStream || total.day > perStream.day)) return { day: total.day, stream: null, campaign_messages: total.campaign_messages, dkim_signed: total.dkim_signed };
  return perStream ?? null;
}

/**
 * The global DKIM hold, judged by dkimDayToJudge: below the threshold it is raised, or extended
 * on new evidence (a later bad day, more mail of the judged day), and otherwise runs out
 * `dkimHoldDays` after it was raised or last extended; at or above it, a hold this job raised
 * earlier is lifted. An operator's lift stands until a newer bad day.
 */
export async function applyDkimHold(trx: Transaction<Database>, p: HoldPolicy, runId: number, now: Date): Promise<DkimVerdict> {
  const latest = await dkimDayToJudge(trx, p.dkimMinMessages);
  if (!latest) return { day: null, stream: null, campaignMessages: 0, signed: 0, coverage: null, action: 'none' };
  const coverage = latest.dkim_signed / latest.campaign_messages;
  const base = { day: latest.day, stream: latest.stream, campaignMessages: latest.campaign_messages, signed: latest.dkim_signed, coverage };
  const where = latest.stream === null ? '' : ` in stream ${latest.stream}`;
  const current = await trx
    .selectFrom('holds')
    .selectAll()
    .where('scope', '=', 'global')
    .where('reason', '=', DKIM_HOLD_REASON)
    .where('lifted_at', 'is', null)
    .executeTakeFirst();
  if (coverage >= p.dkimCoverageMin) {
    if (!current) return { ...base, action: 'none' };
    await trx
      .updateTable('holds')
      .set({ lifted_at: now, lifted_by: 'scrub-bounces', lift_reason: `DKIM coverage ${(coverage * 100).toFixed(1)}%${where} on ${latest.day}`, updated_at: now })
      .where('id', '=', current.id)
      .execute();
    return { ...base, action: 'lifted' };
  }
  const evidence = JSON.stringify({ day: latest.day, stream: latest.stream, campaignMessages: latest.campaign_messages, signed: latest.dkim_signed, coverage, threshold: p.dkimCoverageMin });
  const detail = `${latest.dkim_signed} of ${latest.campaign_messages} campaign messages${where} signed by opendkim on ${latest.day} (${(coverage * 100).toFixed(1)}% < ${(p.dkimCoverageMin * 100).toFixed(0)}%): fix DKIM signing before pushing`;
  const until = new Date(now.getTime() + p.dkimHoldDays * 86_400_000);
  if (current) {
    // Only new evidence extends the hold: a later bad day, or more mail of the judged day. Judging
    // the same day again each night moved `until` forward forever, and since the hold stops every
    // campaign no covered day could ever come to lift it: it never ran out after dkimHoldDays.
    const seen = current.evidence as { day?: unknown; stream?: unknown; campaignMessages?: unknown; signed?: unknown } | null;
    const sameEvidence =
      String(seen?.day) === String(latest.day) &&
      String(seen?.stream ?? null) === String(latest.stream ?? null) &&
      Number(seen?.campaignMessages) === Number(latest.campaign_messages) &&
      Number(seen?.signed) === Number(latest.dkim_signed);
    if (sameEvidence) return { ...base, action: 'none' };
    await trx.updateTable('holds').set({ evidence, detail, until: until > current.until ? until : current.until, updated_at: now }).where('id', '=', current.id).execute();
    return { ...base, action: 'extended' };
  }
  const liftedAfter = await trx
    .selectFrom('holds')
    .select('id')
    .where('scope', '=', 'global')
    .where('reason', '=', DKIM_HOLD_REASON)
    .where('lifted_by', '<>', 'scrub-bounces')
    .where(sql<boolean>`lifted_at::date > ${latest.day}::date`)
    .executeTakeFirst();
  if (liftedAfter) return { ...base, action: 'none' };
  await trx
    .insertInto('holds')
    .values({ scope: 'global', provider: null, reason: DKIM_HOLD_REASON, detail, evidence, starts_at: now, until, created_run_id: runId })
    .execute();
  return { ...base, action: 'raised' };
}

/** Holds active at `now` (lifted_at is null and until > now): what the build must respect. */
export async function activeHolds(db: Executor, now: Date): Promise<Hold[]> {
  return db.selectFrom('holds').selectAll().where('lifted_at', 'is', null).where('until', '>', now).orderBy('scope').orderBy('provider').orderBy('reason').execute();
}

/** The active global DKIM-coverage hold, if any: the build's gate refuses to push while it stands. */
export async function globalDkimHold(db: Executor, now: Date): Promise<Hold | null> {
  const h = await db
    .selectFrom('holds')
    .selectAll()
    .where('scope', '=', 'global')
    .where('reason', '=', DKIM_HOLD_REASON)
    .where('lifted_at', 'is', null)
    .where('until', '>', now)
    .executeTakeFirst();
  return h ?? null;
}

/** A hold in words: `google`, `domain dmnd.test (mail host mx.dmnd.test)`, `global`. */
export function holdSubjectText(h: { scope: string; provider: string | null; domain: string | null; mx_host: string | null }): string {
  if (h.scope === 'global') return 'global';
  if (h.scope === 'domain') return `domain ${h.domain}${h.mx_host ? ` (mail host ${h.mx_host})` : ''}`;
  return h.provider ?? '?';
}

/** What an operator lifts: the global hold, a provider's, or a domain's (by the domain or its mail server). */
export type HoldSubject = { scope: 'global' } | { scope: 'provider'; provider: string } | { scope: 'domain'; domain: string };

/** Lifts the active holds of a subject. Returns the lifted rows. */
export async function liftHolds(trx: Transaction<Database>, subject: HoldSubject, opts: { reason: string; by: string; now: Date; holdReason?: string }): Promise<Hold[]> {
  let q = trx
    .updateTable('holds')
    .set({ lifted_at: opts.now, lifted_by: opts.by, lift_reason: opts.reason, updated_at: opts.now })
    .where('lifted_at', 'is', null);
  if (subject.scope === 'global') q = q.where('scope', '=', 'global');
  else if (subject.scope === 'provider') q = q.where('scope', '=', 'provider').where('provider', '=', subject.provider);
  // People name a self-hosted receiver by its domain or by its mail server (the bounce's relay).
  else q = q.where('scope', '=', 'domain').where((eb) => eb.or([eb('domain', '=', subject.domain), eb('mx_host', '=', subject.domain)]));
  if (opts.holdReason) q = q.where('reason', '=', opts.holdReason);
  return q.returningAll().execute();
}
