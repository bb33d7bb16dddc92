/**
 * Kill-and-resume of the monthly refresh (issue #15): the real CLI runs `ingest census --snapshot`
 * of next month's file into a loaded database and is SIGKILLed inside its merge transaction, then
 * inside the normalize of the carriers the merge handed over (changed-carriers.ts; its batch made
 * during the deactivation, its rows loaded by COPY); re-run, every table must hold the rows of one
 * clean refresh. The re-run's normalize cannot take a list (the killed one never finished whole):
 * it finds the carriers left half done by the full join.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCensus1 } from '../bench/census-generator.ts';
import type { Store } from '../src/db/store.ts';
import { carriersState } from './census/context.ts';
import { normalizedRows } from './email-helpers.ts';
import { cliTarget, runCli } from './helpers/cli.ts';
import { testBackend, type TestStore } from './helpers/store.ts';

const ROWS = testBackend() === 'pg' ? 60_000 : 20_000;
let dir: string;
let file: string;
let next: string;
const stores: TestStore[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'audience-refresh-kill-'));
  file = path.join(dir, 'FMCSA_CENSUS1_2026Nov.txt');
  await generateCensus1(file, { rows: ROWS, badPer100k: 20, seed: 7 });
  // The same file a month on: 3% of its carriers changed, 1% new, 1% gone.
  next = path.join(dir, 'FMCSA_CENSUS1_2026Dec.txt');
  await generateCensus1(next, { rows: ROWS, badPer100k: 20, seed: 7, refresh: { seed: 11, changed: 0.03, added: 0.01, gone: 0.01 } });
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const target = () => cliTarget(dir, stores);

function ingest(env: Record<string, string>, census: string, flags: string[] = [], killAt?: string) {
  let killed = false;
  return runCli(['--json', 'ingest', 'census', ...flags, census], {
    env: { ...env, AUDIENCE_TZ: 'America/Chicago' },
    onStderr: killAt
      ? (chunk: string, child: ChildProcess) => {
          if (!killed && chunk.includes(killAt)) {
            killed = true;
            child.kill('SIGKILL');
          }
        }
      : undefined,
  });
}

/** The e-mail tables by natural keys; times are each run's clock, left out like the run ids. */
async function emailRows(s: Store) {
  const r = await normalizedRows(s, { runIds: false });
  return { ...r, reasons: r.reasons.map(({ since: _s, ...x }) => x), sources: r.sources.map(({ normalized_at: _n, ...x }) => x) };
}

describe('a monthly refresh survives SIGKILL', () => {
  it('killed in its merge, then in its normalize of the handed carriers, then re-run: the rows of one clean refresh', { timeout: 600_000 }, async () => {
    const resumed = await target();
    expect((await ingest(resumed.env, file)).code).toBe(0);
    expect((await ingest(resumed.env, next, ['--snapshot'], 'merging into carriers')).signal).toBe('SIGKILL');
    expect((await ingest(resumed.env, next, ['--snapshot'], 'carrier(s) to normalize')).signal).toBe('SIGKILL');
    const again = await ingest(resumed.env, next, ['--snapshot']);
    expect(again.code, again.stderr).toBe(0);

    const clean = await target();
    expect((await ingest(clean.env, file)).code).toBe(0);
    const once = await ingest(clean.env, next, ['--snapshot']);
    expect(once.code, once.stderr).toBe(0);
    expect(once.json!.deactivated).toBeGreaterThan(0);
    expect((once.json!.normalize as { carriersNormalized: number }).carriersNormalized).toBeGreaterThan(0);
    const a = await resumed.open();
    const b = await clean.open();
    try {
      expect(await carriersState(a)).toEqual(await carriersState(b));
      const [ra, rb] = [await emailRows(a), await emailRows(b)];
      expect(ra.carrierEmails.length).toBeGreaterThan(0);
      expect(ra).toEqual(rb);
      const runs = await a.db.selectFrom('runs').select(['stage', 'status']).orderBy('id').execute();
      expect(runs.map((r) => `${r.stage} ${r.status}`)).toEqual([
        'ingest-census ok', 'normalize ok', 'ingest-census abandoned', 'ingest-census ok', 'normalize abandoned', 'ingest-census ok', 'normalize ok',
      ]);
    } finally {
      await resumed.done(a);
      await clean.done(b);
    }
  });
});
