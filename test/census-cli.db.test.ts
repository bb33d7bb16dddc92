/**
 * `audience ingest census` end to end through the real binary: the --json contract, exit codes,
 * --rejects and --max-reject-rate as flags.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
    const ok = await runCli(['ingest', 'census', dataSample('bad_rows.txt'), '--max-reject-rate', '0.9'], { env });
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

  it('--help shows examples', async () => {
    const r = await runCli(['ingest', 'census', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:[\s\S]*--snapshot/);
  });
});
