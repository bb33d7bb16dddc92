/**
 * The verdict cache in PostgreSQL (table mx_domains): which domains need a check, and saving a
 * batch of observations. Every write is one statement for the whole batch (a JSON recordset), and
 * which verdict wins follows src/mx/precedence.ts (the later observation, then the tie rules).
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { MxConfig } from './config.ts';
import { precedenceKey, wins } from './precedence.ts';
import { mergeCheck, type PreviousVerdict, type StoredVerdict } from './merge.ts';
import type { MxVerdict } from './tables.ts';
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

export interface SavedChecks {
  /** Every observation merged with its stored verdict, in the order given. */
  rows: StoredVerdict[];
  /** The domains whose row was written; the others keep a stored verdict that wins (precedence.ts). */
  written: Set<string>;
}

/** Merges each observation with the stored verdict and writes the batch in one transaction. */
export async function saveChecks(db: Kysely<Database>, checks: readonly DomainCheck[], ctx: { now: Date; runId: number | null; config: MxConfig }): Promise<SavedChecks> {
  if (!checks.length) return { rows: [], written: new Set() };
  return db.transaction().execute(async (trx) => {
    const prev = await previousVerdicts(trx, checks.map((c) => c.domain));
    const rows = checks.map((c) => mergeCheck(prev.get(c.domain), c, ctx));
    return { rows, written: await upsertVerdicts(trx, rows, ctx.now) };
  });
}

/**
 * Inserts or replaces verdicts, one statement; a stored row that wins by precedence.ts is kept, and
 * so is the first of several rows of one domain that tie. Returns the domains written.
 */
export async function upsertVerdicts(db: Executor, rows: readonly StoredVerdict[], at: Date): Promise<Set<string>> {
  if (!rows.length) return new Set();
  const payload = JSON.stringify(rows.map((row, ord) => ({ ...row, ord })));
  // ON CONFLICT cannot touch a row twice: one row per domain, the winner by the same rule.
  const written = await writeWinners(
    db,
    sql`select distinct on (r.domain) r.*
      from jsonb_to_recordset(${payload}::jsonb) as r(domain text, verdict text, reason text, provider text, mx_hosts text[],
        mx_preferences integer[], addresses text[], ttl_seconds integer, checked_at timestamptz, expires_at timestamptz,
        dead_since timestamptz, last_error text, unknown_since timestamptz, unknown_days integer, last_unknown_day date,
        source text, run_id bigint, ord bigint)
      order by r.domain, ${precedenceKey('r')} desc, r.ord`,
    at,
  );
  return new Set(written.map((x) => x.domain));
}

/**
 * Writes the rows of `source` (one per domain, with every mx_domains column but updated_at) where
 * they win over the stored row by precedence.ts. Returns what was written.
 */
/** `at` is the run's clock: updated_at, like every time the product writes, never comes from SQL now(). */
export async function writeWinners(db: Executor, source: RawBuilder<unknown>, at: Date): Promise<{ domain: string; verdict: MxVerdict; provider: string | null }[]> {
  const r = await sql<{ domain: string; verdict: MxVerdict; provider: string | null }>`
    insert into mx_domains as m (domain, verdict, reason, provider, mx_hosts, mx_preferences, addresses, ttl_seconds,
      checked_at, expires_at, dead_since, last_error, unknown_since, unknown_days, last_unknown_day, source, run_id, updated_at)
    select r.domain, r.verdict, r.reason, r.provider, coalesce(r.mx_hosts, '{}'), coalesce(r.mx_preferences, '{}'), coalesce(r.addresses, '{}'),
      r.ttl_seconds, r.checked_at, r.expires_at, r.dead_since, r.last_error, r.unknown_since, r.unknown_days, r.last_unknown_day,
      r.source, r.run_id, ${at}::timestamptz
    from (${source}) r
    on conflict (domain) do update set
      verdict = excluded.verdict, reason = excluded.reason, provider = excluded.provider, mx_hosts = excluded.mx_hosts,
      mx_preferences = excluded.mx_preferences, addresses = excluded.addresses, ttl_seconds = excluded.ttl_seconds,
      checked_at = excluded.checked_at, expires_at = excluded.expires_at, dead_since = excluded.dead_since,
      last_error = excluded.last_error, unknown_since = excluded.unknown_since, unknown_days = excluded.unknown_days,
      last_unknown_day = excluded.last_unknown_day, source = excluded.source, run_id = excluded.run_id, updated_at = excluded.updated_at
    where ${wins('excluded', 'm')}
    returning m.domain, m.verdict, m.provider`.execute(db);
  return r.rows;
}
