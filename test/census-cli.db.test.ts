/**
 * `audience ingest census` end to end through the real binary: the --json contract, exit codes,
 * --rejects and --max-reject-rate as flags.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { createTestStore, testBackend, type TestStore } from './helpers/store.ts';
import { dataSample } from './census/context.ts';

let dir: string;
let env: Record<string, string>;
let store: TestStore | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'audience-census-cli-'));
  if (testBackend() === 'pg') {
    store = await createTestStore();
    env = { DATABASE_URL: store.url! };
  } else env = { AUDIENCE_DATA_DIR: path.join(dir, 'db') };
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

// Each CLI run on PGlite opens its data dir from scratch (several seconds; far more on a busy machine).
describe('audience ingest census (CLI)', { timeout: 300_000 }, () => {
  it('--json prints exactly the summary object; a second run changes nothing', async () => {
    const first = await runCli(['--json', 'ingest', 'census', dataSample('FMCSA_CENSUS1_2026Nov.txt')], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toMatchObject({ command: 'ingest census', format: 'fmcsa_census1', read: 63, accepted: 63, rejected: 0, inserted: 63, updated: 0, unchanged: 0, deactivated: 0 });
    expect(typeof first.json!.seconds).toBe('number');
    expect(first.stdout.trim().split('\n')).toHaveLength(1);
    const second = await runCli(['--json', 'ingest', 'census', dataSample('FMCSA_CENSUS1_2026Nov.txt')], { env });
    expect(second.json).toMatchObject({ inserted: 0, updated: 0, unchanged: 63 });
  });

  it('too many bad rows: exit 1, the reason on stderr, the rejects file still written', async () => {
    const rejects = path.join(dir, 'rejects.csv');
    const r = await runCli(['--json', 'ingest', 'census', dataSample('bad_rows.txt'), '--rejects', rejects], { env });
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, exitCode: 1, error: { phase: 'input' } });
    expect(r.stderr).toMatch(/too many bad rows, nothing was merged/);
    expect(existsSync(rejects)).toBe(true);
    expect(readFileSync(rejects, 'utf8').trim().split('\n')).toHaveLength(14);
    // bad_rows.txt is older than the 2026 file loaded above: --allow-older (the freshness test below).
    const ok = await runCli(['ingest', 'census', dataSample('bad_rows.txt'), '--max-reject-rate', '0.9', '--allow-older'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/read 21, accepted 8, rejected 13/);
  });

  it('usage errors exit 2: --snapshot with two files, a rate outside 0..1, no file', async () => {
    const two = await runCli(['--json', 'ingest', 'census', '--snapshot', dataSample('FMCSA_CENSUS1_2026Nov.txt'), dataSample('bad_rows.txt')], { env });
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/--snapshot declares one file the full census/);
    expect((await runCli(['ingest', 'census', 'x.txt', '--max-reject-rate', '5'], { env })).code).toBe(2);
    expect((await runCli(['ingest', 'census'], { env })).code).toBe(2);
  });

  it('freshness guards: a header-only --snapshot exits 3, an older file exits 2, each saying how to override (issue #14)', async () => {
    const at = { ...env, AUDIENCE_NOW: '2026-11-28T15:00:00Z' };
    const header = path.join(dir, 'header-only.txt');
    writeFileSync(header, readFileSync(dataSample('FMCSA_CENSUS1_2026Nov.txt'), 'latin1').split('\r\n')[0] + '\r\n', 'latin1');
    const loaded = await runCli(['--json', 'ingest', 'census', '--no-normalize', dataSample('FMCSA_CENSUS1_2026Nov.txt')], { env: at });
    expect(loaded.code, loaded.stderr).toBe(0);
    const activeBefore = loaded.json!.accepted;

    const snap = await runCli(['--json', 'ingest', 'census', '--no-normalize', '--snapshot', header], { env: at });
    expect(snap.code).toBe(3);
    expect(snap.json).toMatchObject({ ok: false, exitCode: 3, error: { phase: 'gate' }, refused: 'snapshot', rows: 0, wouldDeactivate: 63, share: 1 });
    expect(snap.stderr).toMatch(/refusing --snapshot of header-only\.txt: it would deactivate 63 of 63 active carriers \(100\.0%\)[\s\S]*Nothing was written[\s\S]*--force-snapshot/);
    // Nothing was deactivated: the same file again is unchanged.
    const again = await runCli(['--json', 'ingest', 'census', '--no-normalize', dataSample('FMCSA_CENSUS1_2026Nov.txt')], { env: at });
    expect(again.json).toMatchObject({ unchanged: activeBefore, updated: 0, deactivated: 0 });

    const older = await runCli(['ingest', 'census', '--no-normalize', dataSample('FMCSA_CENSUS1_2020Aug_26col.txt')], { env: at });
    expect(older.code).toBe(2);
    expect(older.stderr).toMatch(/FMCSA_CENSUS1_2020Aug_26col\.txt is older than the census already loaded: its newest MCS-150\/ADD date is 2019-12-18, 2534 days before the loaded data's 2026-11-25[\s\S]*--allow-older/);
    const allowed = await runCli(['ingest', 'census', '--no-normalize', '--allow-older', dataSample('FMCSA_CENSUS1_2020Aug_26col.txt')], { env: at });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/kept: 14 carrier\(s\) whose stored MCS-150 filing is as new or newer/);
  });

  it('--help shows examples', async () => {
    const r = await runCli(['ingest', 'census', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:[\s\S]*--snapshot/);
  });
});
