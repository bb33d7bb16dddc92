/**
 * The kept static verdicts (src/rules/static-verdicts.ts, static-count.ts) against the path that
 * judges every rule over the gathered audience (judgeDatesDirectly): after each change to what the
 * static rules read — a re-normalize's writes, a census refresh, the allowlist and the
 * role-account setting, a rule's SQL — and to what the run-time rules read (a suppression, an MX
 * verdict turning dead, a domain found hosted at Yahoo), the counts of `plan`'s days and of one build date are the reference's at once, and
 * the kept set was rebuilt exactly when its inputs changed. A stale kept set would show here as a
 * count that differs.
 */
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { InternalError } from '../src/errors.ts';
import { judgeDates, judgeDatesDirectly } from '../src/push/eligibility.ts';
import { RULES } from '../src/rules/index.ts';
import type { ExclusionRule, RuleHit } from '../src/rules/rule.ts';
import { countFromStaticVerdicts } from '../src/rules/static-count.ts';
import { STATIC_INPUT_TABLES, staticFingerprint, staticRules } from '../src/rules/static-verdicts.ts';
import { NORMALIZER_VERSION } from '../src/email/version.ts';
import { SEGMENTS } from '../src/segments/index.ts';
import { addDays } from '../src/warmup/calendar.ts';
import { addHold, addSuppression, DATE, fxConfig, NOW, seedUniverse } from './build-fixture.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const DAYS = Array.from({ length: 14 }, (_, i) => addDays(DATE, i));

async function ledger(db: Kysely<Database>, date: string, address: string, status = 'pushed'): Promise<void> {
  await sql`insert into push_ledger (send_date, segment, address, email_id, dot_number, rank, status, run_id)
    select ${date}::date, 'mcs150', e.address, e.id, 1, 1, ${status}, 1 from emails e where e.address = ${address}`.execute(db);
}

