import os from 'node:os';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createCandidates, evaluateExclusions } from '../src/rules/engine.ts';
import { RULES } from '../src/rules/index.ts';
import { mxDeadRule } from '../src/rules/mx-dead.ts';
import { mxUnknownRule } from '../src/rules/mx-unknown.ts';
import type { RuleContext } from '../src/rules/rule.ts';
import { yahooFamilyMxRule } from '../src/rules/yahoo-family-mx.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const NOW = new Date('2026-11-28T12:00:00Z');
const ruleCtx: RuleContext = { config: loadConfig({ env: {}, cwd: os.tmpdir() }), date: '2026-11-28', now: NOW };
const MX_RULES = [yahooFamilyMxRule, mxDeadRule, mxUnknownRule];

interface Hit {
  email: string;
  code: string;
  detail: string;
  since: Date | null;
}

describe('MX exclusion rules', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
    await sql`insert into emails (address, local_part, domain, valid, normalizer_version)
      select a, split_part(a, '@', 1), split_part(a, '@', 2), a <> 'bad..dots@dead.test', 1
      from unnest(${[
        'ops@live.test',
        'ops@dead.test',
        'ops@nullmx.test',
        'ops@gone.test',
        'ops@flaky.test',
        'ops@stale.test',
        'ops@never.test',
        'ops@yahoo-hosted.test',
        'ops@mixed-yahoo.test',
        'bad..dots@dead.test',
      ]}::text[]) as a`.execute(store.db);
    const t = (s: string) => new Date(s);
    const rows = [
      { domain: 'live.test', verdict: 'deliverable', reason: 'mx', provider: 'google', mx_hosts: ['smtp.google.com'], mx_preferences: [1], checked_at: t('2026-11-28T06:00:00Z'), expires_at: t('2026-11-29T06:00:00Z') },
      { domain: 'dead.test', verdict: 'dead', reason: 'nxdomain', provider: null, mx_hosts: [], mx_preferences: [], checked_at: t('2026-11-27T06:00:00Z'), expires_at: t('2026-11-28T06:00:00Z'), dead_since: t('2026-11-01T06:00:00Z'), last_error: 'MX dead.test: NXDOMAIN from 10.0.0.53:53' },
      { domain: 'nullmx.test', verdict: 'dead', reason: 'mx_hosts_bogon', provider: 'other', mx_hosts: ['mx.nullmx.test'], mx_preferences: [10], checked_at: t('2026-11-28T06:00:00Z'), expires_at: t('2026-11-29T06:00:00Z'), dead_since: t('2026-11-28T06:00:00Z') },
      { domain: 'gone.test', verdict: 'unresolvable', reason: 'timeout', provider: null, mx_hosts: [], mx_preferences: [], checked_at: t('2026-11-28T06:00:00Z'), expires_at: t('2026-11-29T06:00:00Z'), dead_since: t('2026-11-27T06:00:00Z') },
      { domain: 'flaky.test', verdict: 'unknown', reason: 'servfail', provider: null, mx_hosts: [], mx_preferences: [], checked_at: t('2026-11-28T11:00:00Z'), expires_at: t('2026-11-28T11:15:00Z'), unknown_since: t('2026-11-27T11:00:00Z'), last_error: 'MX flaky.test: SERVFAIL from 10.0.0.53:53' },
      { domain: 'stale.test', verdict: 'deliverable', reason: 'mx', provider: 'other', mx_hosts: ['mx.stale.test'], mx_preferences: [10], checked_at: t('2026-11-10T06:00:00Z'), expires_at: t('2026-11-17T06:00:00Z') },
      { domain: 'yahoo-hosted.test', verdict: 'deliverable', reason: 'mx', provider: 'yahoo', mx_hosts: ['mx-biz.mail.am0.yahoodns.net'], mx_preferences: [1], checked_at: t('2026-11-28T06:00:00Z'), expires_at: t('2026-11-29T06:00:00Z') },
      { domain: 'mixed-yahoo.test', verdict: 'deliverable', reason: 'mx', provider: 'mixed', mx_hosts: ['mta5.am0.yahoodns.net', 'mx.mixed-yahoo.test'], mx_preferences: [1, 1], checked_at: t('2026-11-28T06:00:00Z'), expires_at: t('2026-11-29T06:00:00Z') },
    ];
    await store.db.insertInto('mx_domains').values(rows as never).execute();
  });
  afterAll(async () => {
    await store.close();
  });

  async function hits(): Promise<Hit[]> {
    return store.db.transaction().execute(async (trx) => {
      await createCandidates(trx, sql`select id as email_id, address as email, domain from emails`);
      await evaluateExclusions(trx, ruleCtx, MX_RULES);
      const r = await sql<Hit>`select c.email, h.code, h.detail, h.since from pg_temp.exclusion_hits h join pg_temp.candidates c using (email_id) order by c.email, h.code`.execute(trx);
      return r.rows;
    });
  }

  it('judges every domain state once, with evidence and since', async () => {
    const byEmail = new Map<string, Hit[]>();
    for (const h of await hits()) byEmail.set(h.email, [...(byEmail.get(h.email) ?? []), h]);

    expect(byEmail.get('ops@live.test')).toBeUndefined();
    expect(byEmail.get('ops@mixed-yahoo.test')).toBeUndefined(); // one non-Yahoo lowest-preference host: not Yahoo-hosted

    const dead = byEmail.get('ops@dead.test')!;
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ code: 'mx_dead', since: new Date('2026-11-01T06:00:00Z') });
    expect(dead[0]!.detail).toBe('dead.test dead (nxdomain); MX dead.test: NXDOMAIN from 10.0.0.53:53; checked 2026-11-27 06:00 UTC');
    expect(byEmail.get('ops@nullmx.test')![0]!.detail).toContain('MX mx.nullmx.test');
    expect(byEmail.get('ops@gone.test')![0]).toMatchObject({ code: 'mx_dead', detail: expect.stringContaining('unresolvable (timeout)') });

    expect(byEmail.get('ops@flaky.test')![0]).toMatchObject({
      code: 'mx_unknown',
      detail: 'DNS unknown (servfail): MX flaky.test: SERVFAIL from 10.0.0.53:53; retried by the next audience check-mx',
      since: new Date('2026-11-27T11:00:00Z'),
    });
    expect(byEmail.get('ops@stale.test')![0]).toMatchObject({ code: 'mx_unknown', detail: 'deliverable verdict expired at 2026-11-17 06:00 UTC; run audience check-mx' });
    expect(byEmail.get('ops@never.test')![0]).toMatchObject({ code: 'mx_unknown', detail: 'not checked yet; run audience check-mx', since: null });

    expect(byEmail.get('ops@yahoo-hosted.test')).toEqual([
      { email: 'ops@yahoo-hosted.test', code: 'yahoo_family', detail: 'yahoo-hosted.test receives its mail at Yahoo: MX mx-biz.mail.am0.yahoodns.net', since: new Date('2026-11-28T06:00:00Z') },
    ]);
    // An invalid address is left to invalid_syntax; dead domain still applies.
    expect(byEmail.get('bad..dots@dead.test')!.map((h) => h.code)).toEqual(['mx_dead']);
  });

  it('a dead verdict past its expiry still excludes (only a re-check lifts it)', async () => {
    const dead = (await hits()).filter((h) => h.email === 'ops@dead.test');
    expect(dead.map((h) => h.code)).toEqual(['mx_dead']);
  });

  it('the registry holds the three MX rules', () => {
    for (const r of MX_RULES) expect(RULES).toContain(r);
  });
});
