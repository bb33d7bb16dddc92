/**
 * The static exclusion rules and the allowlist/blocklist overrides, through the engine the build
 * and explain use (createCandidates + evaluateExclusions over RULES).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEmails } from '../src/email/stage.ts';
import type { ConfigOverrides } from '../src/config.ts';
import { ALLOWLIST_NEVER_OVERRIDES, createCandidates, evaluateExclusions } from '../src/rules/engine.ts';
import { REASON_CODES } from '../src/rules/reason-codes.ts';
import { STATIC_RULES, testContext, upsertCarriers } from './email-helpers.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

describe('static exclusion rules', () => {
  let store: TestStore;

  /** address -> sorted codes excluding it (empty: eligible), for every linked address. */
  async function verdicts(email: ConfigOverrides['email'] = {}): Promise<Record<string, string[]>> {
    const ctx = testContext(store, { email });
    return store.db.transaction().execute(async (trx) => {
      await createCandidates(trx, sql`select e.id as email_id, e.address as email, e.domain from emails e where e.carrier_count > 0`);
      await evaluateExclusions(trx, { config: ctx.config, date: '2026-11-20', now: ctx.now() }, STATIC_RULES);
      const rows = await sql<{ email: string; codes: string[] }>`
        select c.email, coalesce(array_agg(distinct h.code order by h.code) filter (where h.code is not null), '{}') as codes
        from pg_temp.candidates c left join pg_temp.exclusion_hits h on h.email_id = c.email_id group by c.email`.execute(trx);
      return Object.fromEntries(rows.rows.map((r) => [r.email, r.codes]));
    });
  }

  beforeAll(async () => {
    store = await createTestStore();
    await upsertCarriers(store, [
      { dot: 1, email: 'owner@roadrunner-freight.test' },
      { dot: 2, email: 'JD@AOL.com; x@mail.sbcglobal.net' },
      { dot: 3, email: 'trucker@gmial.com' },
      { dot: 4, email: 'x@mailinator.com' },
      { dot: 5, email: 'uat.tester@dot.gov.test' },
      { dot: 6, email: 'owner@mesa-trucking.test', testRecord: true },
      { dot: 7, email: 'postmaster@cascade-moving.test, info@cascade-moving.test' },
      { dot: 8, email: 'NOREPLY-fmcsa@example.net' },
      { dot: 9, email: 'SHEEPSHEARR2YAHOO.COM' },
      { dot: 10, email: 'ops@sub.blocked-co.example' },
      { dot: 11, email: 'jd@yahoo.co.jp' },
      ...[21, 22, 23, 24].map((dot) => ({ dot, email: 'permits@filing-agent.example' })),
    ]);
    await normalizeEmails(testContext(store));
  });
  afterAll(async () => {
    await store.close();
  });

  it('each rule reports its code with the defaults', async () => {
    expect(await verdicts()).toEqual({
      'owner@roadrunner-freight.test': [],
      'jd@aol.com': ['yahoo_family'],
      'x@mail.sbcglobal.net': ['yahoo_family'],
      'trucker@gmial.com': ['disposable', 'typo_domain'],
      'x@mailinator.com': ['disposable'],
      'uat.tester@dot.gov.test': ['fmcsa_test_record'],
      'owner@mesa-trucking.test': ['fmcsa_test_record'],
      'postmaster@cascade-moving.test': ['role_account'],
      'info@cascade-moving.test': [],
      'noreply-fmcsa@example.net': ['role_account'],
      'sheepshearr2yahoo.com': ['invalid_syntax'],
      'ops@sub.blocked-co.example': [],
      'jd@yahoo.co.jp': [],
      'permits@filing-agent.example': [],
    });
  });

  it('shared_address reads its threshold from the configuration (no re-normalize)', async () => {
    expect((await verdicts({ sharedAddressThreshold: 4 }))['permits@filing-agent.example']).toEqual(['shared_address']);
    expect((await verdicts({ sharedAddressThreshold: 5 }))['permits@filing-agent.example']).toEqual([]);
  });

  it('role_account covers info@ only when email.excludeRoleAccounts is on', async () => {
    expect((await verdicts({ excludeRoleAccounts: true }))['info@cascade-moving.test']).toEqual(['role_account']);
  });

  it('email.blockedDomains reports suppressed_domain for the domain and its subdomains', async () => {
    const v = await verdicts({ blockedDomains: ['@Blocked-Co.example.', 'roadrunner-freight.test'] });
    expect(v['ops@sub.blocked-co.example']).toEqual(['suppressed_domain']);
    expect(v['owner@roadrunner-freight.test']).toEqual(['suppressed_domain']);
    expect(v['owner@mesa-trucking.test']).toEqual(['fmcsa_test_record']);
  });

  it('the allowlist skips the soft rules only: never Yahoo family, test records, blocks or invalid syntax', async () => {
    const v = await verdicts({
      sharedAddressThreshold: 4,
      excludeRoleAccounts: true,
      blockedDomains: ['blocked-co.example'],
      allowlist: [
        'Trucker@GMIAL.com', 'x@mailinator.com', 'permits@filing-agent.example', 'info@cascade-moving.test', 'postmaster@cascade-moving.test',
        'jd@aol.com', 'owner@mesa-trucking.test', 'uat.tester@dot.gov.test', 'ops@sub.blocked-co.example', 'SHEEPSHEARR2YAHOO.COM',
      ],
    });
    for (const soft of ['trucker@gmial.com', 'x@mailinator.com', 'permits@filing-agent.example', 'info@cascade-moving.test', 'postmaster@cascade-moving.test'])
      expect(v[soft], soft).toEqual([]);
    expect(v['jd@aol.com']).toEqual(['yahoo_family']);
    expect(v['owner@mesa-trucking.test']).toEqual(['fmcsa_test_record']);
    expect(v['uat.tester@dot.gov.test']).toEqual(['fmcsa_test_record']);
    expect(v['ops@sub.blocked-co.example']).toEqual(['suppressed_domain']);
    expect(v['sheepshearr2yahoo.com']).toEqual(['invalid_syntax']);
    // Not on the allowlist: unaffected.
    expect(v['noreply-fmcsa@example.net']).toEqual(['role_account']);
  });

  it('the never-overridden set names only real reason codes, and all the hard ones', () => {
    for (const c of ALLOWLIST_NEVER_OVERRIDES) expect(REASON_CODES).toContain(c);
    for (const c of ['yahoo_family', 'fmcsa_test_record', 'suppressed_address', 'suppressed_domain', 'mx_dead', 'provider_hold', 'cooldown'] as const)
      expect(ALLOWLIST_NEVER_OVERRIDES.has(c)).toBe(true);
  });
});

describe('registry', () => {
  it('registers every static rule of this area', async () => {
    const { RULES } = await import('../src/rules/index.ts');
    const { STATIC_RULES } = await import('./email-helpers.ts');
    for (const r of STATIC_RULES) expect(RULES).toContain(r);
  });
});
