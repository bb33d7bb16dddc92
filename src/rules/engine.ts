/**
 * Evaluates every exclusion rule against a candidate set in one transaction. The candidates and the
 * hits live in temp tables dropped at commit, so the build, `plan` and `explain` share one path.
 */
import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { normalizeAddress } from '../email/normalize.ts';
import type { ReasonCode } from './reason-codes.ts';
import type { ExclusionRule, RuleContext } from './rule.ts';

/**
 * Creates `candidates (email_id, email, domain)` from `select` (which must yield those three
 * columns), and `candidate_domains (domain, n)` of their distinct domains, and returns how many
 * candidates there are. Must run inside a transaction (temp tables are
 * per session, and dropped at commit). With `index` false the candidates get no index on
 * email_id: a caller judging a census-scale audience, whose rules hash-join the candidates, need
 * not build one for 800k rows (~0.2 s); a few candidates are probed by it.
 */
export async function createCandidates(
  trx: Transaction<Database>,
  select: RawBuilder<{ email_id: number; email: string; domain: string }>,
  opts: { index?: boolean } = {},
): Promise<number> {
  await sql`drop table if exists pg_temp.candidates`.execute(trx);
  // Created empty, then filled: the insert counts its rows, where a second scan of the table did.
  await sql`create temp table candidates on commit drop as ${select} with no data`.execute(trx);
  const filled = await sql`insert into pg_temp.candidates ${select}`.execute(trx);
  if (opts.index ?? true) await sql`create unique index on pg_temp.candidates (email_id)`.execute(trx);
  await sql`analyze pg_temp.candidates`.execute(trx);
  // The candidates' distinct domains, once: the domain rules match each domain (addresses share
  // them heavily) and join back; deduplicating 770k candidates per rule cost ~0.4 s each.
  await sql`drop table if exists pg_temp.candidate_domains`.execute(trx);
  // With how many candidates each has: a count per domain rule is a sum over its domains.
  await sql`create temp table candidate_domains on commit drop as select domain, count(*)::int as n from pg_temp.candidates where domain is not null group by domain`.execute(trx);
  await sql`analyze pg_temp.candidate_domains`.execute(trx);
  return Number(filled.numAffectedRows ?? 0);
}

/**
 * Codes an email.allowlist entry can never override: what protects the IP and the law (Yahoo
 * family, FMCSA test data, suppressions and operator blocks, dead domains, provider holds,
 * cooldown, a recipient's opt-out) and what no MTA would accept (invalid syntax). The allowlist skips only the soft,
 * heuristic rules: typo_domain, shared_address, disposable, role_account, mx_unknown.
 */
export const ALLOWLIST_NEVER_OVERRIDES: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  'yahoo_family',
  'fmcsa_test_record',
  'suppressed_address',
  'suppressed_domain',
  'mx_dead',
  'provider_hold',
  'cooldown',
  'invalid_syntax',
  'opted_out',
]);

/** The allowlist entries as normalized addresses (the form of candidates.email); invalid ones match nothing. */
export function allowlistedAddresses(ctx: RuleContext): string[] {
  return ctx.config.email.allowlist.map(normalizeAddress).filter((a) => a.valid).map((a) => a.address);
}

/** A `where` on a rule's hits `h`: an email.allowlist entry is spared the rules it may override. */
function skipAllowlisted(rule: ExclusionRule, allowlist: string[]): RawBuilder<unknown> {
  return allowlist.length && !ALLOWLIST_NEVER_OVERRIDES.has(rule.code)
    ? sql`where not exists (select 1 from pg_temp.candidates a where a.email_id = h.email_id and a.email = any(${allowlist}::text[]))`
    : sql``;
}

/** The most send dates evaluateExclusionsOnDays judges at once (bits of a bigint, the sign bit spared). */
export const MAX_JUDGED_DAYS = 62;

/**
 * Every rule over `candidates` for several consecutive send dates at once: bit i of a hit's `days`
 * set when the rule excludes the address on days[i]. What evaluateExclusions would say date by
 * date, without judging the candidates once per date: a rule whose SQL is the same for every date
 * (all but the cooldown: suppressions, holds and verdicts are judged at the run's clock, not the
 * send date's) runs once for all of them; a date-dependent rule through its hitDays() in one
 * statement, or, without one, date by date. No evidence text is built: the callers count.
 *
 * The hits stay in two temp tables, read through candidateExclusionDays() and
 * candidateExclusionHits(): `exclusion_day_hits (email_id, code, days)` of the address rules, and
 * `domain_day_hits (domain, code, soft, days)` of the domain rules (domainHits), judged once per
 * distinct candidate domain and not joined back to the candidates here: on the census-scale
 * audience, 77k domains against 770k addresses, writing a row per excluded address (175k) and
 * grouping them again by address cost ~0.5 s, where the readers look each candidate's domain up
 * in the few domain verdicts as they pass over the candidates anyway.
 */
