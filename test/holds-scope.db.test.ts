/**
 * Holds by scope (issue #14): a reputation signal from a big provider holds the provider; one from a
 * self-hosted server (provider `other`) holds that receiving domain and the domains the same server
 * receives for, not every small domain. Reproduced first as main had it: one "550 Too many invalid
 * recipients" from one server held provider `other`, and every self-hosted domain left the build.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { status } from '../src/reports/stage.ts';
import { runBounceScrub } from '../src/maillog/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import { InputError, UsageError } from '../src/errors.ts';
import { activeHolds } from '../src/maillog/holds.ts';
import { operatorUnhold } from '../src/maillog/operator.ts';
import { createCandidates, evaluateExclusions } from '../src/rules/engine.ts';
import { providerHold } from '../src/rules/provider-hold.ts';
import { seedUniverse } from './build-fixture.ts';
import { day, LogBuilder, said } from './fixtures/maillog/flows.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

let store: TestStore;
let dir: string;
let now = new Date('2026-11-28T00:00:00Z');
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

function ctx(): StageContext {
  const config = loadConfig({ env: {}, cwd: dir, overrides: { timezone: 'UTC', warmup: { start: '2026-11-01' } } });
  return { config, store, out: createOutput({ json: true, stdout: sink, stderr: sink }), now: () => now };
}

/** Self-hosted receivers: dmnd.test and sibling.test share a mail server; small.test has its own. */
const ADDRESSES = ['a@dmnd.test', 'b@sibling.test', 'c@small.test', 'd@gmail.com', 'e@other-isp.test'];

