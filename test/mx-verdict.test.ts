import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, type Resolver } from '../src/mx/resolver.ts';
import { checkDomain, createHostCache, type DomainCheck } from '../src/mx/verdict.ts';
import { startDnsServer, type TestDnsServer } from './helpers/dns-server.ts';
import { MX_ZONES } from './fixtures/mx/zones.ts';

const TIMEOUT_MS = 300;
const RETRIES = 1;

describe('MX verdicts against a real DNS server on 127.0.0.1', () => {
  let server: TestDnsServer;
  let resolver: Resolver;
  const check = (d: string): Promise<DomainCheck> => checkDomain(resolver, d, createHostCache());

  beforeAll(async () => {
    server = await startDnsServer(MX_ZONES);
    resolver = createResolver({ servers: [{ host: server.host, port: server.port }], timeoutMs: TIMEOUT_MS, retries: RETRIES, backoffMs: 20, qps: null });
  });
  afterAll(async () => {
    await server.close();
  });

  it('MX hosts with public addresses: deliverable, hosts by preference, addresses kept', async () => {
    const r = await check('OK.Test.');
    expect(r).toMatchObject({ domain: 'ok.test', verdict: 'deliverable', reason: 'mx', provider: 'other', mxHosts: ['mx1.ok.test', 'mx2.ok.test'], mxPreferences: [10, 20] });
    // The lowest preference resolved to a public address: the backup was not looked up.
    expect(r.addresses).toEqual(['93.184.216.10']);
    expect(r.ttlSeconds).toBe(300);
  });

  it('no MX but a public A record: deliverable through the implicit MX', async () => {
    expect(await check('aonly.test')).toMatchObject({ verdict: 'deliverable', reason: 'implicit_mx', mxHosts: ['aonly.test'], addresses: ['93.184.216.10'] });
  });

  it('an IPv6-only MX host is deliverable', async () => {
    expect(await check('v6only.test')).toMatchObject({ verdict: 'deliverable', addresses: ['2a00:1450:4001:80b::201a'] });
  });

  it('a dead primary MX with a live backup is deliverable', async () => {
    expect(await check('backup-down.test')).toMatchObject({ verdict: 'deliverable', mxHosts: ['mx.backup-down.test', 'mx1.ok.test'] });
  });

  it('an MX written as a public IP address is deliverable, flagged by its reason', async () => {
    expect(await check('iplit.test')).toMatchObject({ verdict: 'deliverable', reason: 'ip_literal_mx', addresses: ['93.184.216.12'] });
  });

  it('NXDOMAIN, null MX, no MX and no address: dead with the reason', async () => {
    expect(await check('nx.test')).toMatchObject({ verdict: 'dead', reason: 'nxdomain', provider: null, mxHosts: [] });
    expect(await check('nullmx.test')).toMatchObject({ verdict: 'dead', reason: 'null_mx', mxHosts: [] });
    const nodata = await check('nodata.test');
    expect(nodata).toMatchObject({ verdict: 'dead', reason: 'no_mx_no_address' });
    expect(nodata.error).toMatch(/no MX and no A\/AAAA/);
  });

  it('MX hosts resolving only to loopback or private space: dead (bogon), with the addresses', async () => {
    expect(await check('loopback.test')).toMatchObject({ verdict: 'dead', reason: 'mx_hosts_bogon', addresses: ['127.0.0.1'] });
    const priv = await check('private.test');
    expect(priv).toMatchObject({ verdict: 'dead', reason: 'mx_hosts_bogon', mxHosts: ['mx.private.test', 'mx2.private.test'] });
    expect(priv.addresses.sort()).toEqual(['10.1.2.3', '192.168.7.7', 'fd00::25']);
    expect(await check('aonly-private.test')).toMatchObject({ verdict: 'dead', reason: 'implicit_mx_bogon', addresses: ['172.16.0.9'] });
  });

  it('an MX host that does not exist: dead (dangling MX)', async () => {
    expect(await check('dangling.test')).toMatchObject({ verdict: 'dead', reason: 'mx_hosts_missing', mxHosts: ['nothere.test'] });
  });

  it('SERVFAIL and REFUSED are unknown, never dead, and the only server is asked once', async () => {
    // RFC 9520: the resolver caches its failure, so asking it again within the run repeats it.
    const before = resolver.stats.retries;
    const asked = (name: string) => server.queries.filter((q) => q.name === name).length;
    expect(await check('servfail.test')).toMatchObject({ verdict: 'unknown', reason: 'servfail' });
    expect(await check('refused.test')).toMatchObject({ verdict: 'unknown', reason: 'refused' });
    expect(resolver.stats.retries - before).toBe(0);
    expect(asked('servfail.test')).toBe(1);
    expect(asked('refused.test')).toBe(1);
  });

  it('a failing MX host lookup makes the domain unknown, not dead', async () => {
    expect(await check('hostfail.test')).toMatchObject({ verdict: 'unknown', reason: 'servfail', mxHosts: ['mx.hostfail.test'] });
    expect(await check('hostsilent.test')).toMatchObject({ verdict: 'unknown', reason: 'timeout' });
  });

  it('a silent server yields unknown within the timeout budget', async () => {
    const started = performance.now();
    const r = await check('silent.test');
    const elapsed = performance.now() - started;
    expect(r).toMatchObject({ verdict: 'unknown', reason: 'timeout' });
    expect(r.error).toMatch(/no reply within 300ms/);
    // (retries + 1) attempts of TIMEOUT_MS plus the backoff, with scheduling slack.
    expect(elapsed).toBeGreaterThanOrEqual((RETRIES + 1) * TIMEOUT_MS - 20);
    expect(elapsed).toBeLessThan((RETRIES + 1) * TIMEOUT_MS + 400);
  });

  it('a slow answer within the timeout still gives its verdict', async () => {
    expect(await check('slow.test')).toMatchObject({ verdict: 'deliverable', mxHosts: ['mx1.ok.test'] });
  });

  it('a truncated UDP answer is retried over TCP and decoded completely', async () => {
    const before = resolver.stats.tcpFallbacks;
    const r = await check('truncated.test');
    expect(r.verdict).toBe('deliverable');
    expect(r.mxHosts).toHaveLength(30);
    expect(r.mxHosts[0]).toBe('mail-exchanger-number-0.truncated.test');
    expect(resolver.stats.tcpFallbacks - before).toBe(1);
    expect(server.queries.some((q) => q.name === 'truncated.test' && q.transport === 'tcp')).toBe(true);
  });

  it('a truncated answer whose TCP retry hangs is unknown within the TCP deadline', async () => {
    const started = performance.now();
    expect(await check('tcp-hangs.test')).toMatchObject({ verdict: 'unknown', reason: 'timeout' });
    expect(performance.now() - started).toBeLessThan((RETRIES + 1) * TIMEOUT_MS + 400);
  });

  it('provider from all lowest-preference hosts, on label boundaries', async () => {
    expect((await check('gsuite.test')).provider).toBe('google');
    expect((await check('google-plus-backup.test')).provider).toBe('google');
    expect((await check('mixed.test')).provider).toBe('mixed');
    expect(await check('yahoo-hosted.test')).toMatchObject({ verdict: 'deliverable', provider: 'yahoo', mxHosts: ['mta5.am0.yahoodns.net', 'mta6.am0.yahoodns.net'] });
    expect((await check('lookalike.test')).provider).toBe('other');
    expect((await check('notgoogle.test')).provider).toBe('other');
  });

  it('host lookups are shared across domains of one run', async () => {
    const cache = createHostCache();
    const before = server.queries.filter((q) => q.name === 'smtp.google.com').length;
    await Promise.all(['gsuite.test', 'google-plus-backup.test', 'gsuite.test'].map((d) => checkDomain(resolver, d, cache)));
    expect(server.queries.filter((q) => q.name === 'smtp.google.com').length - before).toBe(1);
  });
});

