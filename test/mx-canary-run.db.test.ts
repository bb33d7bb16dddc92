/**
 * check-mx behind broken resolvers: one that answers NXDOMAIN for everything, one that rewrites
 * NXDOMAIN, one that breaks half-way (into NXDOMAIN, or into silence), next to working ones. The
 * run never writes a dead verdict on a lying server's word, marks what it could not judge
 * `unknown` without moving any unknown streak, says which server answered what, and fails.
 */
import os from 'node:os';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkMx } from '../src/mx/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig, type ConfigOverrides } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import { domainsNeedingCheck } from '../src/mx/cache.ts';
import { recentNegativeShare } from '../src/mx/recent-rate.ts';
import type { MxCheckSummary } from '../src/mx/summary.ts';
import { ExternalServiceError } from '../src/errors.ts';
import { startDnsServer, type TestDnsServer, type Zones } from './helpers/dns-server.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { MX_ZONES } from './fixtures/mx/zones.ts';

const T0 = new Date('2026-11-20T08:00:00Z');
const DAY = 86_400_000;
/** 1,200 deliverable domains: enough for several batches of 500 and the guard's window of 200. */
const BULK = Array.from({ length: 1200 }, (_, i) => `carrier-${String(i).padStart(4, '0')}.bulk.test`);
const BULK_ZONES: Zones = { ...MX_ZONES, ...Object.fromEntries(BULK.map((d) => [d, { MX: [[10, 'mx1.ok.test']] }])) };