beforeEach(async () => {
  store = await createTestStore();
  dir = mkdtempSync(path.join(os.tmpdir(), 'holds-scope-'));
  now = new Date('2026-11-28T00:00:00Z');
  await seedUniverse(
    store.db,
    ADDRESSES.map((a, i) => ({ dot: 100 + i, emails: [a] })),
    { 'gmail.com': { provider: 'google' } },
  );
  await sql`update mx_domains set mx_hosts = case domain
      when 'dmnd.test' then '{mail-in.bond.test}'::text[] when 'sibling.test' then '{mail-in.bond.test}'::text[]
      when 'small.test' then '{mx.small.test}'::text[] when 'gmail.com' then '{gmail-smtp-in.l.google.com}'::text[]
      else '{mx.other-isp.test}'::text[] end,
    mx_preferences = '{10}'`.execute(store.db);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let fileNo = 0;
async function scrub(b: LogBuilder) {
  const file = path.join(dir, `log-${++fileNo}.log`);
  writeFileSync(file, b.text());
  return runBounceScrub(ctx(), [file]);
}

const TOO_MANY = 'host mail-in.bond.test[192.0.2.60] refused to talk to me: 550 Too many invalid recipients';
const GMAIL_BLOCK = said('550-5.7.1 [198.51.100.5 1] Our system has detected an unusual rate of 550-5.7.1 unsolicited mail originating from your IP address. ?p=UnsolicitedIPError', 'end of DATA', 'gmail-smtp-in.l.google.com[192.0.2.27]');

/**
 * What provider_hold excludes among the seeded addresses, with its detail. The engine hands the
 * rule the candidates' few domains (as for explain); the rule's SQL without them (the build over
 * the whole census) must say the same, hit for hit.
 */
async function held(): Promise<Record<string, string>> {
  return store.db.transaction().execute(async (trx) => {
    await createCandidates(trx, sql`select id as email_id, address as email, domain from emails`);
    const ruleCtx = { config: ctx().config, date: '2026-11-28', now };
    await evaluateExclusions(trx, ruleCtx, [providerHold]);
    const r = await sql<{ email: string; detail: string }>`select c.email, h.detail from pg_temp.exclusion_hits h join pg_temp.candidates c using (email_id) order by 1, 2`.execute(trx);
    const whole = await sql<{ email: string; detail: string }>`select c.email, h.detail from (${providerHold.hits(ruleCtx)}) h join pg_temp.candidates c using (email_id) order by 1, 2`.execute(trx);
    expect(r.rows).toEqual(whole.rows);
    return Object.fromEntries(r.rows.map((x) => [x.email, x.detail]));
  });
}

describe('holds by scope', () => {
  it('one self-hosted server\'s "550 Too many invalid recipients" holds its domain and the domains it serves, not every small domain (main: provider `other`, 4 of 5 addresses)', async () => {
    const s = await scrub(new LogBuilder().flow({ at: day(27), to: 'a@dmnd.test', relay: 'mail-in.bond.test[192.0.2.60]:25', outcomes: [['deferred', '4.0.0', TOO_MANY]] }));
    expect(s.byClass).toEqual({ reputation_block: 1 });
    expect(s.holds).toEqual([{ scope: 'domain', provider: null, domain: 'dmnd.test', mxHost: 'mail-in.bond.test', reason: 'reputation_block', until: expect.any(String) }]);
    const h = await held();
    expect(Object.keys(h)).toEqual(['a@dmnd.test', 'b@sibling.test']);
    expect(h['a@dmnd.test']).toMatch(/^domain dmnd\.test on hold until 2026-11-30 15:00 UTC: reputation_block \(last signal .*Too many invalid recipients/);
    expect(h['b@sibling.test']).toMatch(/^domain sibling\.test on hold: its mail server mail-in\.bond\.test is held for dmnd\.test until 2026-11-30/);
  });

  it('a big provider\'s signal still holds the provider, whatever domain it came from', async () => {
    const s = await scrub(new LogBuilder().flow({ at: day(27), to: 'd@gmail.com', relay: 'gmail-smtp-in.l.google.com[192.0.2.27]:25', outcomes: [['bounced', '5.7.1', GMAIL_BLOCK]] }));
    expect(s.holds).toMatchObject([{ scope: 'provider', provider: 'google', domain: null }]);
    expect(Object.keys(await held())).toEqual(['d@gmail.com']);
  });

  it('status shows the scope; a re-run changes nothing; the hold ends after holdDays', async () => {
    const b = new LogBuilder().flow({ at: day(27), to: 'a@dmnd.test', relay: 'mail-in.bond.test[192.0.2.60]:25', outcomes: [['deferred', '4.0.0', TOO_MANY]] });
    await scrub(b);
    const before = await store.db.selectFrom('holds').selectAll().execute();
    await scrub(new LogBuilder());
    expect(await store.db.selectFrom('holds').selectAll().execute()).toEqual(before);
    const st = await status(ctx());
    expect(st.holds).toMatchObject([{ scope: 'domain', provider: null, domain: 'dmnd.test', mxHost: 'mail-in.bond.test', reason: 'reputation_block' }]);
    expect(await activeHolds(store.db, new Date('2026-12-01T00:00:00Z'))).toEqual([]);
  });

  it('a provider hold on `other` left by an earlier version is replaced by the domain hold in the same run', async () => {
    await sql`insert into holds (scope, provider, reason, detail, evidence, starts_at, until)
      values ('provider', 'other', 'reputation_block', 'from before holds by scope', '{}'::jsonb, ${day(27)}::timestamptz, ${day(30)}::timestamptz)`.execute(store.db);
    expect(Object.keys(await held())).toEqual(['a@dmnd.test', 'b@sibling.test', 'c@small.test', 'e@other-isp.test']);
    const s = await scrub(new LogBuilder().flow({ at: day(27), to: 'a@dmnd.test', relay: 'mail-in.bond.test[192.0.2.60]:25', outcomes: [['deferred', '4.0.0', TOO_MANY]] }));
    expect(s.holds.map((h) => [h.scope, h.provider, h.domain])).toEqual([['domain', null, 'dmnd.test']]);
    const old = await store.db.selectFrom('holds').select(['lifted_by', 'lift_reason']).where('provider', '=', 'other').executeTakeFirstOrThrow();
    expect(old).toMatchObject({ lifted_by: 'scrub-bounces', lift_reason: expect.stringMatching(/holds its receiving domain only/) });
    expect(Object.keys(await held())).toEqual(['a@dmnd.test', 'b@sibling.test']);
  });

  it('unhold names the subject as people do: the domain, or its mail server; a name that is neither is a usage error', async () => {
    await scrub(new LogBuilder().flow({ at: day(27), to: 'a@dmnd.test', relay: 'mail-in.bond.test[192.0.2.60]:25', outcomes: [['deferred', '4.0.0', TOO_MANY]] }));
    await expect(operatorUnhold(ctx(), 'small.test', { reason: 'x' })).rejects.toThrow(InputError);
    await expect(operatorUnhold(ctx(), 'small.test', { reason: 'x' })).rejects.toThrow(/no current hold for domain small\.test\. Active holds: domain dmnd\.test \(mail host mail-in\.bond\.test\) \(reputation_block until/);
    const gmail = await operatorUnhold(ctx(), 'gmail', { reason: 'x' }).catch((e: unknown) => e);
    expect(gmail).toBeInstanceOf(UsageError);
    expect((gmail as Error).message).toMatch(/Did you mean google\?.*by domain/);
    const lifted = await operatorUnhold(ctx(), 'Mail-In.Bond.test.', { reason: 'their postmaster cleared our IP' });
    expect(lifted).toMatchObject({ scope: 'domain', target: 'mail-in.bond.test', lifted: [{ scope: 'domain', domain: 'dmnd.test', mxHost: 'mail-in.bond.test', reason: 'reputation_block' }] });
    expect(await held()).toEqual({});
    // Raised again only by a signal newer than the lift.
    await scrub(new LogBuilder());
    expect(await held()).toEqual({});
    now = new Date('2026-11-28T12:00:00Z');
    await scrub(new LogBuilder().flow({ at: day(28, 6), to: 'a@dmnd.test', relay: 'mail-in.bond.test[192.0.2.60]:25', outcomes: [['deferred', '4.0.0', TOO_MANY]] }));
    expect(Object.keys(await held())).toEqual(['a@dmnd.test', 'b@sibling.test']);
    expect(await operatorUnhold(ctx(), 'dmnd.test', { reason: 'again' })).toMatchObject({ scope: 'domain', lifted: [{ domain: 'dmnd.test' }] });
  });

  it('domain_providers (a union since sql/0019, so it can be probed by domain) gives the rows of the full join it replaced', async () => {
    // The fallback wins over an MX-derived provider; a domain without a provider has no row; a
    // fallback domain never checked still has its row.
    await sql`update mx_domains set provider = case domain when 'dmnd.test' then 'other' when 'small.test' then null when 'gmail.com' then 'other' else provider end`.execute(store.db);
    await sql`insert into mx_domains (domain, verdict, reason, provider, checked_at, expires_at)
      values ('hotmail.com', 'deliverable', 'mx', 'microsoft365', ${now}::timestamptz, ${now}::timestamptz)`.execute(store.db);
    const rows = (q: ReturnType<typeof sql>) => q.execute(store.db).then((r) => r.rows);
    const union = await rows(sql`select domain, provider from domain_providers order by 1, 2`);
    const fullJoin = await rows(sql`select coalesce(f.domain, m.domain) as domain, coalesce(f.provider, m.provider) as provider
      from mx_provider_fallback f full join (select domain, provider from mx_domains where provider is not null) m on m.domain = f.domain order by 1, 2`);
    expect(union).toEqual(fullJoin);
    expect(union).toContainEqual({ domain: 'gmail.com', provider: 'google' });
    expect(union).toContainEqual({ domain: 'hotmail.com', provider: 'outlook_consumer' });
    expect(union).toContainEqual({ domain: 'dmnd.test', provider: 'other' });
    expect(union.map((r) => (r as { domain: string }).domain)).not.toContain('small.test');
    expect(await rows(sql`select domain, provider from domain_providers where domain = any(${['gmail.com', 'dmnd.test', 'small.test']}::text[]) order by 1`)).toEqual([
      { domain: 'dmnd.test', provider: 'other' },
      { domain: 'gmail.com', provider: 'google' },
    ]);
  });
});
