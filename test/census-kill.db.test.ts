/**
 * Kill-and-resume: the real CLI is SIGKILLed in the middle of ingests (the first load into an empty
 * carriers table: during its COPY, then while it builds the indexes; a second file's staged merge:
 * inside the merge transaction), re-run, and the final carriers table must equal that of clean
 * runs on a fresh database. Then the e-mail tables: killed while they load beside the census load
 * (PostgreSQL: on a second connection, src/email/early-email-load.ts) and while the normalize
 * finishes them, re-run: the e-mail rows, indexes and keys of a clean run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCensus1 } from '../bench/census-generator.ts';
import type { Store } from '../src/db/store.ts';
import { cliTarget, runCli } from './helpers/cli.ts';
import { testBackend, type TestStore } from './helpers/store.ts';
import { carriersState } from './census/context.ts';
import { normalizedRows } from './email-helpers.ts';
import { sql } from 'kysely';

// PGlite runs several times slower than PostgreSQL; its kill points still fall mid-run.
const ROWS = testBackend() === 'pg' ? 60_000 : 20_000;
let dir: string;
let file: string;
let file2: string;
const stores: TestStore[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'audience-census-kill-'));
  file = path.join(dir, 'FMCSA_CENSUS1_2026Nov.txt');
  await generateCensus1(file, { rows: ROWS, badPer100k: 20, seed: 7 });
  // A later file: half its DOT numbers are in the first (changed values), half are new.
  file2 = path.join(dir, 'FMCSA_CENSUS1_2026Dec.txt');
  await generateCensus1(file2, { rows: ROWS / 2, badPer100k: 20, seed: 8, firstDot: 1_000_000 + ROWS });
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const target = () => cliTarget(dir, stores);

function ingestCli(env: Record<string, string>, census: string, killWhen?: { stderr: string; afterMs: number }) {
  let killed = false;
  return runCli(['--json', 'ingest', 'census', census], {
    env: { ...env, AUDIENCE_TZ: 'America/Chicago' },
    onStderr: killWhen
      ? (_chunk: string, child: ChildProcess) => {
          // The accumulated stderr is not passed; the phase lines are short and arrive whole.
          if (!killed && _chunk.includes(killWhen.stderr)) {
            killed = true;
            setTimeout(() => child.kill('SIGKILL'), killWhen.afterMs);
          }
        }
      : undefined,
  });
}

describe('census ingest survives SIGKILL at any point', () => {
  it('killed during the first load (COPY, index build) and the merge of a later file, then re-run: same carriers as clean runs', { timeout: 600_000 }, async () => {
    const resumed = await target();
    const duringCopy = await ingestCli(resumed.env, file, { stderr: 'columns,', afterMs: 300 });
    expect(duringCopy.signal).toBe('SIGKILL');
    const duringIndexes = await ingestCli(resumed.env, file, { stderr: 'building the indexes', afterMs: 0 });
    expect(duringIndexes.signal).toBe('SIGKILL');
    const first = await ingestCli(resumed.env, file);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toMatchObject({ read: ROWS, rejected: expect.any(Number), updated: 0 });
    const duringMerge = await ingestCli(resumed.env, file2, { stderr: 'merging into carriers', afterMs: 0 });
    expect(duringMerge.signal).toBe('SIGKILL');
    const final = await ingestCli(resumed.env, file2);
    expect(final.code, final.stderr).toBe(0);
    expect(final.json).toMatchObject({ read: ROWS / 2, updated: expect.any(Number), inserted: expect.any(Number) });
    expect(final.json!.updated).toBeGreaterThan(0);
    expect(final.json!.inserted).toBeGreaterThan(0);

    const clean = await target();
    const one = await ingestCli(clean.env, file);
    expect(one.code, one.stderr).toBe(0);
    expect(one.json).toMatchObject({ inserted: ROWS - (one.json!.rejected as number) });
    const two = await ingestCli(clean.env, file2);
    expect(two.code, two.stderr).toBe(0);
    expect(two.json).toMatchObject({ inserted: final.json!.inserted, updated: final.json!.updated });

    const a = await resumed.open();
    const b = await clean.open();
    try {
      const [stateA, stateB] = [await carriersState(a), await carriersState(b)];
      expect(stateA.length).toBe(ROWS - (one.json!.rejected as number) + (two.json!.inserted as number));
      expect(stateA).toEqual(stateB);
      const rejectsOf = (s: Store, run: number) => s.db.selectFrom('census_rejects').select(['line_no', 'reason']).where('run_id', '=', run).orderBy('line_no').execute();
      expect(await rejectsOf(a, first.json!.run as number)).toEqual(await rejectsOf(b, one.json!.run as number));
      expect(await rejectsOf(a, final.json!.run as number)).toEqual(await rejectsOf(b, two.json!.run as number));
      // The killed runs are marked abandoned; no scratch table is left behind; carriers has its indexes back.
      const runs = await a.db.selectFrom('runs').select(['status']).where('stage', '=', 'ingest-census').orderBy('id').execute();
      expect(runs.map((r) => r.status)).toEqual(['abandoned', 'abandoned', 'ok', 'abandoned', 'ok']);
      const indexes = async (s: Store) => (await s.db.selectFrom('pg_indexes' as never).select('indexname' as never).where('tablename' as never, '=', 'carriers' as never).orderBy('indexname' as never).execute()) as unknown[];
      expect(await indexes(a)).toEqual(await indexes(b));
      expect((await indexes(a)).length).toBeGreaterThanOrEqual(2);
      const scratch = await a.db.selectFrom('pg_tables' as never).select('tablename' as never).where('tablename' as never, 'like', 'census\\_%\\_r%' as never).execute();
      expect(scratch).toEqual([]);
    } finally {
      await resumed.done(a);
      await clean.done(b);
    }
  });

  it('killed while the e-mail tables load (beside the census load, then in the normalize), then re-run: the e-mail rows of a clean run', { timeout: 600_000 }, async () => {
    const resumed = await target();
    // On PostgreSQL the addresses and links are loading on a second connection by now.
    const duringIndexes = await ingestCli(resumed.env, file, { stderr: 'building the indexes', afterMs: 0 });
    expect(duringIndexes.signal).toBe('SIGKILL');
    // The census load committed; the normalize is finishing the e-mail load.
    const duringEmails = await ingestCli(resumed.env, file, { stderr: 'the e-mail tables are empty', afterMs: 0 });
    expect(duringEmails.signal).toBe('SIGKILL');
    const again = await ingestCli(resumed.env, file);
    expect(again.code, again.stderr).toBe(0);

    const clean = await target();
    const one = await ingestCli(clean.env, file);
    expect(one.code, one.stderr).toBe(0);
    const a = await resumed.open();
    const b = await clean.open();
    try {
      expect(await carriersState(a)).toEqual(await carriersState(b));
      // Times are the clock's at each run: left out, like the runs.
      const rows = async (s: Store) => {
        const r = await normalizedRows(s, { runIds: false });
        return { ...r, reasons: r.reasons.map(({ since: _s, ...x }) => x), sources: r.sources.map(({ normalized_at: _n, ...x }) => x) };
      };
      const [ra, rb] = [await rows(a), await rows(b)];
      expect(ra.sources.length).toBe(one.json!.inserted);
      expect(ra.carrierEmails.length).toBeGreaterThan(0);
      expect(ra).toEqual(rb);
      const keys = async (s: Store) =>
        (
          await sql<{ def: string }>`
            select pg_get_indexdef(indexrelid) as def from pg_index where indrelid in ('emails'::regclass, 'carrier_emails'::regclass, 'email_reasons'::regclass, 'email_sources'::regclass, 'carriers'::regclass)
            union all
            select conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated from pg_constraint where conrelid in ('emails'::regclass, 'carrier_emails'::regclass, 'email_reasons'::regclass, 'email_sources'::regclass, 'carriers'::regclass)
            order by 1`.execute(s.db)
        ).rows.map((x) => x.def);
      expect(await keys(a)).toEqual(await keys(b));
      // The first normalize killed before its commit: recorded abandoned; the second one did the work.
      const runs = await a.db.selectFrom('runs').select(['stage', 'status']).orderBy('id').execute();
      expect(runs.filter((r) => r.stage === 'normalize').map((r) => r.status)).toEqual(['abandoned', 'ok']);
    } finally {
      await resumed.done(a);
      await clean.done(b);
    }
  });
});
