import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkMx } from '../src/mx/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig, type ConfigOverrides } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import { InputError } from '../src/errors.ts';
import { startDnsServer, type TestDnsServer } from './helpers/dns-server.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { MX_ZONES } from './fixtures/mx/zones.ts';

const T0 = new Date('2026-11-20T08:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function quietOutput() {
  const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
  return createOutput({ json: true, quiet: true, stdout: sink(), stderr: sink() });
}

describe('check-mx on the database', () => {
  let store: TestStore;
  let dns: TestDnsServer;
  let clock: Date;
  const ctx = (overrides: ConfigOverrides = {}): StageContext => ({
    config: loadConfig({ env: {}, cwd: os.tmpdir(), overrides: { mx: { dnsServers: [dns.address], timeoutMs: 200, retries: 1, backoffMs: 10, unresolvableAfterDays: 3 }, ...overrides } }),
    store,
    out: quietOutput(),
    now: () => clock,
  });
  const row = (domain: string) => store.db.selectFrom('mx_domains').selectAll().where('domain', '=', domain).executeTakeFirst();

  async function seedEmails(addresses: string[]) {
    await sql`insert into emails (address, local_part, domain, valid, normalizer_version)
      select a, split_part(a, '@', 1), nullif(split_part(a, '@', 2), ''), a like '%@%.%', 1 from unnest(${addresses}::text[]) as a
      on conflict (address) do nothing`.execute(store.db);
  }

  beforeAll(async () => {
    store = await createTestStore();
    dns = await startDnsServer(MX_ZONES);
  });
  afterAll(async () => {
    await dns.close();
    await store.close();
  });
  beforeEach(async () => {
    clock = T0;
    await sql`truncate mx_domains, carrier_emails, email_reasons, emails restart identity cascade`.execute(store.db);
  });

  it('checks the domains of valid candidate addresses once, and a second run changes nothing', async () => {
    await seedEmails(['a@ok.test', 'b@ok.test', 'c@nx.test', 'd@nullmx.test', 'e@servfail.test', 'f@yahoo-hosted.test', 'not-an-address']);
    const first = await checkMx(ctx());
    expect(first).toMatchObject({ command: 'check-mx', checked: 5, verdicts: { deliverable: 2, dead: 2, unknown: 1, unresolvable: 0 }, byProvider: { other: 1, yahoo: 1 } });
    expect(first.domains).toBeUndefined();
    expect(await row('ok.test')).toMatchObject({ verdict: 'deliverable', reason: 'mx', provider: 'other', mx_hosts: ['mx1.ok.test', 'mx2.ok.test'], mx_preferences: [10, 20], source: 'dns' });
    expect((await row('ok.test'))!.expires_at.getTime() - T0.getTime()).toBe(DAY); // TTL 300 s raised to the 1-day floor
    expect(await row('nx.test')).toMatchObject({ verdict: 'dead', reason: 'nxdomain', dead_since: T0 });
    expect(await row('servfail.test')).toMatchObject({ verdict: 'unknown', reason: 'servfail', unknown_days: 1, unknown_since: T0 });

    const before = await sql<{ n: number }>`select count(*)::int as n from mx_domains where updated_at is not null`.execute(store.db);
    const again = await checkMx(ctx());
    expect(again.checked).toBe(0);
    expect((await sql<{ n: number }>`select count(*)::int as n from mx_domains`.execute(store.db)).rows[0]!.n).toBe(before.rows[0]!.n);

    // 20 minutes later only the unknown one is due again; a day later the rest too.
    clock = new Date(T0.getTime() + 20 * 60_000);
    expect((await checkMx(ctx())).checked).toBe(1);
    clock = new Date(T0.getTime() + DAY + HOUR);
    expect((await checkMx(ctx())).checked).toBe(5);
  });

  it('--domain prints the named domains in order, whatever their cache state', async () => {
    const s = await checkMx(ctx(), { domains: ['Yahoo-Hosted.TEST.', 'private.test', 'silent.test'] });
    expect(s.domains).toEqual([
      { domain: 'yahoo-hosted.test', verdict: 'deliverable', reason: 'mx', provider: 'yahoo', mx: ['mta5.am0.yahoodns.net', 'mta6.am0.yahoodns.net'], error: null },
      expect.objectContaining({ domain: 'private.test', verdict: 'dead', reason: 'mx_hosts_bogon', provider: 'other' }),
      expect.objectContaining({ domain: 'silent.test', verdict: 'unknown', reason: 'timeout', provider: null, mx: [] }),
    ]);
    expect((await checkMx(ctx(), { domains: ['yahoo-hosted.test'] })).checked).toBe(1);
    await expect(checkMx(ctx(), { domains: ['not a domain'] })).rejects.toThrow(/not a domain name/);
  });

  it('--domains FILE reads one domain per line with comments', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mx-'));
    const file = path.join(dir, 'domains.txt');
    writeFileSync(file, '# carriers to look at\nok.test\n\n  gsuite.test  # Workspace\n');
    const s = await checkMx(ctx(), { domainsFile: file });
    expect(s.domains!.map((d) => [d.domain, d.provider])).toEqual([
      ['ok.test', 'other'],
      ['gsuite.test', 'google'],
    ]);
    writeFileSync(file, 'ok.test\nbad domain!\n');
    await expect(checkMx(ctx(), { domainsFile: file })).rejects.toThrow(/line 2/);
  });

  it('a streak of unknowns on distinct days becomes unresolvable; one answer resets it', async () => {
    // silent.test times out on every run. unresolvableAfterDays = 3.
    const days = [0, 0.5, 1, 2].map((d) => new Date(T0.getTime() + d * DAY));
    const seen: string[] = [];
    for (const d of days) {
      clock = d;
      await checkMx(ctx(), { domains: ['silent.test'] });
      const r = (await row('silent.test'))!;
      seen.push(`${r.verdict}/${r.unknown_days}`);
    }
    expect(seen).toEqual(['unknown/1', 'unknown/1', 'unknown/2', 'unresolvable/3']);
    const r = (await row('silent.test'))!;
    expect(r.unknown_since).toEqual(T0);
    expect(r.dead_since).toEqual(days[3]);
    expect(r.expires_at.getTime() - days[3]!.getTime()).toBe(24 * HOUR);

    // The domain answers again: the streak ends, the verdict is the answer.
    await sql`update mx_domains set domain = 'ok.test' where domain = 'silent.test'`.execute(store.db);
    clock = new Date(T0.getTime() + 3 * DAY);
    await checkMx(ctx(), { domains: ['ok.test'] });
    expect(await row('ok.test')).toMatchObject({ verdict: 'deliverable', unknown_days: 0, unknown_since: null, dead_since: null });
  });

  it('a transient failure never turns a known domain dead, and keeps its last known hosts and provider', async () => {
    await checkMx(ctx(), { domains: ['hostfail.test', 'gsuite.test'] });
    expect(await row('hostfail.test')).toMatchObject({ verdict: 'unknown', reason: 'servfail', mx_hosts: ['mx.hostfail.test'] });
    // gsuite.test's own name servers stop answering; the resolver (its canaries) is fine.
    const flaky = await startDnsServer({ ...MX_ZONES, 'gsuite.test': { silent: true } });
    try {
      clock = new Date(T0.getTime() + 2 * DAY);
      const s = await checkMx(ctx({ mx: { dnsServers: [flaky.address], timeoutMs: 100, retries: 0 } }), { domains: ['gsuite.test'] });
      expect(s.verdicts).toEqual({ deliverable: 0, dead: 0, unknown: 1, unresolvable: 0 });
    } finally {
      await flaky.close();
    }
    expect(await row('gsuite.test')).toMatchObject({ verdict: 'unknown', reason: 'timeout', provider: 'google', mx_hosts: ['smtp.google.com'] });
    const dp = await store.db.selectFrom('domain_providers').selectAll().where('domain', '=', 'gsuite.test').executeTakeFirst();
    expect(dp).toEqual({ domain: 'gsuite.test', provider: 'google' });
  });

  it('dead_since survives re-checks that stay dead', async () => {
    await checkMx(ctx(), { domains: ['nx.test'] });
    clock = new Date(T0.getTime() + 2 * DAY);
    await checkMx(ctx(), { domains: ['nx.test'] });
    expect(await row('nx.test')).toMatchObject({ verdict: 'dead', dead_since: T0, checked_at: clock });
  });

  it('export then import round-trips verdicts with their observation times; an older row never overwrites a newer one', async () => {
    await checkMx(ctx(), { domains: ['ok.test', 'nullmx.test', 'servfail.test', 'truncated.test'] });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mx-'));
    const file = path.join(dir, 'verdicts.csv');
    const exported = await checkMx(ctx(), { exportFile: file });
    expect(exported.exported).toBe(4);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('domain,verdict,reason,provider,mx,addresses,checked_at,expires_at,last_error');
    expect(text).toContain('ok.test,deliverable,mx,other,10 mx1.ok.test;20 mx2.ok.test,93.184.216.10,2026-11-20T08:00:00.000Z,2026-11-21T08:00:00.000Z,');
    const original = await store.db.selectFrom('mx_domains').select(['domain', 'verdict', 'reason', 'provider', 'mx_hosts', 'mx_preferences', 'checked_at', 'expires_at', 'last_error']).orderBy('domain').execute();

    await sql`truncate mx_domains`.execute(store.db);
    const imported = await checkMx(ctx(), { importFile: file });
    expect(imported).toMatchObject({ imported: 4, checked: 0, verdicts: { deliverable: 2, dead: 1, unknown: 1, unresolvable: 0 } });
    const back = await store.db.selectFrom('mx_domains').select(['domain', 'verdict', 'reason', 'provider', 'mx_hosts', 'mx_preferences', 'checked_at', 'expires_at', 'last_error']).orderBy('domain').execute();
    expect(back).toEqual(original);
    expect(await row('ok.test')).toMatchObject({ source: 'import' });

    // A newer DNS observation is not replaced by importing the older snapshot again.
    clock = new Date(T0.getTime() + 2 * DAY);
    await checkMx(ctx(), { domains: ['ok.test'] });
    await checkMx(ctx(), { importFile: file });
    expect(await row('ok.test')).toMatchObject({ source: 'dns', checked_at: clock });
  });

  it('imports the valid lines of a CSV and rejects each bad one with its line and reason (exit 1)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mx-'));
    const file = path.join(dir, 'bad.csv');
    writeFileSync(
      file,
      [
        'domain,verdict,reason,provider,mx,addresses,checked_at,expires_at,last_error',
        'ok.test,deliverable,mx,,10 mx1.ok.test,,2026-11-01T00:00:00Z,,',
        'bad.test,alive,mx,,,,2026-11-01T00:00:00Z,,',
        'future.test,dead,nxdomain,,,,2026-11-21T00:00:00Z,,',
        'short.test,dead,nxdomain',
        'backwards.test,dead,nxdomain,,,,2026-11-10T00:00:00Z,2026-11-09T00:00:00Z,',
        'not a domain,dead,nxdomain,,,,2026-11-01T00:00:00Z,,',
        'nx.test,dead,nxdomain,,,,2026-11-02T00:00:00Z,,',
        '',
      ].join('\n'),
    );
    const err = await checkMx(ctx(), { importFile: file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const e = err as InputError;
    expect(e.message).toMatch(/5 line\(s\) rejected; the other lines were read \(2 imported, 0 not imported/);
    expect(e.message).toMatch(/line 3: verdict "alive" must be one of/);
    expect(e.summary).toMatchObject({
      imported: 2,
      keptNewer: 0,
      rejected: 5,
      verdicts: { deliverable: 1, dead: 1, unknown: 0, unresolvable: 0 },
      rejects: [
        { line: 3, reason: expect.stringMatching(/^verdict "alive"/) },
        { line: 4, reason: expect.stringMatching(/^checked_at 2026-11-21T00:00:00.000Z is later than now \(2026-11-20T08:00:00.000Z\)/) },
        { line: 5, reason: '3 field(s) where the header has 9' },
        { line: 6, reason: 'expires_at 2026-11-09T00:00:00.000Z is before checked_at 2026-11-10T00:00:00.000Z' },
        { line: 7, reason: 'domain "not a domain" is not a domain name' },
      ],
    });
    expect(await row('ok.test')).toMatchObject({ verdict: 'deliverable', source: 'import' });
    expect(await row('nx.test')).toMatchObject({ verdict: 'dead', source: 'import' });
    expect(await row('future.test')).toBeUndefined();
    await expect(checkMx(ctx(), { importFile: path.join(dir, 'missing.csv') })).rejects.toThrow(/does not exist/);
    writeFileSync(file, 'domain,verdict\nok.test,dead\n');
    await expect(checkMx(ctx(), { importFile: file })).rejects.toThrow(/missing column\(s\) reason, checked_at/);
    writeFileSync(file, 'domain,verdict,reason,checked_at\n"ok.test,dead,nxdomain,2026-11-01T00:00:00Z\n');
    await expect(checkMx(ctx(), { importFile: file })).rejects.toThrow(/not a readable verdict CSV.*Nothing was imported/s);
  });

  it('domain_providers: curated consumer domains before any check, MX-derived providers after', async () => {
    const providers = async (domains: string[]) =>
      Object.fromEntries((await store.db.selectFrom('domain_providers').selectAll().where('domain', 'in', domains).execute()).map((r) => [r.domain, r.provider]));
    expect(await providers(['gmail.com', 'hotmail.com', 'outlook.com', 'live.com', 'yahoo.com', 'aol.com', 'icloud.com', 'ok.test'])).toEqual({
      'gmail.com': 'google',
      'hotmail.com': 'outlook_consumer',
      'outlook.com': 'outlook_consumer',
      'live.com': 'outlook_consumer',
      'yahoo.com': 'yahoo',
      'aol.com': 'yahoo',
      'icloud.com': 'apple',
    });
    await checkMx(ctx(), { domains: ['ok.test', 'gsuite.test', 'nx.test'] });
    expect(await providers(['ok.test', 'gsuite.test', 'nx.test'])).toEqual({ 'ok.test': 'other', 'gsuite.test': 'google' });
  });
});
