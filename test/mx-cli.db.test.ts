/**
 * `audience check-mx` end to end through the real binary: the --json contract, exit codes, and the
 * shipped snapshot (data-samples/mx-snapshot.csv) giving the sample universe's verdicts offline.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/db/store.ts';
import { loadConfig } from '../src/config.ts';
import { createCandidates, evaluateExclusions } from '../src/rules/engine.ts';
import { mxDeadRule } from '../src/rules/mx-dead.ts';
import { mxUnknownRule } from '../src/rules/mx-unknown.ts';
import { yahooFamilyMxRule } from '../src/rules/yahoo-family-mx.ts';
import { runCli } from './helpers/cli.ts';
import { startDnsServer, type TestDnsServer } from './helpers/dns-server.ts';
import { REPO_ROOT } from './helpers/samples.ts';
import { createTestStore, testBackend, type TestStore } from './helpers/store.ts';
import { MX_ZONES } from './fixtures/mx/zones.ts';

const SNAPSHOT = path.join(REPO_ROOT, 'data-samples/mx-snapshot.csv');
const SNAPSHOT_AT = '2026-11-27T14:00:00.000Z';
/**
 * The CLI's clock (an import refuses lines observed after it): a few days after the snapshot.
 * AUDIENCE_NOW restarts at its value in every process, so each command gets its own, an hour
 * after the one before: otherwise a slow start makes one command's writes newer than the next
 * command's clock.
 */
const NOW = Date.parse('2026-12-01T12:00:00Z');
let commands = 0;
const later = () => new Date(NOW + commands++ * 3_600_000).toISOString();

