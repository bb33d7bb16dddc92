/**
 * The nightly job (pipelines/nightly.ts): scrub-bounces then check-mx, each its own ledger run; a
 * re-run reads and checks nothing new; a failed scrub stops the job before any DNS work.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightlyJob, runNightly } from '../pipelines/nightly.ts';
import { InputError } from '../src/errors.ts';
import { fxConfig, fxContext, startDouble } from './build-fixture.ts';
import { DEFAULT_USER } from './listmonk-double/index.ts';
import { SAMPLE_DAY } from './census/context.ts';
import { startDnsServer, type TestDnsServer } from './helpers/dns-server.ts';
import { REPO_ROOT } from './helpers/samples.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { MX_ZONES } from './fixtures/mx/zones.ts';

const MAIL_LOG = path.join(REPO_ROOT, 'data-samples/maillog/mail.log');

describe('nightly job', () => {
  let store: TestStore;
  let dns: TestDnsServer;
  const ctx = () => fxContext(store, fxConfig({ mx: { dnsServers: [dns.address], timeoutMs: 200, retries: 1, backoffMs: 10 } }), SAMPLE_DAY);
  const runs = () => store.db.selectFrom('runs').select(['stage', 'status']).orderBy('id').execute();

  beforeAll(async () => {
    store = await createTestStore();
    dns = await startDnsServer(MX_ZONES);
    await sql`insert into emails (address, local_part, domain, valid, normalizer_version)
      values ('a@ok.test', 'a', 'ok.test', true, 1), ('c@nx.test', 'c', 'nx.test', true, 1)`.execute(store.db);
  });
  afterAll(async () => {
    await dns?.close();
    await store?.close();
  });

  it('scrubs, then checks the due domains, each its own run; a re-run reads and checks nothing new', async () => {
    expect(nightlyJob(ctx().config).map(([s]) => s.name)).toEqual(['scrub-bounces', 'check-mx']);
    const first = await runNightly(ctx(), { files: [MAIL_LOG] });
    expect(first).toMatchObject({ command: 'nightly', ok: true, runId: null, startedAt: SAMPLE_DAY.toISOString() });
    expect(first.scrub).toMatchObject({ command: 'scrub-bounces', ok: true, runId: expect.any(Number) });
    expect(first.scrub.newLines).toBeGreaterThan(0);
    expect(first.checkMx).toMatchObject({ command: 'check-mx', ok: true, runId: first.scrub.runId! + 1, verdicts: { deliverable: 1, dead: 1 } });
    expect(first.syncListmonk).toBeNull();
    expect(first.seconds).toBeCloseTo(first.scrub.seconds + first.checkMx.seconds, 2);

    const again = await runNightly(ctx(), { files: [MAIL_LOG] });
    expect([again.scrub.newLines, again.checkMx.checked]).toEqual([0, 0]);
    expect(await runs()).toEqual([
      { stage: 'scrub-bounces', status: 'ok' },
      { stage: 'check-mx', status: 'ok' },
      { stage: 'scrub-bounces', status: 'ok' },
      { stage: 'check-mx', status: 'ok' },
    ]);
  });

  it('a failed scrub stops the job: check-mx does not run', async () => {
    const junk = path.join(mkdtempSync(path.join(os.tmpdir(), 'audience-nightly-')), 'photo.jpg');
    writeFileSync(junk, 'not a log line\nnor this one\n');
    const before = (await runs()).length;
    await expect(runNightly(ctx(), { files: [junk] })).rejects.toThrow(InputError);
    expect((await runs()).slice(before)).toEqual([{ stage: 'scrub-bounces', status: 'failed' }]);
  });

  it('where Listmonk is configured, reads it between the scrub and the DNS work', async () => {
    const lm = await startDouble({ now: () => SAMPLE_DAY });
    try {
      const base = ctx();
      const config = { ...base.config, listmonk: { ...base.config.listmonk, url: lm.url, apiUser: DEFAULT_USER.username, apiToken: DEFAULT_USER.token } };
      expect(nightlyJob(config).map(([s]) => s.name)).toEqual(['scrub-bounces', 'sync-listmonk', 'check-mx']);
      const before = (await runs()).length;
      const s = await runNightly({ ...base, config }, { files: [MAIL_LOG] });
      expect(s.syncListmonk).toMatchObject({ command: 'sync-listmonk', ok: true, withdrawn: { unsubscribed: 0 } });
      expect(s.ok).toBe(true);
      expect((await runs()).slice(before).map((r) => r.stage)).toEqual(['scrub-bounces', 'sync-listmonk', 'check-mx']);
    } finally {
      await lm.stop();
    }
  });
});