describe('resolver over several name servers', () => {
  it('moves to the next server when one is silent', async () => {
    const good = await startDnsServer(MX_ZONES);
    const mute = await startDnsServer({}, { silent: true });
    try {
      const resolver = createResolver({
        servers: [
          { host: mute.host, port: mute.port },
          { host: good.host, port: good.port },
        ],
        timeoutMs: 200,
        retries: 1,
        backoffMs: 10,
        qps: null,
      });
      // First attempt goes to the mute server (rotation starts there), the retry to the good one.
      expect(await checkDomain(resolver, 'ok.test')).toMatchObject({ verdict: 'deliverable' });
      expect(resolver.stats.timeouts).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all([good.close(), mute.close()]);
    }
  });

  it('SERVFAIL or REFUSED from one server moves to the next at once, and never back to it', async () => {
    const failing = await startDnsServer({ ...MX_ZONES, 'ok.test': { rcode: 2 }, 'aonly.test': { rcode: 5 } });
    const good = await startDnsServer(MX_ZONES);
    const third = await startDnsServer(MX_ZONES);
    try {
      const resolver = createResolver({
        servers: [failing, good, third].map((s) => ({ host: s.host, port: s.port })),
        timeoutMs: 300,
        retries: 2,
        // A backoff this long would show in the elapsed time: a rotation after SERVFAIL has none.
        backoffMs: 1000,
        qps: null,
      });
      const asked = (s: TestDnsServer, name: string) => s.queries.filter((q) => q.name === name && q.type === 'MX').length;
      const started = performance.now();
      // Rotation starts at the failing server for the first query.
      expect(await checkDomain(resolver, 'ok.test')).toMatchObject({ verdict: 'deliverable' });
      expect(performance.now() - started).toBeLessThan(400);
      expect([asked(failing, 'ok.test'), asked(good, 'ok.test'), asked(third, 'ok.test')]).toEqual([1, 1, 0]);

      // Every server answering SERVFAIL: each is asked exactly once, whatever `retries` allows.
      const before = [failing, good, third].map((s) => asked(s, 'servfail.test'));
      expect(await checkDomain(resolver, 'servfail.test')).toMatchObject({ verdict: 'unknown', reason: 'servfail' });
      expect([failing, good, third].map((s, k) => asked(s, 'servfail.test') - before[k]!)).toEqual([1, 1, 1]);

      // Two servers, one retry: SERVFAIL at both is two asks, not a second round at the first.
      const two = createResolver({ servers: [good, third].map((s) => ({ host: s.host, port: s.port })), timeoutMs: 300, retries: 5, backoffMs: 1000, qps: null });
      const b2 = [good, third].map((s) => asked(s, 'refused.test'));
      expect(await checkDomain(two, 'refused.test')).toMatchObject({ verdict: 'unknown', reason: 'refused' });
      expect([good, third].map((s, k) => asked(s, 'refused.test') - b2[k]!)).toEqual([1, 1]);
      expect(two.stats.retries).toBe(1);
      resolver.close();
      two.close();
    } finally {
      await Promise.all([failing.close(), good.close(), third.close()]);
    }
  });

  it('a timeout is retried with backoff, then a SERVFAIL elsewhere still wins over it', async () => {
    const mute = await startDnsServer({}, { silent: true });
    const good = await startDnsServer(MX_ZONES);
    try {
      const resolver = createResolver({
        servers: [mute, good].map((s) => ({ host: s.host, port: s.port })),
        timeoutMs: 150,
        retries: 2,
        backoffMs: 100,
        qps: null,
      });
      const started = performance.now();
      // mute: timeout -> backoff (50-100 ms) -> good: SERVFAIL -> nothing left that has not answered
      // but the mute one, asked again (no wait: the last attempt got a reply) -> timeout; the SERVFAIL
      // is the answer.
      expect(await checkDomain(resolver, 'servfail.test')).toMatchObject({ verdict: 'unknown', reason: 'servfail' });
      const elapsed = performance.now() - started;
      expect(resolver.stats.timeouts).toBe(2);
      expect(resolver.stats.retries).toBe(2);
      expect(elapsed).toBeGreaterThanOrEqual(2 * 150 + 50);
      expect(good.queries.filter((q) => q.name === 'servfail.test').length).toBe(1);
      resolver.close();
    } finally {
      await Promise.all([mute.close(), good.close()]);
    }
  });

  it('a qps cap spaces the queries out', async () => {
    const server = await startDnsServer(MX_ZONES);
    try {
      const resolver = createResolver({ servers: [{ host: server.host, port: server.port }], timeoutMs: 500, retries: 0, backoffMs: 10, qps: 20 });
      const started = performance.now();
      await Promise.all(Array.from({ length: 10 }, () => resolver.query('nx.test', 'MX')));
      // 10 queries at 20/s: the last one leaves 450 ms after the first.
      expect(performance.now() - started).toBeGreaterThanOrEqual(430);
    } finally {
      await server.close();
    }
  });
});
