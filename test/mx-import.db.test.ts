/**
 * Which verdict wins (src/mx/precedence.ts), through `check-mx --import` and DNS checks: the later
 * checked_at; at the same time dead > deliverable > unresolvable > unknown; then live DNS over an
 * import; a full tie keeps the stored row (or the earlier line of a file). And the import's report:
 * imported / kept / rejected, every line counted once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkMx } from '../src/mx/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import { startDnsServer, type TestDnsServer } from './helpers/dns-server.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { MX_ZONES } from './fixtures/mx/zones.ts';

const NOW = new Date('2026-11-20T08:00:00Z');
const HEADER = 'domain,verdict,reason,provider,mx,addresses,checked_at,expires_at,last_error';
const EARLY = '2026-11-10T00:00:00.000Z';
const LATE = '2026-11-15T00:00:00.000Z';

describe('check-mx --import: which verdict wins', () => {
  let store: TestStore;
  let dns: TestDnsServer;
  let clock: Date;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mx-import-'));
  let files = 0;
  const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
  const ctx = (): StageContext => ({
    config: loadConfig({ env: {}, cwd: os.tmpdir(), overrides: { mx: { dnsServers: [dns.address], timeoutMs: 200, retries: 1, backoffMs: 10 } } }),
    store,
    out: createOutput({ json: true, quiet: true, stdout: sink(), stderr: sink() }),
    now: () => clock,
  });
  const csv = (...lines: string[]) => {
    const file = path.join(dir, `f${files++}.csv`);
    writeFileSync(file, [HEADER, ...lines, ''].join('\n'));
    return file;
  };
  const line = (domain: string, verdict: string, checkedAt: string) => {
    const reason = { deliverable: 'mx', dead: 'nxdomain', unknown: 'servfail', unresolvable: 'timeout' }[verdict];
    const mx = verdict === 'deliverable' ? `10 mx.${domain}` : '';
    return `${domain},${verdict},${reason},,${mx},,${checkedAt},,`;
  };
  const stored = async (domain: string) =>
    store.db.selectFrom('mx_domains').select(['verdict', 'checked_at', 'source', 'updated_at']).where('domain', '=', domain).executeTakeFirst();

  beforeAll(async () => {
    store = await createTestStore();
    dns = await startDnsServer(MX_ZONES);
  });
  afterAll(async () => {
    await dns.close();
    await store.close();
  });
  beforeEach(async () => {
    clock = NOW;
    await sql`truncate mx_domains`.execute(store.db);
  });

  it('the later observation wins either way, and the report says which stored verdict was kept', async () => {
    await checkMx(ctx(), { importFile: csv(line('example.com', 'dead', LATE), line('example.net', 'deliverable', EARLY)) });
    const s = await checkMx(ctx(), { importFile: csv(line('example.com', 'deliverable', EARLY), line('example.net', 'dead', LATE)) });
    expect(s).toMatchObject({ imported: 1, keptNewer: 1, rejected: 0, rejects: [], verdicts: { deliverable: 0, dead: 1, unknown: 0, unresolvable: 0 } });
    expect(s.kept).toEqual([
      { line: 2, domain: 'example.com', verdict: 'deliverable', checkedAt: EARLY, kept: { verdict: 'dead', reason: 'nxdomain', checkedAt: LATE, source: 'import' } },
    ]);
    expect(await stored('example.com')).toMatchObject({ verdict: 'dead', checked_at: new Date(LATE) });
    expect(await stored('example.net')).toMatchObject({ verdict: 'dead', checked_at: new Date(LATE) });
  });

  it('live DNS and imports compete on checked_at alone', async () => {
    clock = new Date(EARLY);
    await checkMx(ctx(), { domains: ['ok.test', 'nx.test'] });
    clock = NOW;
    // A newer snapshot replaces the older check; an older one does not.
    const s = await checkMx(ctx(), { importFile: csv(line('ok.test', 'dead', LATE), line('nx.test', 'deliverable', '2026-11-01T00:00:00.000Z')) });
    expect(s).toMatchObject({ imported: 1, keptNewer: 1 });
    expect(s.kept![0]).toMatchObject({ domain: 'nx.test', kept: { verdict: 'dead', source: 'dns', checkedAt: EARLY } });
    expect(await stored('ok.test')).toMatchObject({ verdict: 'dead', source: 'import' });
    // A check now is newer than the snapshot again.
    await checkMx(ctx(), { domains: ['ok.test'] });
    expect(await stored('ok.test')).toMatchObject({ verdict: 'deliverable', source: 'dns', checked_at: NOW });
  });

  it('at the same time: dead > deliverable > unresolvable > unknown, whichever came first', async () => {
    const order = ['dead', 'deliverable', 'unresolvable', 'unknown'];
    const pairs = order.flatMap((a, i) => order.slice(i + 1).map((b) => [a, b] as const));
    for (const [winner, loser] of pairs) {
      for (const first of [winner, loser]) {
        await sql`truncate mx_domains`.execute(store.db);
        const second = first === winner ? loser : winner;
        await checkMx(ctx(), { importFile: csv(line('tie.test', first, LATE)) });
        const s = await checkMx(ctx(), { importFile: csv(line('tie.test', second, LATE)) });
        expect({ winner, loser, first, stored: (await stored('tie.test'))!.verdict, imported: s.imported }).toEqual({
          winner,
          loser,
          first,
          stored: winner,
          imported: second === winner ? 1 : 0,
        });
      }
    }
  });

  it('at the same time and verdict, live DNS beats an import; a full tie keeps the stored row', async () => {
    await checkMx(ctx(), { domains: ['ok.test'] });
    const at = NOW.toISOString();
    const s = await checkMx(ctx(), { importFile: csv(line('ok.test', 'deliverable', at)) });
    expect(s).toMatchObject({ imported: 0, keptNewer: 1 });
    expect(await stored('ok.test')).toMatchObject({ source: 'dns' });

    await sql`truncate mx_domains`.execute(store.db);
    await checkMx(ctx(), { importFile: csv(line('ok.test', 'deliverable', at)) });
    await checkMx(ctx(), { domains: ['ok.test'] });
    expect(await stored('ok.test')).toMatchObject({ source: 'dns', checked_at: NOW });

    // Re-importing a file changes nothing: not even updated_at.
    const file = csv(line('a.test', 'dead', EARLY), line('b.test', 'deliverable', LATE));
    expect(await checkMx(ctx(), { importFile: file })).toMatchObject({ imported: 2, keptNewer: 0 });
    const before = await stored('b.test');
    const again = await checkMx(ctx(), { importFile: file });
    expect(again).toMatchObject({ imported: 0, keptNewer: 2, verdicts: { deliverable: 0, dead: 0, unknown: 0, unresolvable: 0 } });
    expect(await stored('b.test')).toEqual(before);
  });

  it('lines of one file for the same domain follow the same rule; a full tie keeps the earlier line', async () => {
    const s = await checkMx(ctx(), {
      importFile: csv(
        line('dup.test', 'deliverable', LATE),
        line('dup.test', 'dead', EARLY),
        line('dup.test', 'dead', LATE),
        'tie.test,dead,nxdomain,,,,2026-11-15T00:00:00Z,,first',
        'tie.test,dead,nxdomain,,,,2026-11-15T00:00:00Z,,second',
      ),
    });
    expect(s).toMatchObject({ imported: 2, keptNewer: 3, rejected: 0 });
    expect(s.kept!.map((k) => [k.line, k.domain, k.verdict, k.kept.verdict])).toEqual([
      [2, 'dup.test', 'deliverable', 'dead'],
      [3, 'dup.test', 'dead', 'dead'],
      [6, 'tie.test', 'dead', 'dead'],
    ]);
    expect(await stored('dup.test')).toMatchObject({ verdict: 'dead', checked_at: new Date(LATE) });
    const tie = await store.db.selectFrom('mx_domains').select('last_error').where('domain', '=', 'tie.test').executeTakeFirstOrThrow();
    expect(tie.last_error).toBe('first');
  });

  it('a DNS check does not replace a verdict observed later (a clock set back), and says so', async () => {
    await checkMx(ctx(), { importFile: csv(line('nx.test', 'deliverable', LATE)) });
    clock = new Date(EARLY);
    const s = await checkMx(ctx(), { domains: ['nx.test'] });
    expect(s).toMatchObject({ checked: 1, keptNewer: 1, verdicts: { deliverable: 0, dead: 0, unknown: 0, unresolvable: 0 } });
    expect(s.domains).toEqual([expect.objectContaining({ domain: 'nx.test', verdict: 'dead' })]);
    expect(await stored('nx.test')).toMatchObject({ verdict: 'deliverable', checked_at: new Date(LATE) });
  });
});