export async function evaluateExclusionsOnDays(
  trx: Transaction<Database>,
  ctx: Omit<RuleContext, 'date'>,
  rules: readonly ExclusionRule[],
  days: readonly string[],
): Promise<void> {
  if (days.length < 1 || days.length > MAX_JUDGED_DAYS) throw new RangeError(`evaluateExclusionsOnDays: 1 to ${MAX_JUDGED_DAYS} days, got ${days.length}`);
  await sql`drop table if exists pg_temp.exclusion_day_hits`.execute(trx);
  await sql`create temp table exclusion_day_hits (email_id bigint not null, code text not null, days bigint not null) on commit drop`.execute(trx);
  const allowlist = allowlistedAddresses({ ...ctx, date: days[0]! });
  const every = (1n << BigInt(days.length)) - 1n;
  await sql`drop table if exists pg_temp.domain_day_hits`.execute(trx);
  // `soft`: an email.allowlist entry is spared the code (candidateExclusionDays/Hits apply it per address).
  await sql`create temp table domain_day_hits (domain text not null, code text not null, soft boolean not null, days bigint not null) on commit drop`.execute(trx);
  for (const rule of rules.filter((r) => r.domainHits)) {
    const soft = !ALLOWLIST_NEVER_OVERRIDES.has(rule.code);
    for (const { q, days: mask } of byDays(trx, days, every, (date) => rule.domainHits!({ ...ctx, date })))
      await sql`insert into pg_temp.domain_day_hits (domain, code, soft, days)
        select distinct v.domain, ${rule.code}, ${soft}::boolean, ${String(mask)}::bigint from (${q}) as v`.execute(trx);
  }
  await sql`analyze pg_temp.domain_day_hits`.execute(trx);
  for (const rule of rules.filter((r) => !r.domainHits)) {
    const skip = skipAllowlisted(rule, allowlist);
    // hitDays() for a single date too: it says what hits() says (a test holds them together)
    // without the evidence text hits() builds for every ledger row in the window.
    if (rule.hitDays) {
      await sql`insert into pg_temp.exclusion_day_hits (email_id, code, days)
        select h.email_id, ${rule.code}, h.days::bigint from (${rule.hitDays({ ...ctx, date: days[0]! }, days)}) as h ${skip}`.execute(trx);
      continue;
    }
    for (const { q, days: mask } of byDays(trx, days, every, (date) => rule.hits({ ...ctx, date })))
      await sql`insert into pg_temp.exclusion_day_hits (email_id, code, days)
        select h.email_id, ${rule.code}, ${String(mask)}::bigint from (${q}) as h ${skip}`.execute(trx);
  }
  // Counted against the candidates next: unanalyzed, the planner took its 230k hits for 18k and
  // probed the candidates' index once per hit (1.8 s of CPU at census scale, against 0.2 s hashed).
  await sql`analyze pg_temp.exclusion_day_hits`.execute(trx);
}

/** SQL: whether candidate `c` is an email.allowlist entry, spared the soft domain codes. */
function allowlisted(ctx: Omit<RuleContext, 'date'>): RawBuilder<boolean> {
  const allowlist = allowlistedAddresses({ ...ctx, date: '' });
  return allowlist.length ? sql<boolean>`c.email = any(${allowlist}::text[])` : sql<boolean>`false`;
}

/**
 * SQL over the hits of evaluateExclusionsOnDays (same `ctx`): every candidate's columns and
 * `excluded_days`, the days some rule excludes it on (0 when it is eligible on every day), in one
 * pass over the candidates.
 */
export function candidateExclusionDays<C>(ctx: Omit<RuleContext, 'date'>): RawBuilder<C & { excluded_days: string }> {
  return sql<C & { excluded_days: string }>`
    select c.*, coalesce(d.hard, 0) | case when ${allowlisted(ctx)} then 0 else coalesce(d.soft, 0) end | coalesce(a.days, 0) as excluded_days
    from pg_temp.candidates c
    left join (select domain, bit_or(days) filter (where not soft) as hard, bit_or(days) filter (where soft) as soft
               from pg_temp.domain_day_hits group by domain) d on d.domain = c.domain
    left join (select email_id, bit_or(days) as days from pg_temp.exclusion_day_hits group by email_id) a on a.email_id = c.email_id`;
}

/**
 * SQL over the hits of evaluateExclusionsOnDays (same `ctx`) for a single date: `code, n`, how
 * many candidates each code excludes. A domain rule's count is the sum over its domains of their
 * candidates (candidate_domains.n), less the allowlisted candidates it spares, so the candidates
 * are not joined to the domain verdicts once more; an address rule's is its distinct addresses.
 * Null when a code is reported by both kinds of rule (an address would count under both): then
 * count candidateExclusionHits().
 */
