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
import { generateCensus1 } from '../../bench/census-generator.ts';
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

/** Carriers in a generated month (generatedMonth). */
export const MONTH_ROWS = 2000;

/** A generated month; every date after the test clock's day is ignored, one line is dated on it, so each month is as recent. */
export async function generatedMonth(
  dir: string,
  name: string,
  refresh?: { seed: number; changed: number; added: number; gone: number },
  extra: (lines: string[]) => string[] = (l) => l,
): Promise<string> {
  const file = path.join(dir, name);
  await generateCensus1(file, { rows: MONTH_ROWS, badPer100k: 300, ...(refresh ? { refresh } : {}) });
  const lines = readFileSync(file, 'latin1').split('\r\n').filter(Boolean);
  lines[lines.length - 1] = lines[lines.length - 1]!.replace(/"\d\d-[A-Z]{3}-\d\d"/, '"29-NOV-26"');
  writeFileSync(file, Buffer.from(extra(lines).join('\r\n') + '\r\n', 'latin1'));
  return file;
}

/** Every table the ingest job writes, by natural keys (email ids are drawn from a sequence). */
export async function ingestTables(store: Store) {
  const q = async (query: ReturnType<typeof sql>) => (await sql<Record<string, unknown>>`${query}`.execute(store.db)).rows;
  return {
    carriers: await q(sql`select * from carriers order by dot_number`),
    rejects: await q(sql`select run_id, file, line_no, reason, raw from census_rejects order by run_id, line_no`),
    loads: await q(sql`select run_id, file, format, sha256, bytes, rows_read, rows_accepted, newest_mcs150::text, newest_add_date::text, data_date::text, snapshot, allowed_older, forced_snapshot from census_loads order by id`),
    emails: await q(sql`select address, local_part, domain, valid, carrier_count, normalizer_version from emails order by address`),
    links: await q(sql`select ce.dot_number, e.address, ce.position from carrier_emails ce join emails e on e.id = ce.email_id order by 1, 2`),
    reasons: await q(sql`select e.address, r.code, r.detail, r.since from email_reasons r join emails e on e.id = r.email_id order by 1, 2`),
    sources: await q(sql`select * from email_sources order by dot_number`),
  };
}