describe('audience check-mx (CLI)', () => {
  let testStore: TestStore;
  let dns: TestDnsServer;
  let env: Record<string, string>;
  let dataDir: string;

  beforeAll(async () => {
    dns = await startDnsServer(MX_ZONES);
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'audience-mx-cli-'));
    testStore = await createTestStore();
    env = testBackend() === 'pg' ? { DATABASE_URL: testStore.url! } : { AUDIENCE_DATA_DIR: dataDir };
    // The CLI opens the database itself (PGlite allows one process per data dir).
    if (testBackend() === 'pglite') await testStore.close();
  });
  afterAll(async () => {
    await dns.close();
    if (testBackend() === 'pg') await testStore.close();
  });

  /** The binary, at its own moment of the test's clock. */
  const cli = (args: string[]) => runCli(args, { env: { ...env, AUDIENCE_NOW: later() } });

  /** The CLI's database, opened after it exited. */
  async function withDb<T>(fn: (s: Store) => Promise<T>): Promise<T> {
    const s = testBackend() === 'pg' ? testStore : await openStore({ dataDir });
    try {
      return await fn(s);
    } finally {
      if (testBackend() === 'pglite') await s.close();
    }
  }

  it('--json --domain: exactly one JSON object with the contract keys', async () => {
    const r = await cli(['--json', 'check-mx', '--domain', 'gsuite.test', '--domain', 'nx.test', '--dns', dns.address]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      command: 'check-mx',
      checked: 2,
      verdicts: { deliverable: 1, dead: 1, unknown: 0, unresolvable: 0 },
      byProvider: { google: 1 },
      domains: [
        { domain: 'gsuite.test', verdict: 'deliverable', reason: 'mx', provider: 'google', mx: ['smtp.google.com'] },
        { domain: 'nx.test', verdict: 'dead', reason: 'nxdomain', provider: null, mx: [] },
      ],
    });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('usage errors exit 2 with the JSON error object', async () => {
    const r = await cli(['--json', 'check-mx', '--import', SNAPSHOT, '--domain', 'x.test']);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ command: 'check-mx', ok: false, exitCode: 2, error: { phase: 'usage', message: expect.stringContaining('--import') } });
    const bad = await cli(['check-mx', '--domain', 'ok.test', '--dns', '127.0.0.1:99999']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/port must be 1-65535/);
  });

  it('--import of the shipped snapshot gives the sample universe its verdicts, offline', async () => {
    const r = await cli(['--json', 'check-mx', '--import', SNAPSHOT]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ command: 'check-mx', imported: 27, checked: 0, verdicts: { deliverable: 24, dead: 2, unknown: 1, unresolvable: 0 } });

    const providers = await withDb(async (s) =>
      Object.fromEntries((await s.db.selectFrom('mx_domains').select(['domain', 'provider']).execute()).map((x) => [x.domain, x.provider])),
    );
    for (const d of ['roadrunner-freight.test', 'blue-ox-hauling.test', 'prairie-logistics.example']) expect(providers[d]).toBe('google');
    for (const d of ['lonestar-carriers.example', 'great-lakes-transport.test']) expect(providers[d]).toBe('microsoft365');
    expect(providers['hotmail-like.example']).toBe('outlook_consumer');
    for (const d of ['example.com', 'example.net', 'example.org', 'mesa-trucking.test', 'cascade-moving.test']) expect(providers[d]).toBe('other');
    expect(providers['yahoo-hosted.example']).toBe('yahoo');

    // The rules see what the demo's build will see, far from the snapshot's expiry.
    const ruleCtx = { config: loadConfig({ env: {}, cwd: os.tmpdir() }), date: '2027-06-01', now: new Date('2027-06-01T12:00:00Z') };
    const hits = await withDb((s) =>
      s.db.transaction().execute(async (trx) => {
        await createCandidates(
          trx,
          sql`select row_number() over (order by d)::bigint as email_id, 'ops@' || d as email, d as domain
              from unnest(${['yahoo-hosted.example', 'defunct-freight.test', 'nullmx-carrier.test', 'flaky-dns.test', 'mesa-trucking.test', 'roadrunner-freight.test']}::text[]) as d`,
        );
        await evaluateExclusions(trx, ruleCtx, [yahooFamilyMxRule, mxDeadRule, mxUnknownRule]);
        return (await sql<{ domain: string; code: string }>`select c.domain, h.code from pg_temp.exclusion_hits h join pg_temp.candidates c using (email_id) order by 1`.execute(trx)).rows;
      }),
    );
    expect(hits).toEqual([
      { domain: 'defunct-freight.test', code: 'mx_dead' },
      { domain: 'flaky-dns.test', code: 'mx_unknown' },
      { domain: 'nullmx-carrier.test', code: 'mx_dead' },
      { domain: 'yahoo-hosted.example', code: 'yahoo_family' },
    ]);
  });

  it('--export writes what --import reads', async () => {
    const file = path.join(dataDir, 'out.csv');
    const r = await cli(['--json', 'check-mx', '--export', file]);
    expect(r.code, r.stderr).toBe(0);
    expect((r.json as { exported: number }).exported).toBeGreaterThanOrEqual(27);
    const again = await cli(['--json', 'check-mx', '--import', file]);
    expect(again.code, again.stderr).toBe(0);
    // Every line ties with the row it was exported from: the stored one stays, nothing changes.
    expect(again.json).toMatchObject({ imported: 0, keptNewer: (r.json as { exported: number }).exported, rejected: 0 });
  });

  it('--import says once what it did: imported, kept (with what won), rejected', async () => {
    const file = path.join(dataDir, 'older.csv');
    const [older, newer] = ['2026-11-10T00:00:00.000Z', '2026-11-28T00:00:00.000Z'];
    writeFileSync(
      file,
      'domain,verdict,reason,provider,mx,addresses,checked_at,expires_at,last_error\n' +
        `example.com,dead,nxdomain,,,,${older},,\n` +
        `fresh-carrier.test,deliverable,mx,,10 mx.fresh-carrier.test,93.184.216.50,${newer},,\n`,
    );
    const r = await cli(['check-mx', '--import', file]);
    expect(r.code, r.stderr).toBe(0);
    const all = r.stdout + r.stderr;
    expect(all.match(/imported \d+ verdict/g)).toHaveLength(1);
    expect(r.stdout).toContain('imported 1 verdict(s); 1 line(s) not imported because a newer verdict wins; 0 rejected');
    expect(r.stdout).toContain(`line 2 example.com dead of ${older}: kept deliverable (mx) of ${SNAPSHOT_AT} from an import`);

    writeFileSync(file, `domain,verdict,reason,provider,mx,addresses,checked_at,expires_at,last_error\nbad.test,alive,mx,,,,${older},,\nok2.test,dead,nxdomain,,,,${older},,\n`);
    const bad = await cli(['--json', 'check-mx', '--import', file]);
    expect(bad.code).toBe(1);
    expect(bad.json).toMatchObject({
      command: 'check-mx',
      ok: false,
      exitCode: 1,
      imported: 1,
      rejected: 1,
      rejects: [{ line: 2, reason: expect.stringContaining('verdict "alive"') }],
      error: { phase: 'input', message: expect.stringContaining('line 2: verdict "alive"') },
    });
    expect(bad.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('a resolver that answers NXDOMAIN for everything: exit 1, which server lied, what it answered, how to fix it', async () => {
    const captive = await startDnsServer({});
    try {
      const r = await cli(['--json', 'check-mx', '--domain', 'gsuite.test', '--domain', 'nx.test', '--dns', captive.address]);
      expect(r.code).toBe(1);
      expect(r.json).toMatchObject({
        command: 'check-mx',
        ok: false,
        exitCode: 1,
        checked: 0,
        verdicts: { deliverable: 0, dead: 0, unknown: 2, unresolvable: 0 },
        canaries: { trusted: false, notJudged: 2, servers: [{ server: captive.address, status: 'lied' }] },
        domains: [
          { domain: 'gsuite.test', verdict: 'unknown', reason: 'resolver_untrusted' },
          { domain: 'nx.test', verdict: 'unknown', reason: 'resolver_untrusted' },
        ],
        error: { phase: 'external' },
      });
      expect(r.stderr).toContain(`${captive.address} answered wrongly: MX gmail.com -> NXDOMAIN (this name exists)`);
      expect(r.stderr).toMatch(/--dns HOST:PORT, AUDIENCE_DNS_SERVERS/);
      const human = await cli(['check-mx', '--domain', 'nx.test', '--dns', captive.address]);
      expect(human.code).toBe(1);
      expect(human.stderr).toMatch(/^audience: the name server\(s\) failed their canaries before the run/m);
    } finally {
      await captive.close();
    }
    const dead = await withDb((s) => s.db.selectFrom('mx_domains').select('domain').where('verdict', '=', 'dead').where('domain', '=', 'gsuite.test').execute());
    expect(dead).toEqual([]);
  });
});