export function singleDateCodeCounts(ctx: Omit<RuleContext, 'date'>, rules: readonly ExclusionRule[]): RawBuilder<{ code: ReasonCode; n: number }> | null {
  const domainCodes = new Set(rules.filter((r) => r.domainHits).map((r) => r.code));
  if (rules.some((r) => !r.domainHits && domainCodes.has(r.code))) return null;
  const spared = allowlistedAddresses({ ...ctx, date: '' }).length
    ? sql`union all
          select v.code, -count(*) from pg_temp.candidates c
          join (select distinct domain, code from pg_temp.domain_day_hits where soft) v on v.domain = c.domain
          where ${allowlisted(ctx)}
          group by v.code`
    : sql``;
  return sql<{ code: ReasonCode; n: number }>`
    select code, sum(n)::int as n from (
      select h.code, count(distinct h.email_id) as n from pg_temp.exclusion_day_hits h group by h.code
      union all
      select v.code, sum(d.n) from (select distinct domain, code from pg_temp.domain_day_hits) v
      join pg_temp.candidate_domains d on d.domain = v.domain
      group by v.code
      ${spared}
    ) x
    group by code
    having sum(n) > 0`;
}

/**
 * SQL over the hits of evaluateExclusionsOnDays (same `ctx`): `email_id, code, days` of every hit
 * on a candidate, the domain rules' joined to the candidates of their domains (an address may have
 * several rows for one code).
 */
export function candidateExclusionHits(ctx: Omit<RuleContext, 'date'>): RawBuilder<{ email_id: number; code: ReasonCode; days: string }> {
  return sql<{ email_id: number; code: ReasonCode; days: string }>`
    select h.email_id, h.code, h.days from pg_temp.exclusion_day_hits h
    union all
    select c.email_id, v.code, v.days from pg_temp.candidates c join pg_temp.domain_day_hits v on v.domain = c.domain
    where not (v.soft and ${allowlisted(ctx)})`;
}

/**
 * A rule's SQL for `days` as the statements to run with the day bits each one covers: one for all
 * of them when the SQL is the same on every date (suppressions, holds and verdicts are judged at the
 * run's clock, not the send date's), else one per date.
 */
function byDays<T>(trx: Transaction<Database>, days: readonly string[], every: bigint, sqlOn: (date: string) => RawBuilder<T>): { q: RawBuilder<T>; days: bigint }[] {
  const perDay = days.map(sqlOn);
  const first = perDay[0]!.compile(trx);
  if (perDay.every((q) => sameCompiledQuery(q.compile(trx), first))) return [{ q: perDay[0]!, days: every }];
  return perDay.map((q, i) => ({ q, days: 1n << BigInt(i) }));
}

/** At most this many distinct candidate domains are handed to the rules (RuleContext.candidateDomains). */
const FEW_DOMAINS = 5000;

/** `ctx` with the candidates' domains when they are few (explain, the build's judged prefix). */
async function withFewCandidateDomains(trx: Transaction<Database>, ctx: RuleContext): Promise<RuleContext> {
  const r = await sql<{ domain: string }>`select domain from pg_temp.candidate_domains limit ${FEW_DOMAINS + 1}::int`.execute(trx);
  return r.rows.length <= FEW_DOMAINS ? { ...ctx, candidateDomains: r.rows.map((x) => x.domain) } : ctx;
}

/**
 * Whether two compiled queries are the same statement with the same parameter values. Compared
 * value by value rather than as JSON: the disposable rule's parameters are two 65k-element arrays,
 * and serializing them for each day of a plan cost more than a second.
 */
export function sameCompiledQuery(a: { sql: string; parameters: readonly unknown[] }, b: { sql: string; parameters: readonly unknown[] }): boolean {
  return a.sql === b.sql && sameValue(a.parameters, b.parameters);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  // Anything else (a Date, a plain object) as its parameter text would be: what JSON said before.
  return typeof a === 'object' && typeof b === 'object' && a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Runs every rule over `candidates` into the temp table `exclusion_hits (email_id, code, detail,
 * since)`. Returns the number of excluded addresses per code (an address can count under
 * several codes).
 */
export async function evaluateExclusions(
  trx: Transaction<Database>,
  ctx: RuleContext,
  rules: readonly ExclusionRule[],
): Promise<Partial<Record<ReasonCode, number>>> {
  await sql`drop table if exists pg_temp.exclusion_hits`.execute(trx);
  await sql`create temp table exclusion_hits (email_id bigint not null, code text not null, detail text, since timestamptz) on commit drop`.execute(trx);
  const allowlist = allowlistedAddresses(ctx);
  const judged = await withFewCandidateDomains(trx, ctx);
  for (const rule of rules) {
    await sql`insert into pg_temp.exclusion_hits (email_id, code, detail, since)
      select h.email_id, ${rule.code}, h.detail, h.since from (${rule.hits(judged)}) as h ${skipAllowlisted(rule, allowlist)}`.execute(trx);
  }
  await sql`create index on pg_temp.exclusion_hits (email_id)`.execute(trx);
  const counts = await sql<{ code: ReasonCode; n: number }>`
    select code, count(distinct email_id)::int as n from pg_temp.exclusion_hits group by code order by code`.execute(trx);
  return Object.fromEntries(counts.rows.map((r) => [r.code, r.n]));
}

/** The candidates no rule excludes, as SQL to build on (`select ... from eligible_candidates`). */
export const eligibleCandidates = sql`(select c.* from pg_temp.candidates c
  where not exists (select 1 from pg_temp.exclusion_hits h where h.email_id = c.email_id))`;
