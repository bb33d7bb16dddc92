/**
 * Suppression policies (issue #4 "Acting"), set-based over every stored event so a re-run, or a
 * run after a crash, reaches the same verdicts. Defaults in src/maillog/config.ts.
 *
 * Address: a bounced `recipient_invalid` (once); `mailbox_full` on `mailboxFullDays` distinct days;
 * an expired message whose last deferral was recipient-level.
 * Domain: a bounced (or expired) `domain_dead`; or final failures (bounced/expired, not sender-side)
 * to `domainFailureRecipients` distinct recipients within `domainFailureWindowDays` with no `sent`
 * to the domain in that window. The window ends at the newest event in the log, not at the wall
 * clock, so replaying an old log gives the verdicts it gave then.
 *
 * Never: deferrals on their own (except the repeated mailbox_full rule), sender-side classes, or
 * the firm's own mail. An operator lift is final for the evidence it saw: only events newer than
 * the lift suppress the subject again.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { UsageError } from '../errors.ts';
import type { MaillogConfig } from './config.ts';
import type { SuppressionKind } from './tables.ts';

type Executor = Kysely<Database> | Transaction<Database>;
export type SuppressionPolicy = Pick<MaillogConfig, 'mailboxFullDays' | 'domainFailureRecipients' | 'domainFailureWindowDays' | 'suppressionExpiryDays'>;

/**
 * Computes the verdicts into pg_temp.scrub_verdicts (kind, value, reason, evidence, first_seen, last_seen).
 *
 * One scan of the events keeps only the rows some rule can use (bounced, expired, and deferred
 * mailbox_full: not the bulk of deferrals) and evaluates the rules on them once; every rule then
 * reads that small set. Per subject, one sort ranks its hits by rule priority and then newest
 * first: the first row names the verdict and is the sample, and only the rows of that rule are
 * counted. The sample's own columns are read back once, by ctid, from the same statement's scan.
 */
