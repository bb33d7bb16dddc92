/**
 * The verdict cache in PostgreSQL (table mx_domains): which domains need a check, and saving a
 * batch of observations. Every write is one statement for the whole batch (a JSON recordset), and
 * a row observed earlier never overwrites one observed later (imports of old snapshots are safe).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { MxConfig } from './config.ts';
import { mergeCheck, type PreviousVerdict, type StoredVerdict } from './merge.ts';
import type { DomainCheck } from './verdict.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * Domains of candidate addresses (valid rows of `emails`) whose verdict is missing or expired at
 * `now`, in name order. Yahoo-family domains are included on purpose: classifying them is cheap and
 * informative, and nothing here makes an address eligible.
 */
export async function domainsNeedingCheck(db: Executor, now: Date): Promise<string[]> {
  const r = await sql<{ domain: string }>`
    select distinct e.domain from emails e
    where e.valid and e.domain is not null and e.domain <> ''
      and not exists (select 1 from mx_domains m where m.domain = e.domain and m.expires_at > ${now}::timestamptz)
    order by e.domain`.execute(db);
  return r.rows.map((x) => x.domain);
}

export async function previousVerdicts(db: Executor, domains: readonly string[]): Promise<Map<string, PreviousVerdict>> {
  if (!domains.length) return new Map();
  const rows = await db
    .selectFrom('mx_domains')
    .select(['domain', 'verdict', 'provider', 'mx_hosts', 'mx_preferences', 'addresses', 'dead_since', 'unknown_since', 'unknown_days', 'last_unknown_day'])
    .where('domain', '=', sql<string>`any(${[...domains]}::text[])`)
    .execute();
  return new Map(rows.map((r) => [r.domain, r]));
}

/** Merges each observation with the stored verdict and writes the batch in one transaction. */
export async function saveChecks(db: Kysely<Database>, checks: readonly DomainCheck[], ctx: { now: Date; runId: number | null; config: MxConfig }): Promise<StoredVerdict[]> {
  if (!checks.length) return [];
  return db.transaction().execute(async (trx) => {
    const prev = await previousVerdicts(trx, checks.map((c) => c.domain));
    const rows = checks.map((c) => mergeCheck(prev.get(c.domain), c, ctx));
    await upsertVerdicts(trx, rows);
    return rows;
  });
}

/**
 * Inserts or replaces verdicts, one statement. A stored row whose checked_at is later than the
 * incoming one is kept: the newest observation wins. Returns how many rows were written.
 */
export async function upsertVerdicts(db: Executor, rows: readonly StoredVerdict[]): Promise<number> {
  if (!rows.length) return 0;
  // One domain once per statement (ON CONFLICT cannot touch a row twice): the last one wins.
  const unique = [...new Map(rows.map((r) => [r.domain, r])).values()];
  const payload = JSON.stringify(unique);
  const r = await sql`
    insert into mx_domains as m (domain, verdict, reason, provider, mx_hosts, mx_preferences, addresses, ttl_seconds,
      checked_at, expires_at, dead_since, last_error, unknown_since, unknown_days, last_unknown_day, source, run_id, updated_at)
    select r.domain, r.verdict, r.reason, r.provider, coalesce(r.mx_hosts, '{}'), coalesce(r.mx_preferences, '{}'), coalesce(r.addresses, '{}'),
      r.ttl_seconds, r.checked_at, r.expires_at, r.dead_since, r.last_error, r.unknown_since, r.unknown_days, r.last_unknown_day,
      r.source, r.run_id, now()
    from jsonb_to_recordset(${payload}::jsonb) as r(domain text, verdict text, reason text, provider text, mx_hosts text[],
      mx_preferences integer[], addresses text[], ttl_seconds integer, checked_at timestamptz, expires_at timestamptz,
      dead_since timestamptz, last_error text, unknown_since timestamptz, unknown_days integer, last_unknown_day date,
      source text, run_id bigint)
    on conflict (domain) do update set
      verdict = excluded.verdict, reason = excluded.reason, provider = excluded.provider, mx_hosts = excluded.mx_hosts,
      mx_preferences = excluded.mx_preferences, addresses = excluded.addresses, ttl_seconds = excluded.ttl_seconds,
      checked_at = excluded.checked_at, expires_at = excluded.expires_at, dead_since = excluded.dead_since,
      last_error = excluded.last_error, unknown_since = excluded.unknown_since, unknown_days = excluded.unknown_days,
      last_unknown_day = excluded.last_unknown_day, source = excluded.source, run_id = excluded.run_id, updated_at = now()
    where m.checked_at <= excluded.checked_at`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