describe('check-mx behind a broken resolver', () => {
  let store: TestStore;
  let good: TestDnsServer;
  let clock: Date;
  let warnings: string[];
  const servers: TestDnsServer[] = [];
  const server = async (zones: Zones, opts: Parameters<typeof startDnsServer>[1] = {}) => {
    const s = await startDnsServer(zones, opts);
    servers.push(s);
    return s;
  };
  // A timeout a loaded machine can keep: the DNS server answers from this process's own event loop,
  // and a 150 ms timeout turned dead domains into unknown under load. Silent servers set their own.
  const ctx = (dnsServers: string[], overrides: ConfigOverrides['mx'] = {}): StageContext => ({
    config: loadConfig({ env: {}, cwd: os.tmpdir(), overrides: { mx: { dnsServers, timeoutMs: 1000, retries: 1, backoffMs: 5, unresolvableAfterDays: 3, ...overrides } } }),
    store,
    out: createOutput({
      json: true,
      quiet: true,
      stdout: new Writable({ write: (_c, _e, cb) => cb() }),
      stderr: new Writable({
        write: (c, _e, cb) => {
          warnings.push(String(c));
          cb();
        },
      }),
    }),
    now: () => clock,
  });
  /** The failed run's error, with the summary it carries. */
  const failing = async (p: Promise<unknown>): Promise<ExternalServiceError & { summary: MxCheckSummary }> => {
    const e = await p.then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ExternalServiceError);
    return e as ExternalServiceError & { summary: MxCheckSummary };
  };
  const counts = async () =>
    Object.fromEntries(
      (await sql<{ k: string; n: number }>`select verdict || '/' || reason as k, count(*)::int as n from mx_domains group by 1 order by 1`.execute(store.db)).rows.map((r) => [r.k, r.n]),
    );
  const row = (domain: string) => store.db.selectFrom('mx_domains').selectAll().where('domain', '=', domain).executeTakeFirstOrThrow();
  async function seedEmails(domains: readonly string[]) {
    await sql`insert into emails (address, local_part, domain, valid, normalizer_version)
      select 'ops@' || d, 'ops', d, true, 1 from unnest(${[...domains]}::text[]) as d on conflict (address) do nothing`.execute(store.db);
  }

  beforeAll(async () => {
    store = await createTestStore();
    good = await server(BULK_ZONES);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await store.close();
  });
  beforeEach(async () => {
    clock = T0;
    warnings = [];
    await sql`truncate mx_domains, carrier_emails, email_reasons, emails, runs restart identity cascade`.execute(store.db);
  });

  it('a resolver that answers NXDOMAIN for everything: nothing is judged, nothing is dead, the run fails naming it', async () => {
    const captive = await server({}); // knows no name
    await seedEmails(['ok.test', 'gsuite.test', 'nx.test']);
    const e = await failing(checkMx(ctx([captive.address])));
    expect(e.message).toContain('failed their canaries before the run, so no domain was judged dead or alive');
    expect(e.message).toContain(`${captive.address} answered wrongly: MX gmail.com -> NXDOMAIN (this name exists); MX outlook.com -> NXDOMAIN (this name exists)`);
    expect(e.message).toContain('3 domain(s) were marked unknown (resolver_untrusted)');
    expect(e.message).toMatch(/AUDIENCE_DNS_SERVERS/);
    expect(e.exitCode).toBe(1);
    expect(e.summary).toMatchObject({
      checked: 0,
      verdicts: { deliverable: 0, dead: 0, unknown: 3, unresolvable: 0 },
      canaries: { trusted: false, checks: 1, notJudged: 3, servers: [{ server: captive.address, status: 'lied' }] },
    });
    expect(await counts()).toEqual({ 'unknown/resolver_untrusted': 3 });
    expect((await row('nx.test')).last_error).toMatch(/^not judged: the name server failed its canaries \(.*gmail\.com -> NXDOMAIN/);
    // Only the canaries were asked: no domain's question went to a server known to lie.
    expect(new Set(captive.queries.map((q) => q.name.replace(/-[0-9a-f]{12}\./, '-X.')))).toEqual(new Set(['gmail.com', 'outlook.com', 'audience-canary-X.example']));
    const run = await store.db.selectFrom('runs').select(['status', 'error', 'counts']).where('stage', '=', 'check-mx').executeTakeFirstOrThrow();
    expect(run).toMatchObject({ status: 'failed', counts: { canaries: { trusted: false, notJudged: 3 } } });
    expect(run.error).toContain('answered wrongly');
  });

  it('a resolver broken for days never makes a domain unresolvable: unknown keeps its own recheck and the streak stands still', async () => {
    const captive = await server({});
    await seedEmails(['ok.test', 'silent.test']);
    await checkMx(ctx([good.address])); // silent.test: a real unknown, streak day 1
    expect(await row('silent.test')).toMatchObject({ verdict: 'unknown', reason: 'timeout', unknown_days: 1 });
    for (let d = 2; d <= 6; d++) {
      clock = new Date(T0.getTime() + d * DAY);
      await failing(checkMx(ctx([captive.address]), { domains: ['ok.test', 'silent.test'] }));
    }
    const silent = await row('silent.test');
    expect(silent).toMatchObject({ verdict: 'unknown', reason: 'resolver_untrusted', unknown_days: 1, unknown_since: T0, last_unknown_day: '2026-11-20' });
    const ok = await row('ok.test');
    expect(ok).toMatchObject({ verdict: 'unknown', reason: 'resolver_untrusted', unknown_days: 0, unknown_since: null, provider: 'other', mx_hosts: ['mx1.ok.test', 'mx2.ok.test'] });
    // Checked again after mx.unknownRecheckMinutes, like any unknown.
    expect(ok.expires_at.getTime() - clock.getTime()).toBe(15 * 60_000);
    expect(await domainsNeedingCheck(store.db, new Date(clock.getTime() + 16 * 60_000))).toEqual(['ok.test', 'silent.test']);
    // The resolver is mended: answers again, and the streak goes on from where it stood.
    clock = new Date(T0.getTime() + 7 * DAY);
    await checkMx(ctx([good.address]), { domains: ['ok.test', 'silent.test'] });
    expect(await row('ok.test')).toMatchObject({ verdict: 'deliverable', reason: 'mx' });
    expect(await row('silent.test')).toMatchObject({ verdict: 'unknown', reason: 'timeout', unknown_days: 2 });
  });

  it('a resolver that rewrites NXDOMAIN into an address is caught by the name that cannot exist', async () => {
    const rewriting = await server(BULK_ZONES, { wildcard: { A: ['198.51.100.7'] } });
    const e = await failing(checkMx(ctx([rewriting.address]), { domains: ['nx.test', 'ok.test'] }));
    expect(e.message).toMatch(/MX audience-canary-[0-9a-f]{12}\.example -> NOERROR \(this name cannot exist\); A audience-canary-[0-9a-f]{12}\.example -> NOERROR/);
    // Without the canaries nx.test would have come out deliverable (implicit MX on the rewritten address).
    expect(await counts()).toEqual({ 'unknown/resolver_untrusted': 2 });
  });

  it('a lying server next to a working one: left out, the verdicts come from the working one, and the run still fails', async () => {
    const captive = await server({});
    const e = await failing(checkMx(ctx([captive.address, good.address]), { domains: ['nx.test', 'ok.test', 'gsuite.test'] }));
    expect(e.message).toContain(`${captive.address} answered wrongly`);
    expect(e.message).toContain(`The run's 3 verdict(s) came from ${good.address} alone and were written`);
    expect(await counts()).toEqual({ 'dead/nxdomain': 1, 'deliverable/mx': 2 });
    expect(e.summary).toMatchObject({ checked: 3, canaries: { trusted: false, notJudged: 0 }, dnsServers: [captive.address, good.address] });
    expect(captive.queries.filter((q) => !q.name.startsWith('audience-canary-') && !['gmail.com', 'outlook.com'].includes(q.name))).toEqual([]);
  });

  it('a silent server next to a working one is left out with a warning; the run succeeds', async () => {
    const mute = await server({}, { silent: true });
    const s = await checkMx(ctx([mute.address, good.address]), { domains: ['nx.test', 'ok.test'] });
    expect(s).toMatchObject({ checked: 2, verdicts: { deliverable: 1, dead: 1 }, canaries: { trusted: true, notJudged: 0 } });
    expect(s.canaries!.servers.map((x) => x.status)).toEqual(['no_answer', 'trusted']);
    expect(warnings.join('')).toContain(`warning: ${mute.address} did not answer: MX gmail.com -> timeout`);
  });

  it('canary names are configurable: a resolver that only knows internal names passes with its own', async () => {
    const internal = await server(Object.fromEntries(Object.entries(BULK_ZONES).filter(([k]) => !/gmail|outlook/.test(k))));
    const e = await failing(checkMx(ctx([internal.address]), { domains: ['ok.test'] }));
    expect(e.message).toContain('set mx.canaries.mustExist to names it serves');
    const s = await checkMx(ctx([internal.address], { canaries: { mustExist: ['ok.test', 'gsuite.test'] } }), { domains: ['ok.test'] });
    expect(s).toMatchObject({ verdicts: { deliverable: 1 }, canaries: { trusted: true } });
  });

  for (const then of ['nxdomain', 'silent'] as const) {
    it(`a resolver that breaks half-way (${then === 'nxdomain' ? 'NXDOMAIN for everything' : 'no answer at all'}) stops the run; what it said after breaking is not written`, async () => {
      // 4 canary queries, one host lookup, the first batch of 500 and its 4 canary queries fit in 700 answers.
      const breaking = await server(BULK_ZONES, { breakAfter: { answers: 700, then } });
      await seedEmails(BULK);
      const e = await failing(checkMx(ctx([breaking.address], { retries: 0, timeoutMs: 500 })));
      expect(e.message).toMatch(/failed their canaries during the run, after \d+ check\(s\) \(they passed at its start\)/);
      expect(e.message).toContain(then === 'nxdomain' ? `${breaking.address} answered wrongly: MX gmail.com -> NXDOMAIN` : `${breaking.address} did not answer: MX gmail.com -> timeout`);
      // The first batch was vouched for by canaries asked after it; everything since is unknown, none of it dead.
      expect(await counts()).toEqual({ 'deliverable/mx': 500, 'unknown/resolver_untrusted': 700 });
      const streaks = await sql<{ n: number }>`select count(*)::int as n from mx_domains where unknown_days > 0 or unknown_since is not null`.execute(store.db);
      expect(streaks.rows[0]!.n).toBe(0);
      // The guard noticed before the next batch was due, and the run stopped asking.
      expect(e.summary.canaries).toMatchObject({ trusted: false, guardTrips: 1, notJudged: 700 });
      expect(e.summary.checked).toBeLessThan(1000);
      expect(breaking.queries.length).toBeLessThan(1000);
      expect(warnings.join('')).toMatch(/of the last checks were dead or unknown \(more than 45%\): asking the canaries again/);
    });
  }

  it('a run of genuinely dead domains trips the guard, the canaries hold, and the dead verdicts are written', async () => {
    const dead = Array.from({ length: 300 }, (_, i) => `lapsed-${i}.gone.test`);
    await seedEmails(dead);
    const s = await checkMx(ctx([good.address]));
    expect(s).toMatchObject({ checked: 300, verdicts: { dead: 300 }, canaries: { trusted: true, notJudged: 0 } });
    expect(s.canaries!.guardTrips).toBeGreaterThanOrEqual(1);
    expect(await counts()).toEqual({ 'dead/nxdomain': 300 });
    // A short run of dead domains does not even cost a canary check beyond the usual ones.
    const few = await checkMx(ctx([good.address]), { domains: dead.slice(0, 50) });
    expect(few.canaries).toMatchObject({ guardTrips: 0, checks: 2 });
  });

  it('the recent rate comes from the last successful DNS runs of the ledger', async () => {
    expect(await recentNegativeShare(store.db)).toBeNull();
    const run = (status: string, counts: object) => sql`insert into runs (stage, status, counts) values ('check-mx', ${status}, ${JSON.stringify(counts)}::jsonb)`.execute(store.db);
    const v = (deliverable: number, dead: number, unknown = 0) => ({ deliverable, dead, unknown, unresolvable: 0 });
    await run('ok', { checked: 150, verdicts: v(140, 10), dnsServers: ['x'] });
    expect(await recentNegativeShare(store.db)).toBeNull(); // fewer than the guard's window
    await run('ok', { checked: 250, verdicts: v(200, 40, 10), dnsServers: ['x'] });
    await run('failed', { checked: 1000, verdicts: v(0, 0, 1000), dnsServers: ['x'] });
    await run('ok', { checked: 0, imported: 500, verdicts: v(0, 500) });
    expect(await recentNegativeShare(store.db)).toBeCloseTo(60 / 400);
  });
});
