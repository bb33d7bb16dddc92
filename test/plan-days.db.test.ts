/**
 * `plan` judges all its days together (segment evaluations deduplicated, the rules once, the
 * cooldown by day bits); the build judges one date. On a universe whose audience changes from day
 * to day (an MCS-150 slot coming due, new carriers entering and leaving, an address moving from one
 * segment to the other, cooldowns in both directions, the ledger's own day, failed and released
 * rows, an allowlisted role account, holds, suppressions, dead domains), every day of the plan
 * must say exactly what eligibility() says for that date, across a batch boundary too.
 */
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigOverrides } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { eligibility } from '../src/push/eligibility.ts';
import { judgedPlanDays, planDays } from '../src/reports/plan.ts';
import { RULES } from '../src/rules/index.ts';
import type { ExclusionRule, RuleHit } from '../src/rules/rule.ts';
import { SEGMENTS } from '../src/segments/index.ts';
import { addDays } from '../src/warmup/calendar.ts';
import { resolveWarmupStart } from '../src/warmup/start.ts';
import { addHold, addSuppression, DATE, fxConfig, NOW, seedUniverse } from './build-fixture.ts';
import { referenceEligibility } from './helpers/eligibility-reference.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

async function ledger(db: Kysely<Database>, rows: { date: string; address: string; status: string }[]): Promise<void> {
  for (const [i, r] of rows.entries())
    await sql`insert into push_ledger (send_date, segment, address, email_id, dot_number, rank, status, run_id)
      select ${r.date}::date, 'mcs150', e.address, e.id, 1, ${i + 1}::int, ${r.status}, 1 from emails e where e.address = ${r.address}`.execute(db);
}

