/**
 * Resolver canaries against real DNS servers on 127.0.0.1: a working one, one that answers
 * NXDOMAIN for everything, one that rewrites NXDOMAIN into an address, a silent one.
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { canaryFix, canaryNames, checkCanaries, checkResolver, describeFailures, isReservedName } from '../src/mx/canaries.ts';
import { parseServer } from '../src/mx/servers.ts';
import { startDnsServer, type TestDnsServer } from './helpers/dns-server.ts';
import { MX_ZONES } from './fixtures/mx/zones.ts';

const probe = { timeoutMs: 150, retries: 1, backoffMs: 5 };
const config = (mx: Record<string, unknown> = {}, ownDomains: string[] = []) => loadConfig({ env: {}, cwd: os.tmpdir(), overrides: { mx, maillog: { ownDomains } } });

describe('resolver canaries', () => {
  let good: TestDnsServer;
  let nxdomain: TestDnsServer;
  let rewriting: TestDnsServer;
  let silent: TestDnsServer;
  beforeAll(async () => {
    good = await startDnsServer(MX_ZONES);
    nxdomain = await startDnsServer({}); // knows no name: a captive resolver
    rewriting = await startDnsServer(MX_ZONES, { wildcard: { A: ['198.51.100.7'] } }); // the ISP ad-page kind
    silent = await startDnsServer({}, { silent: true });
  });
  afterAll(async () => {
    await Promise.all([good, nxdomain, rewriting, silent].map((s) => s.close()));
  });

  it('default names: gmail.com, outlook.com and the firm own domains that can exist in the public DNS', () => {
    expect(canaryNames(config())).toEqual({ mustExist: ['gmail.com', 'outlook.com'], mustNotExistUnder: 'example' });
    expect(canaryNames(config({}, ['Firm-Logistics.com.', 'firm-logistics.example', 'mail.firm.test', 'gmail.com']))).toEqual({
      mustExist: ['gmail.com', 'outlook.com', 'firm-logistics.com'],
      mustNotExistUnder: 'example',
    });
    expect(canaryNames(config({ canaries: { mustExist: ['OK.test'], mustNotExistUnder: 'absent.test' } }, ['firm.com']))).toEqual({
      mustExist: ['ok.test'],
      mustNotExistUnder: 'absent.test',
    });
    expect(() => config({ canaries: { mustExist: [] } })).toThrow(/mustExist/);
    expect(() => config({ canaries: { mustNotExistUnder: 'not a name' } })).toThrow(/DNS name/);
    expect(['a.example', 'b.test', 'c.invalid', 'localhost', 'x.onion'].every(isReservedName)).toBe(true);
    expect(['example.com', 'gmail.com'].some(isReservedName)).toBe(false);
  });

  it('trusts a working resolver: the names exist, a random name under the reserved one does not', async () => {
    const r = await checkCanaries([parseServer(good.address)], canaryNames(config()), probe);
    expect(r.trusted).toEqual([parseServer(good.address)]);
    expect(r.servers).toHaveLength(1);
    expect(r.servers[0]!.status).toBe('trusted');
    expect(r.servers[0]!.probes.map((p) => [p.type, p.name.replace(/-[0-9a-f]{12}\./, '-X.'), p.got])).toEqual([
      ['MX', 'gmail.com', 'NOERROR'],
      ['MX', 'outlook.com', 'NOERROR'],
      ['MX', 'audience-canary-X.example', 'NXDOMAIN'],
      ['A', 'audience-canary-X.example', 'NXDOMAIN'],
    ]);
    // A fresh random label every time: no cache can answer it.
    const again = await checkCanaries([parseServer(good.address)], canaryNames(config()), probe);
    expect(again.servers[0]!.probes[2]!.name).not.toBe(r.servers[0]!.probes[2]!.name);
  });

  it('a resolver that answers NXDOMAIN for everything lied about the names that exist', async () => {
    const r = await checkCanaries([parseServer(nxdomain.address)], canaryNames(config()), probe);
    expect(r.trusted).toEqual([]);
    expect(r.servers[0]).toMatchObject({ server: nxdomain.address, status: 'lied' });
    expect(describeFailures(r)).toEqual([`${nxdomain.address} answered wrongly: MX gmail.com -> NXDOMAIN (this name exists); MX outlook.com -> NXDOMAIN (this name exists)`]);
  });

  it('a resolver that rewrites NXDOMAIN lied about the name that cannot exist', async () => {
    const r = await checkCanaries([parseServer(rewriting.address)], canaryNames(config()), probe);
    expect(r.servers[0]!.status).toBe('lied');
    expect(r.servers[0]!.probes.filter((p) => !p.ok).map((p) => [p.type, p.expect, p.got])).toEqual([
      ['MX', 'absent', 'NOERROR'],
      ['A', 'absent', 'NOERROR'],
    ]);
  });

  it('judges each server on its own, and a silent one as not answering', async () => {
    const servers = [good, nxdomain, silent].map((s) => parseServer(s.address));
    const r = await checkCanaries(servers, { mustExist: ['ok.test'], mustNotExistUnder: 'example' }, probe);
    expect(r.servers.map((s) => s.status)).toEqual(['trusted', 'lied', 'no_answer']);
    expect(r.trusted).toEqual([servers[0]]);
    expect(describeFailures(r)[1]).toMatch(new RegExp(`^${silent.address} did not answer: MX ok.test -> timeout`));
  });

  it('times each probe, the answer or the giving up: a slow name takes its delay, a silent server its timeouts', async () => {
    const names = { mustExist: ['slow.test'], mustNotExistUnder: 'example' };
    const r = await checkCanaries([parseServer(good.address)], names, { timeoutMs: 1000, retries: 0, backoffMs: 5 });
    const [slow, absent] = r.servers[0]!.probes;
    expect(slow).toMatchObject({ name: 'slow.test', got: 'NOERROR' });
    expect(slow!.ms).toBeGreaterThanOrEqual(240);
    expect(absent!.ms).toBeLessThan(slow!.ms);
    // Two attempts of 150 ms each (retries: 1), then `timeout`.
    const mute = await checkCanaries([parseServer(silent.address)], names, probe);
    expect(mute.servers[0]!.probes.every((p) => p.got === 'timeout' && p.ms >= 290)).toBe(true);
  });

  it('checkResolver (for audience doctor) reads the servers and names from the configuration', async () => {
    const r = await checkResolver(config({ dnsServers: [good.address, nxdomain.address], timeoutMs: 150, retries: 0, canaries: { mustExist: ['gsuite.test'] } }));
    expect(r.servers.map((s) => [s.server, s.status])).toEqual([
      [good.address, 'trusted'],
      [nxdomain.address, 'lied'],
    ]);
    expect(canaryFix('resolv.conf')).toMatch(/resolv\.conf.*AUDIENCE_DNS_SERVERS.*mx\.canaries\.mustExist/s);
    // doctor's own short probe: one attempt of 100 ms instead of the configured 2 s and retries.
    const quick = await checkResolver(config({ dnsServers: [silent.address], canaries: { mustExist: ['gsuite.test'] } }), { timeoutMs: 100, retries: 0 });
    expect(quick.servers[0]!.status).toBe('no_answer');
    expect(Math.max(...quick.servers[0]!.probes.map((p) => p.ms))).toBeLessThan(1000);
  });
});
