/**
 * `audience build`, `plan` and `status` through the real binary on an embedded database: the exit
 * codes of the gates (3), usage and configuration errors (2), and the --json contract keys.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, migrate } from '../src/db/migrate.ts';
import { openStore } from '../src/db/store.ts';
import { runCli } from './helpers/cli.ts';

describe('build, plan and status commands', () => {
  const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'audience-build-cli-')), 'db');
  // The process's clock is pinned: a build without --date is for "today", and on the machine's
  // clock a day before the warmup start (a clock set back) turned the config error into the warmup gate.
  const env = { AUDIENCE_DATA_DIR: dataDir, AUDIENCE_TZ: 'America/Chicago', AUDIENCE_NOW: '2026-11-28T15:00:00Z' };
  const withStart = { ...env, AUDIENCE_WARMUP_START: '2026-01-05' };

  beforeAll(async () => {
    // A database an older audience made: its first migrations only. (A new one starts migrated,
    // from the template made at install.)
    const old = await openStore({ dataDir, fromTemplate: false });
    await migrate(old, listMigrations().slice(0, 5));
    await old.close();
    const fresh = await runCli(['build', '--dry-run', '--json'], { env: withStart });
    // With migrations pending the build refuses (exit 3) and names the fix.
    expect(fresh.code, fresh.stderr).toBe(3);
    expect(fresh.json).toMatchObject({ ok: false, exitCode: 3, error: { gate: 'migrations' } });
    expect(fresh.stderr).toMatch(/audience migrate/);
    const m = await runCli(['migrate'], { env });
    expect(m.code, m.stderr).toBe(0);
  }, 180_000);

  it('refuses without a warmup start (exit 3), saying to set AUDIENCE_WARMUP_START', async () => {
    const r = await runCli(['build', '--dry-run', '--json'], { env });
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ command: 'build', ok: false, exitCode: 3, error: { phase: 'gate', gate: 'warmup' } });
    expect(r.stderr).toMatch(/AUDIENCE_WARMUP_START/);
  });

  it('prints the contract summary of a dry run as one JSON object', async () => {
    const r = await runCli(['build', '--dry-run', '--date', '2026-11-28', '--json'], { env: withStart });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.json).toMatchObject({ command: 'build', date: '2026-11-28', warmupDay: 327, dailyCap: 3000, alreadyPushed: 0, dryRun: true, excluded: {}, optOuts: null });
    // No Listmonk configured: the dry run says it did not read opt-outs.
    expect((r.json!.warnings as string[]).some((w) => /Listmonk is not configured.*opt-outs were not read/.test(w))).toBe(true);
    expect(r.json!.segments).toEqual([
      { name: 'mcs150', eligible: 0, selected: 0, pushed: 0, list: { id: null, name: 'audience mcs150 2026-11-28' }, campaign: null },
      { name: 'new-carrier', eligible: 0, selected: 0, pushed: 0, list: { id: null, name: 'audience new-carrier 2026-11-28' }, campaign: null },
    ]);
  });

  it('rejects bad flags with exit 2, and a real push without Listmonk settings with exit 2', async () => {
    expect((await runCli(['build', '--send-hour', '24', '--json'], { env: withStart })).code).toBe(2);
    expect((await runCli(['build', '--only-segment', 'nope', '--dry-run'], { env: withStart })).stderr).toMatch(/unknown segment "nope"/);
    expect((await runCli(['build', '--date', '2026-02-30', '--dry-run'], { env: withStart })).code).toBe(2);
    const r = await runCli(['build', '--json'], { env: withStart });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/LISTMONK_URL/);
    const sync = await runCli(['sync-listmonk', '--json'], { env });
    expect(sync.code).toBe(2);
    expect(sync.stderr).toMatch(/Listmonk is not configured: set LISTMONK_URL/);
  });

  it('plan and status answer with JSON', async () => {
    const p = await runCli(['plan', '--days', '2', '--json'], { env: withStart });
    expect(p.code, p.stderr).toBe(0);
    expect(p.json).toMatchObject({ command: 'plan', eligibleToday: 0 });
    expect((p.json!.days as unknown[]).length).toBe(2);
    const s = await runCli(['status', '--json'], { env: withStart });
    expect(s.code, s.stderr).toBe(0);
    expect(s.json).toMatchObject({ command: 'status', holds: [], suppressions: { address: 0, domain: 0 }, optedOut: 0 });
    expect((s.json!.lastRuns as { stage: string }[]).map((r) => r.stage)).toContain('build');
  });
});
