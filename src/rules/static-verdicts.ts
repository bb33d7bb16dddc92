/**
 * The static rules' verdicts kept between runs (issue #15). Judging every rule over the 770k
 * addresses of a census-scale audience took most of `plan`'s and the build summary's seconds, and
 * most rules (ExclusionRule.static: syntax, test records, the Yahoo family by name, disposable,
 * typos, shared and role addresses) say the same of an address until its e-mail or carrier data
 * changes. So their verdicts are kept in static_links (sql/0024), one row per carrier-address link
 * with the carrier's segment columns beside it, and only the rules that depend on the date, the
 * clock, the ledger, suppressions, holds or opt-outs are judged at run time (static-count.ts).
 *
 * The kept set is used only while its key is the current one:
 * - the sum of static_input_changes, which a statement trigger on every table of
 *   STATIC_INPUT_TABLES bumps in the writing transaction (any writer: a stage, a fixture, psql);
 * - the runs of the stages that write those tables (a second witness, should a load ever bypass
 *   triggers);
 * - the fingerprint of the static rules as they would run now: their SQL and parameters (which
 *   carry the configuration they read and the lists they match), the allowlist, the reason-code
 *   layout and LAYOUT_VERSION.
 * The key is read before the data it covers, in the rebuild's transaction: a write that commits
 * meanwhile is newer than the key, so the next run rebuilds again; it can never be older.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { InternalError } from '../errors.ts';
import { tuneSelection } from '../push/session.ts';
import { ALLOWLIST_NEVER_OVERRIDES, allowlistedAddresses, candidateExclusionHits, createCandidates, evaluateExclusionsOnDays, sameCompiledQuery } from './engine.ts';
import { REASON_CODES } from './reason-codes.ts';
import type { ExclusionRule, RuleContext } from './rule.ts';

/**
 * Every table a static rule, or the copy of the carriers' segment columns, reads (sql/0024 puts the
 * trigger on each). Not mx_domains: the nightly check-mx writes it every night, so rules reading it
 * kept here made the first plan or build of every day rebuild the whole set (13.6 s at census
 * scale) for a few hundred changed domains. The MX rules are judged at run time over the ~84k
 * distinct domains instead (static_domains, a partial index each: sql/0025), which costs
 * milliseconds.
 */
export const STATIC_INPUT_TABLES = ['emails', 'email_reasons', 'carrier_emails', 'carriers'] as const;

/** The stages that write STATIC_INPUT_TABLES. */
const WRITER_STAGES = ['ingest-census', 'normalize'];

/** Bump when what static_links holds, or how it is made, changes (2: no MX codes kept). */
const LAYOUT_VERSION = 2;

/** Taken by a rebuild: two commands that find the set stale rebuild it once. */
const REBUILD_LOCK = 'audience:static-verdicts';

export function staticRules(rules: readonly ExclusionRule[]): ExclusionRule[] {
  return rules.filter((r) => r.static);
}

/** SQL: the bit of `code` in static_links.codes (bit i: REASON_CODES[i]). */
export function codeBit(code: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`(1 << (array_position(${[...REASON_CODES]}::text[], ${code}) - 1))`;
}

/**
 * The static rules' fingerprint as they would run with `config`. Each rule's SQL is compiled for
 * two far-apart dates and clocks: a rule marked static whose SQL changes with them is a bug, and
 * refused here rather than kept stale.
 */
export function staticFingerprint(db: Kysely<Database>, config: Config, rules: readonly ExclusionRule[]): string {
  const h = createHash('sha256');
  const part = (s: string) => h.update(`${s.length}:${s}`);
  part(String(LAYOUT_VERSION));
  part(REASON_CODES.join(','));
  part([...ALLOWLIST_NEVER_OVERRIDES].sort().join(','));
  const a: RuleContext = { config, date: '2001-01-01', now: new Date('2001-01-01T00:00:00Z') };
  const b: RuleContext = { config, date: '2099-12-31', now: new Date('2099-12-31T23:59:59Z') };
  part(JSON.stringify(allowlistedAddresses(a)));
  for (const rule of staticRules(rules)) {
    const q = (ctx: RuleContext) => (rule.domainHits ? rule.domainHits(ctx) : rule.hits(ctx)).compile(db);
    const x = q(a);
    if (!sameCompiledQuery(x, q(b))) throw new InternalError(`rule ${rule.code} is marked static but its SQL changes with the date or the clock: remove \`static\` from it`);
    part(`${rule.code}:${rule.domainHits ? 'domain' : 'address'}`);
    part(x.sql);
    for (const p of x.parameters) part(typeof p === 'string' ? p : JSON.stringify(p));
  }
  return h.digest('hex');
}

export interface StaticKey {
  inputChanges: string;
  runsMark: string;
  fingerprint: string;
}

