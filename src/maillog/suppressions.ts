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
import { InputError } from '../errors.ts';
import type { MaillogConfig } from './config.ts';
import type { SuppressionKind } from './tables.ts';

type Executor = Kysely<Database> | Transaction<Database>;
export type SuppressionPolicy = Pick<MaillogConfig, 'mailboxFullDays' | 'domainFailureRecipients' | 'domainFailureWindowDays' | 'suppressionExpiryDays'>;

/** Computes the verdicts into pg_temp.scrub_verdicts (kind, value, reason, evidence, first_seen, last_seen). */
async function computeVerdicts(trx: Transaction<Database>, p: SuppressionPolicy): Promise<void> {
  await sql`drop table if exists pg_temp.scrub_verdicts`.execute(trx);
  await sql`
    create temp table scrub_verdicts on commit drop as
    with ev as (
      select id, ts, day, recipient, domain, status, class, cause_class, dsn
      from delivery_events where not own_domain and recipient is not null
    ),
    full_boxes as (
      select recipient from ev where class = 'mailbox_full' and status in ('bounced', 'deferred')
      group by recipient having count(distinct day) >= ${p.mailboxFullDays}
    ),
    horizon as (select max(ts) - make_interval(days => ${p.domainFailureWindowDays}) as since from delivery_events),
    failures as (
      select e.* from ev e, horizon h
      where e.status in ('bounced', 'expired') and e.ts > h.since
        and coalesce(e.cause_class, e.class) not in ('reputation_block', 'content_spam', 'rate_limited', 'policy_auth')
    ),
    failing_domains as (
      select f.domain from failures f
      group by f.domain
      having count(distinct f.recipient) >= ${p.domainFailureRecipients}
         and not exists (select 1 from maillog_sent_domains s, horizon h
                         where s.domain = f.domain and s.last_ts > h.since)
    ),
    hits as (
      select 'address'::text as kind, recipient as value, 'recipient_invalid'::text as verdict, 1 as priority, e.*
        from ev e where status = 'bounced' and class = 'recipient_invalid'
      union all
      select 'address', recipient, 'expired_recipient', 2, e.*
        from ev e where status = 'expired' and cause_class in ('recipient_invalid', 'mailbox_full')
      union all
      select 'address', recipient, 'mailbox_full', 3, e.*
        from ev e where class = 'mailbox_full' and status in ('bounced', 'deferred') and recipient in (select recipient from full_boxes)
      union all
      select 'domain', domain, 'domain_dead', 1, e.*
        from ev e where (status = 'bounced' and class = 'domain_dead') or (status = 'expired' and cause_class = 'domain_dead')
      union all
      select 'domain', domain, 'domain_failures', 2, f.*
        from failures f where f.domain in (select domain from failing_domains)
    ),
    best as (
      select distinct on (kind, value) kind, value, verdict from hits
      where value is not null and value <> '' order by kind, value, priority
    )
    select b.kind, b.value, b.verdict as reason,
      min(h.ts) as first_seen, max(h.ts) as last_seen,
      jsonb_build_object(
        'class', (array_agg(coalesce(h.cause_class, h.class) order by h.ts desc, h.id desc))[1],
        'count', count(*),
        'recipients', count(distinct h.recipient),
        'days', count(distinct h.day),
        'firstSeen', min(h.ts), 'lastSeen', max(h.ts),
        'dsn', (array_agg(h.dsn order by h.ts desc, h.id desc))[1],
        'status', (array_agg(h.status order by h.ts desc, h.id desc))[1],
        'sampleRecipient', (array_agg(h.recipient order by h.ts desc, h.id desc))[1],
        'sampleEventId', (array_agg(h.id order by h.ts desc, h.id desc))[1]
      ) as evidence
    from best b join hits h on h.kind = b.kind and h.value = b.value and h.verdict = b.verdict
    group by b.kind, b.value, b.verdict`.execute(trx);
  // The sample line: the raw reason of the newest event, looked up once per verdict.
  await sql`
    update pg_temp.scrub_verdicts v
    set evidence = v.evidence || jsonb_build_object('sample', d.reason, 'relay', d.relay)
    from delivery_events d where d.id = (v.evidence->>'sampleEventId')::bigint`.execute(trx);
}

export interface SuppressionChanges {
  addresses: number;
  domains: number;
  updated: number;
}

export async function applySuppressionPolicies(trx: Transaction<Database>, p: SuppressionPolicy, runId: number): Promise<SuppressionChanges> {
  await computeVerdicts(trx, p);
  const days = p.suppressionExpiryDays;
  const expiry = days === null ? sql`null::timestamptz` : sql`v.last_seen + make_interval(days => ${days})`;
  const updated = await sql`
    update suppressions s set
      reason = v.reason, evidence = v.evidence,
      first_seen = least(s.first_seen, v.first_seen), last_seen = greatest(s.last_seen, v.last_seen),
      expires_at = ${days === null ? sql`null::timestamptz` : sql`greatest(s.last_seen, v.last_seen) + make_interval(days => ${days})`},
      updated_at = now()
    from pg_temp.scrub_verdicts v
    where s.kind = v.kind and s.value = v.value and s.lifted_at is null and s.source = 'scrub'
      and (s.evidence is distinct from v.evidence or s.reason <> v.reason)`.execute(trx);
  const inserted = await sql<{ kind: SuppressionKind }>`
    insert into suppressions (kind, value, reason, source, evidence, first_seen, last_seen, expires_at, created_run_id)
    select v.kind, v.value, v.reason, 'scrub', v.evidence, v.first_seen, v.last_seen, ${expiry}, ${runId}::bigint
    from pg_temp.scrub_verdicts v
    where not exists (select 1 from suppressions s where s.kind = v.kind and s.value = v.value and s.lifted_at is null)
      and not exists (select 1 from suppressions s where s.kind = v.kind and s.value = v.value and s.lifted_at >= v.last_seen)
    returning kind`.execute(trx);
  return {
    addresses: inserted.rows.filter((r) => r.kind === 'address').length,
    domains: inserted.rows.filter((r) => r.kind === 'domain').length,
    updated: Number(updated.numAffectedRows ?? 0),
  };
}

/** An address (has @) or a domain, normalized the way suppressions store them. */
export function parseSubject(subject: string): { kind: SuppressionKind; value: string } {
  const v = subject.trim().toLowerCase().replace(/^mailto:/, '').replace(/\.$/, '');
  if (!v || /\s/.test(v)) throw new InputError(`"${subject}" is not an address or a domain. Give e.g. driver@example.com or example.com.`);
  if (v.includes('@')) {
    const [local, domain] = [v.slice(0, v.lastIndexOf('@')), v.slice(v.lastIndexOf('@') + 1)];
    if (!local || !domain.includes('.')) throw new InputError(`"${subject}" is not a complete address (local@domain.tld).`);
    return { kind: 'address', value: v };
  }
  if (!v.includes('.')) throw new InputError(`"${subject}" is not a domain (expected e.g. example.com).`);
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
