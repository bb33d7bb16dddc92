/**
 * Runs the census ingest in-process against a test store, with a pinned clock and silent output.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import type { CensusConfig } from '../../src/census/config.ts';
import type { CensusIngestOptions } from '../../src/census/ingest.ts';
import { loadCensus, type CensusIngestEnvelope } from '../../src/census/stage.ts';
import { createOutput } from '../../src/cli/output.ts';
import { loadConfig } from '../../src/config.ts';
import type { StageContext } from '../../src/context.ts';
import type { Store } from '../../src/db/store.ts';
import { REPO_ROOT } from '../helpers/samples.ts';

/** The day the data-samples were cut for. */
export const SAMPLE_DAY = new Date('2026-11-28T15:00:00Z');

export const dataSample = (f: string) => path.join(REPO_ROOT, 'data-samples/census', f);
export const fixture = (f: string) => path.join(REPO_ROOT, 'test/fixtures/census', f);

export function censusContext(store: Store, o: { now?: Date; census?: Partial<CensusConfig> } = {}): StageContext {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const config = loadConfig({ env: {}, cwd: tmpDir(), overrides: { census: o.census ?? {} } });
  return { config, store, out: createOutput({ json: true, quiet: true, stdout: sink, stderr: sink }), now: () => o.now ?? SAMPLE_DAY };
}

export function ingest(store: Store, files: string[], o: Partial<CensusIngestOptions> & { census?: Partial<CensusConfig>; now?: Date } = {}): Promise<CensusIngestEnvelope> {
  const { census, now, ...opts } = o;
  // The ingest stage alone: the job's normalize stage has its own test (test/ingest-job.db.test.ts).
  return loadCensus(censusContext(store, { census, now }), { files, snapshot: false, ...opts });
}

export function tmpDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'audience-census-'));
}

/** Writes `lines` (CRLF) to a fresh temp file, in Windows-1252 unless told otherwise. */
export function writeCensus(name: string, lines: string[], encoding: 'latin1' | 'utf8' = 'latin1'): string {
  const file = path.join(tmpDir(), name);
  writeFileSync(file, Buffer.from(lines.join('\r\n') + '\r\n', encoding));
  return file;
}

/** The header line and data lines of a data-sample file, for building variants of it. */
export function sampleLines(f: string): string[] {
  return readFileSync(dataSample(f), 'latin1').split(/\r?\n/).filter(Boolean);
}

/** An empty census: carriers, rejects and the census_loads record the freshness guard compares with. */
export async function resetCensus(store: Store): Promise<void> {
  await sql`truncate carriers, census_rejects, census_loads`.execute(store.db);
}

export async function carrier(store: Store, dot: number) {
  return store.db.selectFrom('carriers').selectAll().where('dot_number', '=', dot).executeTakeFirst();
}

export async function countCarriers(store: Store, where = sql`true`): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int as n from carriers where ${where}`.execute(store.db);
  return r.rows[0]!.n;
}

/** Everything a run decides about carriers, without run ids and timestamps. */
export async function carriersState(store: Store) {
  const rows = await store.db.selectFrom('carriers').selectAll().orderBy('dot_number').execute();
  return rows.map(({ first_run_id: _f, changed_run_id: _c, created_at: _a, updated_at: _u, deactivated_at, ...rest }) => ({ ...rest, deactivated: deactivated_at !== null }));
}