describe('kept static verdicts', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
    await seedUniverse(
      store.db,
      [
        ...Array.from({ length: 6 }, (_, i) => ({ dot: 3000 + i * 10, emails: [`o${i}@mesa-trucking.test`] })),
        // One address listed by two carriers: one new (until 2026-12-19), one due for January from 2026-12-02.
        { dot: 3101, emails: ['shared@roadrunner-freight.test', 'own@roadrunner-freight.test'], added: '2026-11-20' },
        { dot: 3111, emails: ['shared@roadrunner-freight.test'], mcs150: '2024-06-01', added: '2001-01-01' },
        { dot: 3121, emails: ['turns-dead@dying-freight.test'] },
        { dot: 3131, emails: ['postmaster@mesa-trucking.test', 'info@mesa-trucking.test'] },
        { dot: 3141, emails: ['a@yahoo.com', 'b@aol.com'] },
        { dot: 3151, emails: ['x@mailinator.com'] },
        { dot: 3161, emails: ['not an address'] },
        { dot: 3171, emails: ['test@fmcsa-lab.test'], testRecord: true },
        { dot: 3181, emails: ['held@held-google.test'] },
        { dot: 3191, emails: ['cooled@mesa-trucking.test'] },
        { dot: 3201, emails: ['later@cascade-moving.test'], added: '2026-12-05', mcs150: '2026-12-05' },
        { dot: 3211, emails: ['gone@mesa-trucking.test'], status: 'inactive' },
      ],
      { 'held-google.test': { provider: 'google' } },
    );
    await addHold(store.db, 'provider', 'google', new Date(NOW.getTime() + 3 * 86_400_000));
    await ledger(store.db, '2026-11-20', 'cooled@mesa-trucking.test');
  });
  afterAll(async () => {
    await store.close();
  });

  /** The kept path's counts for the plan's days and for DATE, held to the direct path's; returns them and whether it rebuilt. */
  async function same(config: Config, rules: readonly ExclusionRule[] = RULES) {
    const kept = await countFromStaticVerdicts(store.db, config, SEGMENTS, rules, DAYS, NOW, false);
    expect(kept).not.toBeNull();
    const plan = await judgeDates(store.db, config, SEGMENTS, rules, DAYS, NOW, false);
    expect(plan).toEqual(await judgeDatesDirectly(store.db, config, SEGMENTS, rules, DAYS, NOW, false));
    const [day] = await judgeDates(store.db, config, SEGMENTS, rules, [DATE], NOW, true);
    expect(day).toEqual((await judgeDatesDirectly(store.db, config, SEGMENTS, rules, [DATE], NOW, true))[0]);
    return { plan, day: day!, rebuilt: kept!.rebuilt };
  }

  async function stateBuiltAt(): Promise<string> {
    return (await sql<{ b: string }>`select input_changes::text || '/' || runs_mark || '/' || fingerprint as b from static_verdicts_state`.execute(store.db)).rows[0]?.b ?? '';
  }

  it('counts as the direct path, and is rebuilt only when the static inputs change', async () => {
    const config = fxConfig();
    // An address no carrier lists any more (its carrier moved to another): kept in emails, judged by no count.
    await sql`insert into emails (address, local_part, domain, valid, normalizer_version, carrier_count)
      values ('former@mesa-trucking.test', 'former', 'mesa-trucking.test', true, ${NORMALIZER_VERSION}::int, 0)`.execute(store.db);
    const first = await same(config);
    expect(first.rebuilt).toBe(true);
    expect(first.day.excluded).toMatchObject({ yahoo_family: 2, disposable: 1, invalid_syntax: 1, fmcsa_test_record: 1, role_account: 1, provider_hold: 1 });
    // It judged every address a carrier lists and kept every link, as the link table counts them.
    const built = await sql<{ addresses: number; links: number }>`select addresses, links from static_verdicts_state`.execute(store.db);
    const direct = await sql<{ addresses: number; links: number }>`
      select count(distinct ce.email_id)::int as addresses, count(*)::int as links from carrier_emails ce join carriers k using (dot_number)`.execute(store.db);
    expect(built.rows[0]).toEqual(direct.rows[0]);
    const again = await same(config);
    expect(again.rebuilt).toBe(false);
    expect(again).toEqual({ ...first, rebuilt: false });

    // A suppression is judged at run time: the counts change, the kept set stays.
    await addSuppression(store.db, 'address', 'o1@mesa-trucking.test');
    const suppressed = await same(config);
    expect(suppressed.rebuilt).toBe(false);
    expect(suppressed.day.excluded.suppressed_address).toBe(1);
    expect(suppressed.day.eligible.mcs150).toBe(first.day.eligible.mcs150! - 1);
  });

  it('an MX verdict turning dead, or a domain found hosted at Yahoo, is seen at once without a rebuild (check-mx writes every night)', async () => {
    const config = fxConfig();
    const before = await same(config);
    await sql`update mx_domains set verdict = 'dead', reason = 'nxdomain' where domain = 'dying-freight.test'`.execute(store.db);
    const after = await same(config);
    expect(after.rebuilt).toBe(false);
    expect(after.day.excluded.mx_dead).toBe((before.day.excluded.mx_dead ?? 0) + 1);
    expect(after.day.eligible.mcs150).toBe(before.day.eligible.mcs150! - 1);

    // A custom domain found hosted at Yahoo is never mailed from this run on, and a later check
    // that finds it elsewhere gives it back, both without a rebuild.
    const was = (await sql<{ provider: string | null; mx_hosts: string[]; mx_preferences: number[] }>`select provider, mx_hosts, mx_preferences from mx_domains where domain = 'dying-freight.test'`.execute(store.db)).rows[0]!;
    await sql`update mx_domains set provider = 'yahoo', mx_hosts = '{mta5.am0.yahoodns.net}', mx_preferences = '{1}' where domain = 'dying-freight.test'`.execute(store.db);
    const yahoo = await same(config);
    expect(yahoo.rebuilt).toBe(false);
    expect(yahoo.day.excluded.yahoo_family).toBe(after.day.excluded.yahoo_family! + 1);
    await sql`update mx_domains set provider = ${was.provider}, mx_hosts = ${was.mx_hosts}, mx_preferences = ${was.mx_preferences} where domain = 'dying-freight.test'`.execute(store.db);
    const back = await same(config);
    expect(back.rebuilt).toBe(false);
    expect(back).toEqual(after);
  });

  it("a re-normalize's writes (a typo verdict, a new address, a carrier count over the threshold) are seen at once", async () => {
    const config = fxConfig();
    const before = await same(config);
    await sql`insert into email_reasons (email_id, code, detail, since)
      select id, 'typo_domain', 'fixture: a typo', ${NOW}::timestamptz from emails where address = 'o2@mesa-trucking.test'`.execute(store.db);
    const typo = await same(config);
    expect(typo.rebuilt).toBe(true);
    expect(typo.day.excluded.typo_domain).toBe(1);
    await sql`insert into emails (address, local_part, domain, valid, carrier_count, normalizer_version) values ('second@mesa-trucking.test', 'second', 'mesa-trucking.test', true, 1, 1)`.execute(store.db);
    await sql`insert into carrier_emails (dot_number, email_id, position) select 3000, id, 2 from emails where address = 'second@mesa-trucking.test'`.execute(store.db);
    const added = await same(config);
    expect(added.rebuilt).toBe(true);
    expect(added.day.candidates).toBe(typo.day.candidates + 1);
    await sql`update emails set carrier_count = 99 where address = 'o3@mesa-trucking.test'`.execute(store.db);
    const shared = await same(config);
    expect(shared.rebuilt).toBe(true);
    expect(shared.day.excluded.shared_address).toBe(1);
    expect(before.day.excluded.typo_domain).toBeUndefined();
  });

  it('a census refresh (a filing, a carrier gone inactive, a link gone, a test record) is seen at once', async () => {
    const config = fxConfig();
    const before = await same(config);
    await sql`update carriers set mcs150_date = ${DATE}::date where dot_number = 3040`.execute(store.db);
    await sql`update carriers set status = 'inactive' where dot_number = 3050`.execute(store.db);
    await sql`update carriers set is_test_record = true where dot_number = 3030`.execute(store.db);
    await sql`delete from carrier_emails where dot_number = 3111`.execute(store.db);
    const after = await same(config);
    expect(after.rebuilt).toBe(true);
    expect(after.day.candidates).toBeLessThan(before.day.candidates);
    expect(after.day.excluded.fmcsa_test_record).toBe((before.day.excluded.fmcsa_test_record ?? 0) + 1);
    // The shared address lost its due carrier: it is a new carrier's only, and only until 2026-12-19.
    expect(after.plan.map((d) => d.eligible['new-carrier'])).not.toEqual(before.plan.map((d) => d.eligible['new-carrier']));
  });

  it('a change of the allowlist or of email.excludeRoleAccounts rebuilds the kept set', async () => {
    const plain = await same(fxConfig());
    const roles = await same(fxConfig({ email: { excludeRoleAccounts: true } }));
    expect(roles.rebuilt).toBe(true);
    expect(roles.day.excluded.role_account).toBe(2);
    const allowed = await same(fxConfig({ email: { excludeRoleAccounts: true, allowlist: ['info@mesa-trucking.test', 'x@mailinator.com'] } }));
    expect(allowed.rebuilt).toBe(true);
    expect(allowed.day.excluded).toMatchObject({ role_account: 1 });
    expect(allowed.day.excluded.disposable).toBeUndefined();
    expect((await same(fxConfig())).day).toEqual(plain.day);
  });

  it("a rule's SQL (a new version of a static rule) rebuilds the kept set; a static rule that reads the date is refused", async () => {
    const config = fxConfig();
    await same(config);
    const tighter: ExclusionRule = {
      code: 'role_account',
      description: 'test: a newer role-account rule that also excludes o0@',
      static: true,
      hits: () => sql<RuleHit>`select c.email_id, 'test' as detail, null::timestamptz as since from pg_temp.candidates c where c.email = 'o0@mesa-trucking.test'`,
    };
    const rules = [...RULES, tighter];
    const changed = await same(config, rules);
    expect(changed.rebuilt).toBe(true);
    expect(changed.day.excluded.role_account).toBe(2);
    const dated: ExclusionRule = { ...tighter, hits: (ctx) => sql<RuleHit>`select c.email_id, 'test' as detail, null::timestamptz as since from pg_temp.candidates c where ${ctx.date}::date > '2000-01-01'` };
    expect(() => staticFingerprint(store.db, config, [...RULES, dated])).toThrow(InternalError);
  });

  it('a rebuild that fails leaves the kept set it had, keyed as it was', async () => {
    const config = fxConfig();
    await same(config);
    const built = await stateBuiltAt();
    const broken: ExclusionRule = {
      code: 'typo_domain',
      description: 'test: a static rule whose SQL fails',
      static: true,
      hits: () => sql<RuleHit>`select c.email_id, 'test' as detail, null::timestamptz as since from pg_temp.candidates c where c.email::int > 0`,
    };
    await expect(countFromStaticVerdicts(store.db, config, SEGMENTS, [...RULES, broken], DAYS, NOW, false)).rejects.toThrow();
    expect(await stateBuiltAt()).toBe(built);
    expect((await same(config)).rebuilt).toBe(false);
  });

  it('a run of a stage that writes the inputs, or a lost state row (an unlogged table after a crash), rebuilds', async () => {
    const config = fxConfig();
    await same(config);
    await sql`insert into runs (stage, args, status, pid, host, started_at, finished_at) values ('check-mx', '{}', 'ok', 1, 'test', ${NOW}::timestamptz, ${NOW}::timestamptz)`.execute(store.db);
    expect((await same(config)).rebuilt).toBe(false);
    await sql`insert into runs (stage, args, status, pid, host, started_at, finished_at) values ('normalize', '{}', 'ok', 1, 'test', ${NOW}::timestamptz, ${NOW}::timestamptz)`.execute(store.db);
    expect((await same(config)).rebuilt).toBe(true);
    await sql`truncate static_verdicts_state`.execute(store.db);
    expect((await same(config)).rebuilt).toBe(true);
  });

  it('the marker counts a committed writing transaction once, however many statements, and a rolled-back one not at all', async () => {
    const marker = async () => Number((await sql<{ n: string }>`select coalesce(sum(changes), 0)::text as n from static_input_changes`.execute(store.db)).rows[0]!.n);
    const before = await marker();
    await store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 50; i++) await sql`update carriers set legal_name = legal_name where dot_number = 3000`.execute(trx);
    });
    expect(await marker()).toBe(before + 1);
    // check-mx's writes are no input of the kept set (the MX rules are judged at run time).
    await sql`update mx_domains set checked_at = checked_at where domain = 'mesa-trucking.test'`.execute(store.db);
    expect(await marker()).toBe(before + 1);
    await expect(
      store.db.transaction().execute(async (trx) => {
        await sql`update carriers set legal_name = legal_name where dot_number = 3000`.execute(trx);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await marker()).toBe(before + 1);
    // A write in a savepoint that rolls back takes its count with it; the next write counts again.
    await store.db.transaction().execute(async (trx) => {
      await sql`savepoint s`.execute(trx);
      await sql`update carriers set legal_name = legal_name where dot_number = 3000`.execute(trx);
      await sql`rollback to savepoint s`.execute(trx);
      await sql`update emails set valid = valid where address = 'o0@mesa-trucking.test'`.execute(trx);
    });
    expect(await marker()).toBe(before + 2);
  });

  it('every table the static rules read has the change trigger', async () => {
    const config = fxConfig({ email: { excludeRoleAccounts: true, allowlist: ['info@mesa-trucking.test'], blockedDomains: ['blocked.test'] } });
    const read = new Set<string>();
    for (const rule of staticRules(RULES)) {
      const ctx = { config, date: DATE, now: NOW };
      // String literals (evidence text) and comments aside: "... from copying" is no table.
      const text = (rule.domainHits ? rule.domainHits(ctx) : rule.hits(ctx))
        .compile(store.db)
        .sql.replace(/'(?:[^']|'')*'/g, "''")
        .replace(/--[^\n]*/g, '');
      for (const m of text.matchAll(/\b(?:from|join)\s+("?[a-z_]+"?(?:\."?[a-z_]+"?)?)/gi)) read.add(m[1]!.replaceAll('"', ''));
    }
    const tables = [...read].filter((t) => !t.startsWith('pg_temp.') && !['unnest', 'generate_series', 'lateral', 'm', 'n'].includes(t));
    expect(tables.length).toBeGreaterThan(3);
    expect(tables.filter((t) => !(STATIC_INPUT_TABLES as readonly string[]).includes(t))).toEqual([]);
    const triggers = await sql<{ t: string }>`select c.relname as t from pg_trigger g join pg_class c on c.oid = g.tgrelid where g.tgname = 'static_input_change' order by 1`.execute(store.db);
    expect(triggers.rows.map((r) => r.t)).toEqual([...STATIC_INPUT_TABLES].sort());
  });
});