/** The key the kept set must have to be used now. */
export async function currentKey(trx: Transaction<Database>, fingerprint: string): Promise<StaticKey> {
  const r = await sql<{ changes: string; runs: string }>`
    select (select coalesce(sum(changes), 0)::text from static_input_changes) as changes,
           (select coalesce(max(id), 0) || '/' || count(*) filter (where finished_at is not null) from runs where stage = any(${WRITER_STAGES}::text[])) as runs`.execute(trx);
  const row = r.rows[0]!;
  return { inputChanges: row.changes, runsMark: row.runs, fingerprint };
}

/** Whether static_links and static_domains were built at `key`. */
export async function keptAt(trx: Transaction<Database>, key: StaticKey): Promise<boolean> {
  const r = await sql<{ input_changes: string; runs_mark: string; fingerprint: string }>`
    select input_changes::text as input_changes, runs_mark, fingerprint from static_verdicts_state`.execute(trx);
  const s = r.rows[0];
  return !!s && s.input_changes === key.inputChanges && s.runs_mark === key.runsMark && s.fingerprint === key.fingerprint;
}

/**
 * Rebuilds the kept set from the tables as they are, in one transaction (a crash leaves the set it
 * had, with its own key). Under REBUILD_LOCK: a command that waited for another's rebuild finds the
 * set current and does nothing.
 */
export async function rebuildStaticVerdicts(db: Kysely<Database>, config: Config, rules: readonly ExclusionRule[], now: Date, fingerprint: string): Promise<{ rebuilt: boolean }> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${REBUILD_LOCK}))`.execute(trx);
    const key = await currentKey(trx, fingerprint);
    if (await keptAt(trx, key)) return { rebuilt: false };
    await tuneSelection(trx);
    // Every address a carrier lists, judged by the static rules through the engine, as the
    // counting path judged them (one date: a static rule says the same on any).
    // Listed by a carrier: by the count the normalize keeps exact with the links (shared_address
    // judges by it too). The semi-join with carrier_emails it replaced was planned, while the
    // link table had no statistics yet (the first plan after a census load), as 1.5M index probes:
    // 12 s, where reading the count takes 0.6 s.
    const addresses = await createCandidates(
      trx,
      sql`select e.id as email_id, e.address as email, e.domain, e.carrier_count from emails e where e.carrier_count > 0`,
    );
    const ctx = { config, now };
    await evaluateExclusionsOnDays(trx, ctx, staticRules(rules), [now.toISOString().slice(0, 10)]);
    await sql`drop table if exists pg_temp.static_codes`.execute(trx);
    await sql`create temp table static_codes on commit drop as
      select h.email_id, bit_or(${codeBit(sql`h.code`)}) as codes from (${candidateExclusionHits(ctx)}) h group by h.email_id`.execute(trx);
    await sql`truncate static_links, static_domains`.execute(trx);
    // Every link, joined by the keys' order: carrier_emails' and carriers' primary keys walked
    // together, the pairs sorted by address id and walked with the candidates' index. Left to
    // itself the planner hashed all 2.1M carriers and 1.5M candidates (4.1 s against 2.6 s). Not
    // nested loops either: they are what it picks when the link table has no statistics yet.
    await sql`set local enable_hashjoin = off`.execute(trx);
    await sql`set local enable_nestloop = off`.execute(trx);
    const links = await sql`
      insert into static_links (email_id, dot_number, status, add_date, mcs150_date, domain, codes, shared)
      select ce.email_id, ce.dot_number, k.status, k.add_date, k.mcs150_date, c.domain, coalesce(v.codes, 0), c.carrier_count > 1
      from carrier_emails ce
      join carriers k on k.dot_number = ce.dot_number
      join pg_temp.candidates c on c.email_id = ce.email_id
      left join pg_temp.static_codes v on v.email_id = ce.email_id`.execute(trx);
    await sql`set local enable_hashjoin = default`.execute(trx);
    await sql`set local enable_nestloop = default`.execute(trx);
    await sql`insert into static_domains (domain, n) select domain, count(*) from emails where domain is not null group by domain`.execute(trx);
    await sql`analyze static_links`.execute(trx);
    await sql`analyze static_domains`.execute(trx);
    await sql`
      insert into static_verdicts_state (id, input_changes, runs_mark, fingerprint, built_at, addresses, links)
      values (true, ${key.inputChanges}::bigint, ${key.runsMark}, ${key.fingerprint}, ${now}::timestamptz, ${addresses}::int, ${Number(links.numAffectedRows ?? 0)}::int)
      on conflict (id) do update set input_changes = excluded.input_changes, runs_mark = excluded.runs_mark, fingerprint = excluded.fingerprint,
        built_at = excluded.built_at, addresses = excluded.addresses, links = excluded.links`.execute(trx);
    return { rebuilt: true };
  });
}