async function computeVerdicts(trx: Transaction<Database>, p: SuppressionPolicy): Promise<void> {
  await sql`drop table if exists pg_temp.scrub_verdicts`.execute(trx);
  await sql`
    create temp table scrub_verdicts on commit drop as
    with recursive
    -- The newest event in the log, by one index probe per class on (class, ts): a plain max(ts)
    -- reads that whole index.
    classes (c) as (
      select min(class) from delivery_events
      union all
      select (select min(class) from delivery_events where class > c) from classes where c is not null
    ),
    horizon as (
      select max((select max(ts) from delivery_events where class = c)) - make_interval(days => ${p.domainFailureWindowDays}) as since
      from classes
    ),
    ev as (
      select e.id, e.ctid, e.ts, e.day, e.recipient, e.domain,
        -- The address rules are exclusive (bounced, expired, deferred); the number is the priority.
        case
          when e.status = 'bounced' and e.class = 'recipient_invalid' then 1
          when e.status = 'expired' and e.cause_class in ('recipient_invalid', 'mailbox_full') then 2
          when e.class = 'mailbox_full' and e.status in ('bounced', 'deferred') then 3
        end as address_rule,
        coalesce((e.status = 'bounced' and e.class = 'domain_dead') or (e.status = 'expired' and e.cause_class = 'domain_dead'), false) as dead,
        e.status in ('bounced', 'expired') and e.ts > h.since
          and coalesce(e.cause_class, e.class) not in ('reputation_block', 'content_spam', 'rate_limited', 'policy_auth') as failure
      from delivery_events e, horizon h
      where not e.own_domain and e.recipient is not null
        and (e.status in ('bounced', 'expired') or (e.status = 'deferred' and e.class = 'mailbox_full'))
    ),
    full_boxes as (
      select recipient from ev where address_rule = 3
      group by recipient having count(distinct day) >= ${p.mailboxFullDays}
    ),
    failing_domains as (
      select f.domain from (select distinct domain, recipient from ev where failure) f
      group by f.domain
      having count(*) >= ${p.domainFailureRecipients}
         and not exists (select 1 from maillog_sent_domains s, horizon h
                         where s.domain = f.domain and s.last_ts > h.since)
         -- Successes of this run (and of runs since the last fold) are still in the log: one
         -- hashed scan of it, not a scan per domain (it has no index).
         and (f.domain is null or f.domain not in (select l.domain from maillog_sent_domain_log l, horizon h where l.last_ts > h.since))
    ),
    hits as (
      select 'address'::text as kind, e.recipient as value, e.address_rule as priority, e.id, e.ctid, e.ts, e.day, e.recipient
        from ev e where e.address_rule < 3 or (e.address_rule = 3 and e.recipient in (select recipient from full_boxes))
      union all
      select 'domain', e.domain, 1, e.id, e.ctid, e.ts, e.day, e.recipient from ev e where e.dead
      union all
      select 'domain', e.domain, 2, e.id, e.ctid, e.ts, e.day, e.recipient
        from ev e where e.failure and e.domain in (select domain from failing_domains)
    ),
    ranked as (
      select h.*, row_number() over w as rn, first_value(h.priority) over w as best
      from hits h where h.value is not null and h.value <> ''
      window w as (partition by h.kind, h.value order by h.priority, h.ts desc, h.id desc)
    ),
    verdicts as (
      select kind, value, min(priority) as priority, min(ts) as first_seen, max(ts) as last_seen,
        count(*) as n, count(distinct recipient) as recipients, count(distinct day) as days,
        min(ctid) filter (where rn = 1) as sample_row
      from ranked where priority = best
      group by kind, value
    ),
    rules (kind, priority, reason) as (values
      ('address', 1, 'recipient_invalid'), ('address', 2, 'expired_recipient'), ('address', 3, 'mailbox_full'),
      ('domain', 1, 'domain_dead'), ('domain', 2, 'domain_failures'))
    -- to_jsonb of a row: jsonb_build_object looks up the type of each argument on every call.
    select v.kind, v.value, r.reason, v.first_seen, v.last_seen, to_jsonb(x) as evidence
    from verdicts v
      join rules r on r.kind = v.kind and r.priority = v.priority
      join delivery_events d on d.ctid = v.sample_row,
      lateral (select coalesce(d.cause_class, d.class) as class, v.n as count, v.recipients, v.days,
                 v.first_seen as "firstSeen", v.last_seen as "lastSeen", d.dsn, d.status,
                 d.recipient as "sampleRecipient", d.id as "sampleEventId", d.reason as sample, d.relay) x`.execute(trx);
}

export interface SuppressionChanges {
  addresses: number;
  domains: number;
  updated: number;
}

export async function applySuppressionPolicies(trx: Transaction<Database>, p: SuppressionPolicy, runId: number, now: Date): Promise<SuppressionChanges> {
  await computeVerdicts(trx, p);
  const days = p.suppressionExpiryDays;
  const expiry = days === null ? sql`null::timestamptz` : sql`v.last_seen + make_interval(days => ${days})`;
  const updated = await sql`
    update suppressions s set
      reason = v.reason, evidence = v.evidence,
      first_seen = least(s.first_seen, v.first_seen), last_seen = greatest(s.last_seen, v.last_seen),
      expires_at = ${days === null ? sql`null::timestamptz` : sql`greatest(s.last_seen, v.last_seen) + make_interval(days => ${days})`},
      updated_at = ${now}::timestamptz
    from pg_temp.scrub_verdicts v
    where s.kind = v.kind and s.value = v.value and s.lifted_at is null and s.source = 'scrub'
      and (s.evidence is distinct from v.evidence or s.reason <> v.reason)`.execute(trx);
  // New subjects: none current, no lift at or after the evidence. The subjects are read once,
  // before the insert: planned on a table last analyzed empty, a check against suppressions itself
  // became a nested loop that rescanned the pages this very insert was filling (quadratic).
  // Counted here: returning the kind of every new row sent thousands of rows back on a first run.
  const inserted = await sql<{ addresses: number; domains: number }>`
    with known as materialized (select kind, value, lifted_at from suppressions),
    added as (
      insert into suppressions (kind, value, reason, source, evidence, first_seen, last_seen, expires_at, created_run_id, created_at, updated_at)
      select v.kind, v.value, v.reason, 'scrub', v.evidence, v.first_seen, v.last_seen, ${expiry}, ${runId}::bigint, ${now}::timestamptz, ${now}::timestamptz
      from pg_temp.scrub_verdicts v
      where not exists (select 1 from known s where s.kind = v.kind and s.value = v.value
                        and (s.lifted_at is null or s.lifted_at >= v.last_seen))
      returning kind
    )
    select count(*) filter (where kind = 'address') as addresses, count(*) filter (where kind = 'domain') as domains from added`.execute(trx);
  return {
    addresses: Number(inserted.rows[0]?.addresses ?? 0),
    domains: Number(inserted.rows[0]?.domains ?? 0),
    updated: Number(updated.numAffectedRows ?? 0),
  };
}

