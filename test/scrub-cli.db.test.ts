import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { REPO_ROOT } from './helpers/samples.ts';
import { createTestStore, testBackend, type TestStore } from './helpers/store.ts';

const SAMPLE = path.join(REPO_ROOT, 'data-samples/maillog/mail.log');

describe('audience scrub-bounces / suppress / unsuppress / unhold (CLI)', () => {
  let store: TestStore;
  let cwd: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    store = await createTestStore();
    cwd = mkdtempSync(path.join(os.tmpdir(), 'scrub-cli-'));
    // Holds last long enough that the demo log's google hold is active whatever the date.
    writeFileSync(path.join(cwd, 'audience.config.json'), JSON.stringify({ maillog: { holdDays: 36500 } }));
    env = testBackend() === 'pg' ? { DATABASE_URL: store.url! } : { AUDIENCE_DATA_DIR: path.join(cwd, 'db') };
  });
  afterAll(async () => {
    await store.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('scrub-bounces --json prints exactly the contract keys on stdout', async () => {
    const r = await runCli(['scrub-bounces', '--json', SAMPLE], { env, cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      command: 'scrub-bounces',
      files: [expect.objectContaining({ path: SAMPLE, status: 'new' })],
      linesRead: expect.any(Number),
      newLines: expect.any(Number),
      skippedLines: expect.any(Number),
      deliveries: { sent: 16, deferred: 4, bounced: 4, expired: 1 },
      byClass: expect.objectContaining({ recipient_invalid: 1 }),
      suppressed: { addresses: 1, domains: 1 },
      holds: [expect.objectContaining({ provider: 'google', reason: 'reputation_block', until: expect.any(String) })],
      dkim: { campaignMessages: 21, signed: 21, coverage: 1 },
    });
  }, 120_000);

  it('suppress, unsuppress (history kept, second lift refused), unhold', async () => {
    const s = await runCli(['suppress', 'Dispatch@Mesa-Trucking.test', '--reason', 'asked to be removed', '--days', '30', '--json'], { env, cwd });
    expect(s.code, s.stderr).toBe(0);
    expect(s.json).toMatchObject({ command: 'suppress', kind: 'address', value: 'dispatch@mesa-trucking.test', expiresAt: expect.any(String) });
    const u = await runCli(['unsuppress', 'dispatch@mesa-trucking.test', '--reason', 'changed their mind', '--json'], { env, cwd });
    expect(u.code, u.stderr).toBe(0);
    expect(u.json).toMatchObject({ command: 'unsuppress', lifted: 1 });
    const again = await runCli(['unsuppress', 'dispatch@mesa-trucking.test', '--reason', 'x'], { env, cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no current suppression/);
    const h = await runCli(['unhold', 'google', '--reason', 'postmaster tools back to medium', '--json'], { env, cwd });
    expect(h.code, h.stderr).toBe(0);
    expect(h.json).toMatchObject({ command: 'unhold', lifted: [expect.objectContaining({ provider: 'google', reason: 'reputation_block' })] });
  }, 240_000);

  it('refuses bad usage with exit 2 and documents examples in --help', async () => {
    const noReason = await runCli(['suppress', 'x@y.example'], { env, cwd });
    expect(noReason.code).toBe(2);
    const help = await runCli(['scrub-bounces', '--help'], { env, cwd });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n\s+audience scrub-bounces/);
  }, 180_000);
});
