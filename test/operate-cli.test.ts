/**
 * `audience audit-listmonk` and `audience rampcap` through the real binary on an embedded database,
 * against the Listmonk double: the exit codes cron sees (0 clean, 1 findings, 2 configuration or
 * credentials, 3 refused), the --json contract (one object; findings as keys beside the error), the
 * report printed for people even when the exit is 1, and that only --pause / --apply change
 * anything. The binary's clock is pinned with AUDIENCE_NOW to the double's.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, localDate, zonedTime } from '../src/warmup/calendar.ts';
import { runCli } from './helpers/cli.ts';
import { DEFAULT_USER, ListmonkDouble, PIPELINE_PERMS } from './listmonk-double/index.ts';

const NOW = new Date('2026-11-28T12:00:00Z');
const TZ = 'America/Chicago';
const TODAY = localDate(NOW, TZ);

/** Several whole CLI processes per test (the process boundary is the point: exit codes, stdout): a loaded machine makes each one seconds. */
const SPAWNS_TIMEOUT = 240_000;

describe('audit-listmonk and rampcap commands', () => {
  const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'audience-operate-cli-')), 'db');
  let lm: ListmonkDouble;
  let env: Record<string, string>;

  beforeAll(async () => {
    lm = await ListmonkDouble.start({ now: () => NOW, users: [{ ...DEFAULT_USER, perms: [...PIPELINE_PERMS, 'settings:manage'] }] });
    env = {
      AUDIENCE_DATA_DIR: dataDir,
      AUDIENCE_TZ: TZ,
      AUDIENCE_NOW: NOW.toISOString(),
      AUDIENCE_WARMUP_START: addDays(TODAY, -3),
      LISTMONK_URL: lm.url,
      LISTMONK_API_USER: DEFAULT_USER.username,
      LISTMONK_API_TOKEN: DEFAULT_USER.token,
    };
    const m = await runCli(['migrate'], { env });
    expect(m.code, m.stderr).toBe(0);
    // A campaign nobody here built, to an address of the Yahoo family the census never listed.
    const list = lm.model.addList({ name: 'Newsletter' });
    for (const email of ['someone@aol.com', 'ok@good.test']) lm.model.subscribe(lm.model.addSubscriber({ email, name: email }).id, list.id, 'confirmed');
    lm.model.addCampaign({
      type: 'regular',
      name: 'November newsletter',
      subject: 's',
      from_email: 'f@firm.test',
      body: 'b',
      altbody: null,
      send_at: zonedTime(addDays(TODAY, 1), 9, TZ).toISOString(),
      status: 'scheduled',
      content_type: 'html',
      tags: [],
      headers: [],
      template_id: 1,
      messenger: 'email',
      lists: [{ id: list.id, name: list.name }],
    });
  }, 180_000);
  afterAll(async () => {
    await lm?.stop();
  });

  it('rampcap prints the cap and the window (exit 0); --apply on a fresh install is refused (exit 3) and writes nothing', async () => {
    const dry = await runCli(['rampcap', '--json'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ command: 'rampcap', ok: true, runId: expect.any(Number), startedAt: expect.any(String), seconds: expect.any(Number), date: TODAY, warmupDay: 3, hourlyCap: 150, dailyCap: 1500, dryRun: true, inSync: false, applied: null, wanted: { enabled: true, duration: '1h', rate: 150 } });
    const human = await runCli(['rampcap'], { env });
    expect(human.stdout).toMatch(/warmup day 3: hourly cap 150\/h \(daily 1500\)/);
    expect(human.stdout).toMatch(/would set: on, 150 per 1h — run `audience rampcap --apply`/);
    const apply = await runCli(['rampcap', '--apply', '--json'], { env });
    expect(apply.code).toBe(3);
    expect(apply.json).toMatchObject({ command: 'rampcap', ok: false, exitCode: 3, error: { phase: 'gate', gate: 'listmonk-settings' }, writeRisks: [expect.stringMatching(/smtp entries #1, #2/)] });
    expect(lm.settingsLog.puts).toBe(0);
  }, SPAWNS_TIMEOUT);

  it('audit-listmonk: offending campaigns exit 1 with the report; --pause stops them; then exit 0', async () => {
    const json = await runCli(['audit-listmonk', '--json'], { env });
    expect(json.code, json.stderr).toBe(1);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    expect(json.json).toMatchObject({ command: 'audit-listmonk', ok: false, runId: expect.any(Number), startedAt: expect.any(String), seconds: expect.any(Number), exitCode: 1, error: { phase: 'findings' }, offending: 1, pause: false });
    expect((json.json!.campaigns as object[])[0]).toMatchObject({ name: 'November newsletter', madeByAudience: false, recipients: 2, unknownToUs: 2, excluded: 1, excludedBy: { yahoo_family: 1 }, action: null });

    const human = await runCli(['audit-listmonk'], { env });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/! #1 "November newsletter" scheduled .*not made by audience/);
    expect(human.stdout).toMatch(/someone@aol\.com \(unknown to us\): yahoo_family/);
    expect(human.stderr).toMatch(/1 offending campaign\(s\) in Listmonk.*run `audience audit-listmonk --pause`/);
    expect(lm.requests.filter((r) => r.method !== 'GET')).toEqual([]);

    const pause = await runCli(['audit-listmonk', '--pause', '--json'], { env });
    expect(pause.code).toBe(1);
    expect(pause.json).toMatchObject({ stopped: [1], notStopped: [] });
    expect(lm.model.campaigns.get(1)!.status).toBe('draft');
    const after = await runCli(['audit-listmonk', '--json'], { env });
    expect(after.code, after.stderr).toBe(0);
    expect(after.json).toMatchObject({ command: 'audit-listmonk', ok: true, runId: expect.any(Number), offending: 0, campaigns: [] });
  }, SPAWNS_TIMEOUT);

  it('exit 2 for wrong credentials, 3 without a warmup start', async () => {
    const wrong = await runCli(['audit-listmonk', '--json'], { env: { ...env, LISTMONK_API_TOKEN: 'nope' } });
    expect(wrong.code).toBe(2);
    expect(wrong.json).toMatchObject({ ok: false, exitCode: 2, error: { phase: 'config' } });
    const rc = await runCli(['rampcap', '--json'], { env: { ...env, LISTMONK_API_TOKEN: 'nope' } });
    expect(rc.code).toBe(2);
    const { AUDIENCE_WARMUP_START: _start, ...noStart } = env;
    const gate = await runCli(['audit-listmonk', '--json'], { env: noStart });
    expect(gate.code).toBe(3);
    expect(gate.json).toMatchObject({ error: { gate: 'warmup' } });
    expect(gate.stderr).toMatch(/AUDIENCE_WARMUP_START/);
  }, SPAWNS_TIMEOUT);
});