/** An address (has @) or a domain, normalized the way suppressions store them. It comes from the command line: a bad one is a UsageError (exit 2). */
export function parseSubject(subject: string): { kind: SuppressionKind; value: string } {
  const v = subject.trim().toLowerCase().replace(/^mailto:/, '').replace(/\.$/, '');
  if (!v || /\s/.test(v)) throw new UsageError(`"${subject}" is not an address or a domain. Give e.g. driver@example.com or example.com.`);
  if (v.includes('@')) {
    const [local, domain] = [v.slice(0, v.lastIndexOf('@')), v.slice(v.lastIndexOf('@') + 1)];
    if (!local || !domain.includes('.')) throw new UsageError(`"${subject}" is not a complete address (local@domain.tld).`);
    return { kind: 'address', value: v };
  }
  if (!v.includes('.')) throw new UsageError(`"${subject}" is not a domain (expected e.g. example.com).`);
  return { kind: 'domain', value: v };
}

/** Operator suppression: replaces the evidence of a current row, or starts a new one. */
export async function suppressByOperator(
  trx: Transaction<Database>,
  subject: { kind: SuppressionKind; value: string },
  opts: { reason: string; days: number | null; by: string; now: Date; runId: number },
) {
  const evidence = JSON.stringify({ operator: opts.by, note: opts.reason, at: opts.now.toISOString() });
  const expires = opts.days === null ? null : new Date(opts.now.getTime() + opts.days * 86_400_000);
  const current = await trx
    .selectFrom('suppressions')
    .select(['id'])
    .where('kind', '=', subject.kind)
    .where('value', '=', subject.value)
    .where('lifted_at', 'is', null)
    .executeTakeFirst();
  if (current) {
    return trx
      .updateTable('suppressions')
      .set({ reason: 'operator', source: 'operator', evidence, expires_at: expires, last_seen: opts.now, updated_at: opts.now })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }
  return trx
    .insertInto('suppressions')
    .values({ kind: subject.kind, value: subject.value, reason: 'operator', source: 'operator', evidence, first_seen: opts.now, last_seen: opts.now, expires_at: expires, created_run_id: opts.runId })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Lifts the current suppression of a subject (kept as history). Returns how many rows were lifted. */
export async function liftSuppression(trx: Transaction<Database>, subject: { kind: SuppressionKind; value: string }, opts: { reason: string; by: string; now: Date }): Promise<number> {
  const r = await trx
    .updateTable('suppressions')
    .set({ lifted_at: opts.now, lifted_by: opts.by, lift_reason: opts.reason, updated_at: opts.now })
    .where('kind', '=', subject.kind)
    .where('value', '=', subject.value)
    .where('lifted_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Suppressions active at `now` (the contract's definition). */
export function activeSuppressions(db: Executor, now: Date) {
  return db
    .selectFrom('suppressions')
    .selectAll()
    .where('lifted_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
}
