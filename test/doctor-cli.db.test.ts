/**
 * `audience doctor` through the real binary: exit 0 when every check passes (advice included),
 * 1 when one fails, with --json one object (every check, then ok/exitCode/error when failing),
 * the report on stdout and the summary line on stderr without it; 2 for a bad flag. The warmup
 * stamp is read from a file of epoch seconds, as the firm's Postfix setup keeps it.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { startDnsServer, type TestDnsServer } from './helpers/dns-server.ts';
import { createTestStore, testBackend, type TestStore } from './helpers/store.ts';
import { MX_ZONES } from './fixtures/mx/zones.ts';
import { DEFAULT_USER, ListmonkDouble } from './listmonk-double/index.ts';

const NOW = new Date('2026-11-28T12:00:00Z');

describe('audience doctor (CLI)', () => {
  let store: TestStore;
  let lm: ListmonkDouble;
  let dns: TestDnsServer;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    store = await createTestStore();
    lm = await ListmonkDouble.start({ now: () => NOW });
    lm.model.settings['app.message_sliding_window'] = true;
    lm.model.settings['app.message_sliding_window_rate'] = 300;
    dns = await startDnsServer(MX_ZONES);
    dir = mkdtempSync(path.join(os.tmpdir(), 'doctor-cli-'));
    const stamp = path.join(dir, 'pw-warmup-start');
    // 2026-11-20 08:00 in Chicago: warmup day 8 on NOW.
    writeFileSync(stamp, `${Date.parse('2026-11-20T14:00:00Z') / 1000}\n`);
    const maillog = path.join(dir, 'mail.log');
    writeFileSync(maillog, '');
    const written = new Date(NOW.getTime() - 30 * 60_000);
    utimesSync(maillog, written, written);
    env = {
      ...(testBackend() === 'pg' ? { DATABASE_URL: store.url! } : { AUDIENCE_DATA_DIR: path.join(dir, 'db') }),
      AUDIENCE_NOW: NOW.toISOString(),
      AUDIENCE_TZ: 'America/Chicago',
      AUDIENCE_WARMUP_START: stamp,
      AUDIENCE_MAILLOG: maillog,
      AUDIENCE_DNS_SERVERS: dns.address,
      LISTMONK_URL: lm.url,
      LISTMONK_API_USER: DEFAULT_USER.username,
      LISTMONK_API_TOKEN: DEFAULT_USER.token,
    };
    if (testBackend() === 'pglite') {
      const m = await runCli(['migrate'], { env, cwd: dir });
      expect(m.code, m.stderr).toBe(0);
    }
  }, 180_000);
  afterAll(async () => {
    await Promise.all([lm?.stop(), dns?.close()]);
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 when every check passes, and --json prints one object with every check', async () => {
    const r = await runCli(['doctor', '--json', '--timeout', '15000'], { env, cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const checks = r.json!.checks as { name: string; ok: boolean; status: string; fix: string | null }[];
    expect(r.json).toMatchObject({ command: 'doctor', ok: true, runId: null, startedAt: expect.any(String), seconds: expect.any(Number), date: '2026-11-28', failed: [] });
    expect(r.json!.startedAt).toBe(r.json!.now);
    expect(checks.map((c) => c.name)).toEqual(['config', 'database', 'warmup', 'maillog', 'dns', 'listmonk', 'listmonk-permissions', 'listmonk-campaign', 'sliding-window', 'dkim', 'holds', 'streams']);
    expect(checks.every((c) => c.ok)).toBe(true);
    // Advice that blocks nothing: the pinned clock, the optional permissions, the scrub that never ran.
    expect(checks.find((c) => c.name === 'config')).toMatchObject({ status: 'warn', fix: expect.stringMatching(/AUDIENCE_NOW/) });
    expect(checks.find((c) => c.name === 'dkim')).toMatchObject({ status: 'warn', fix: expect.stringMatching(/audience scrub-bounces/) });
    expect(r.json!.checks).toContainEqual(expect.objectContaining({ name: 'warmup', data: expect.objectContaining({ source: `file ${env.AUDIENCE_WARMUP_START}`, day: 8, hourlyCap: 300 }) }));
  }, 120_000);

  it('exits 1 when a check fails: the report on stdout, what failed on stderr; --json adds ok, exitCode and error', async () => {
    const bad = { ...env, LISTMONK_API_TOKEN: 'wrong' };
    const human = await runCli(['doctor', '--timeout', '15000'], { env: bad, cwd: dir });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^FAIL listmonk +Listmonk GET \/api\/config answered 403: invalid API credentials/m);
    expect(human.stdout).toMatch(/^ +fix: set LISTMONK_API_USER and LISTMONK_API_TOKEN/m);
    expect(human.stdout).toMatch(/^skip sliding-window +not checked: it needs `listmonk`/m);
    expect(human.stdout).toMatch(/^12 checks: 8 passed .*, 1 failed, 3 not run\.$/m);
    expect(human.stderr).toMatch(/audience: 1 check\(s\) failed \(listmonk\), 3 not run: do what each fix says/);
    // The token is never printed.
    expect(human.stdout + human.stderr).not.toContain('wrong');

    const json = await runCli(['doctor', '--json', '--timeout', '15000'], { env: bad, cwd: dir });
    expect(json.code).toBe(1);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    expect(json.json).toMatchObject({
      command: 'doctor',
      ok: false,
      exitCode: 1,
      error: { phase: 'findings', message: expect.stringMatching(/1 check\(s\) failed \(listmonk\)/) },
      failed: ['listmonk', 'listmonk-permissions', 'listmonk-campaign', 'sliding-window'],
    });
  }, 120_000);

  it('an invalid setting is a failed `config` check (exit 1), not a refusal to run', async () => {
    const r = await runCli(['doctor', '--json'], { env: { ...env, AUDIENCE_TZ: 'Mars/Olympus_Mons' }, cwd: dir });
    expect(r.code).toBe(1);
    expect((r.json!.checks as { name: string; status: string }[]).map((c) => c.status)).toEqual(['fail', ...Array(11).fill('skip')]);
  }, 60_000);

  it('a bad flag is a usage error (exit 2)', async () => {
    const r = await runCli(['doctor', '--timeout', 'soon', '--json'], { env, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ command: 'doctor', ok: false, exitCode: 2, error: { phase: 'usage', message: expect.stringMatching(/--timeout must be a whole number of milliseconds/) } });
  }, 60_000);
});