describe('plan judges its days together as the build judges each date', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
    await seedUniverse(
      store.db,
      [
        // Overdue all along (no filing), several per domain.
        ...Array.from({ length: 8 }, (_, i) => ({ dot: 2000 + i * 10, emails: [`o${i}@mesa-trucking.test`] })),
        // Slot January (last digit 1), odd years: the 2027-01-31 deadline comes within 60 days on 2026-12-02.
        { dot: 1011, emails: ['jan@cascade-moving.test'], mcs150: '2024-06-01', added: '2001-01-01' },
        { dot: 1051, emails: ['may@cascade-moving.test'], mcs150: '2024-06-01', added: '2001-01-01' },
        // New carrier until 2026-12-19, and due for January from 2026-12-02: moves to mcs150.
        { dot: 1031, emails: ['both@roadrunner-freight.test'], added: '2026-11-20' },
        // New carriers: leaving on 2026-12-10, entering on 2026-12-05.
        { dot: 5002, emails: ['left@cascade-moving.test'], added: '2026-11-10', mcs150: '2026-11-10' },
        { dot: 5012, emails: ['later@cascade-moving.test'], added: '2026-12-05', mcs150: '2026-12-05' },
        // Cooldowns: pushed before, reserved ahead, the plan's first day's own row, failed and released rows.
        { dot: 2101, emails: ['before@mesa-trucking.test'] },
        { dot: 2111, emails: ['ahead@mesa-trucking.test'] },
        { dot: 2121, emails: ['own@mesa-trucking.test'] },
        { dot: 2131, emails: ['failed@mesa-trucking.test'] },
        { dot: 2141, emails: ['released@mesa-trucking.test'] },
        { dot: 2151, emails: ['twice@mesa-trucking.test'] },
        // Excluded whatever the day, and the allowlist.
        { dot: 2201, emails: ['gone@mesa-trucking.test'] },
        { dot: 2211, emails: ['x@dead-domain.test'] },
        { dot: 2221, emails: ['held@held-google.test'] },
        { dot: 2231, emails: ['postmaster@mesa-trucking.test', 'info@mesa-trucking.test'] },
        { dot: 2241, emails: ['not an address'] },
        { dot: 2251, emails: ['a@yahoo.com'] },
        // A disposable domain (a domain rule, judged once per domain) with one address allowlisted in the second case,
        // and a domain suppressed by the operator.
        { dot: 2261, emails: ['kept@mailinator.com', 'dropped@mailinator.com'] },
        { dot: 2271, emails: ['x@blocked-freight.test'] },
      ],
      { 'dead-domain.test': { verdict: 'dead' }, 'held-google.test': { provider: 'google' } },
    );
    await addSuppression(store.db, 'address', 'gone@mesa-trucking.test');
    await addSuppression(store.db, 'domain', 'blocked-freight.test');
    await addHold(store.db, 'provider', 'google', new Date(NOW.getTime() + 3 * 86_400_000));
    await ledger(store.db, [
      { date: '2026-11-01', address: 'before@mesa-trucking.test', status: 'pushed' },
      { date: '2026-12-20', address: 'ahead@mesa-trucking.test', status: 'reserved' },
      { date: DATE, address: 'own@mesa-trucking.test', status: 'reserved' },
      { date: '2026-11-27', address: 'failed@mesa-trucking.test', status: 'failed' },
      { date: '2026-11-27', address: 'released@mesa-trucking.test', status: 'released' },
      { date: '2026-10-20', address: 'twice@mesa-trucking.test', status: 'pushed' },
      { date: '2027-01-05', address: 'twice@mesa-trucking.test', status: 'reserved' },
      { date: '2026-12-02', address: 'both@roadrunner-freight.test', status: 'reserved' },
    ]);
  });
  afterAll(async () => {
    await store.close();
  });

  // An address rule reporting a code a domain rule reports too: an address named by both counts
  // once under it (the single-date count by domain sums gives way to counting distinct addresses).
  const sharedCode: ExclusionRule = {
    code: 'suppressed_domain',
    description: 'test: an address rule with a domain rule\'s code',
    hits: () => sql<RuleHit>`select c.email_id, 'test' as detail, null::timestamptz as since from pg_temp.candidates c where c.email like 'x@%'`,
  };
  const cases: [string, ConfigOverrides, number, readonly ExclusionRule[]][] = [
    ['two weeks', {}, 14, RULES],
    ['33 days (two batches of 31 and 2), role accounts excluded, a role account and a disposable address allowlisted', { email: { excludeRoleAccounts: true, allowlist: ['info@mesa-trucking.test', 'kept@mailinator.com'] } }, 33, RULES],
    ['eight days, an address rule sharing a domain rule\'s code, an allowlisted disposable address', { email: { allowlist: ['kept@mailinator.com'] } }, 8, [...RULES, sharedCode]],
  ];
  for (const [name, overrides, days, rules] of cases) {
    it(name, async () => {
      const config = fxConfig(overrides);
      const start = resolveWarmupStart(config.warmup.start, config.timezone);
      const plan = await judgedPlanDays(store.db, config, start, SEGMENTS, rules, DATE, days, NOW);
      expect(plan).toHaveLength(days);
      // `plan`'s own counts come through the kept static verdicts (rules/static-count.ts).
      const counted = await planDays(store.db, config, start, SEGMENTS, rules, DATE, days, NOW);
      const seen = new Set<string>();
      for (const [i, day] of plan.entries()) {
        const date = addDays(DATE, i);
        expect(day.date).toBe(date);
        const one = await referenceEligibility(store.db, config, SEGMENTS, rules, date, NOW);
        expect({ date, candidates: day.candidates, eligible: day.eligible, excluded: day.excluded }).toEqual({ date, ...one });
        expect({ date, eligible: counted[i]!.eligible }).toEqual({ date, eligible: one.eligible });
        expect({ date, ...(await eligibility(store.db, config, SEGMENTS, rules, date, NOW)) }).toEqual({ date, ...one });
        seen.add(JSON.stringify(one));
      }
      // The domain rules' allowlist path is exercised: the allowlisted disposable address is spared.
      const spared = config.email.allowlist.includes('kept@mailinator.com') ? 1 : 0;
      expect({ disposable: plan[0]!.excluded.disposable, suppressed_domain: plan[0]!.excluded.suppressed_domain }).toEqual({ disposable: 2 - spared, suppressed_domain: rules === RULES ? 1 : 2 });
      // The universe does change over the days: the comparison is not of one answer repeated.
      expect(seen.size).toBeGreaterThan(days >= 14 ? 4 : 1);
      // The address-by-address reference, one per day, is the slow path this test exists to compare against.
    }, 240_000);
  }
});
