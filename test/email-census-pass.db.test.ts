/**
 * The e-mail rows made in the census first load's byte pass (src/email/census-email-pass.ts) and
 * COPied in by the normalize stage after it, against the page-by-page incremental path over the
 * same file: every row of the four tables the same (emails by address, and their ids in the same
 * order), in files sorted by DOT number or not. A file with a DOT number twice falls back to
 * reading carriers back, with the same rows; so does a failed normalize, on its next run.
 * On PostgreSQL the addresses and links load on a second connection while the census load
 * finishes (src/email/early-email-load.ts): same rows and the same indexes and keys as the
 * migrations made; a census load refused after its scan leaves the e-mail tables empty and free.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCensus1, generateCompanyCensus } from '../bench/census-generator.ts';
import { runCensusIngest } from '../pipelines/ingest.ts';
import { createOutput } from '../src/cli/output.ts';
import type { StageContext } from '../src/context.ts';
import { normalizeEmails } from '../src/email/stage.ts';
import { censusContext, dataSample, ingest, tmpDir } from './census/context.ts';
import { normalizedRows as normalizedRowsOf } from './email-helpers.ts';
import { createTestStore, testBackend, type TestStore } from './helpers/store.ts';

/** Indexes and constraints of the tables the first load and normalize write, as the migrations made them. */
async function keys(store: TestStore) {
  const tables = sql`('carriers'::regclass, 'emails'::regclass, 'carrier_emails'::regclass, 'email_reasons'::regclass, 'email_sources'::regclass)`;
  const r = await sql<{ def: string }>`
    select pg_get_indexdef(indexrelid) as def from pg_index where indrelid in ${tables}
    union all
    select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated from pg_constraint where conrelid in ${tables}
    union all
    select 'default ' || adrelid::regclass::text || '.' || adnum || ' ' || pg_get_expr(adbin, adrelid) from pg_attrdef where adrelid in ${tables}
    order by 1`.execute(store.db);
  return r.rows.map((x) => x.def);
}

/** normalize's rows (its runs differ between the two paths) and how far the ids went. */
async function normalizedRows(store: TestStore) {
  const nextId = (await sql<Record<string, unknown>>`select max(id)::int as max, count(*)::int as n from emails`.execute(store.db)).rows;
  return { ...(await normalizedRowsOf(store, { runIds: false })), nextId };
}

async function reset(store: TestStore): Promise<void> {
  await sql`truncate carriers, census_rejects, census_loads, carrier_emails, email_reasons, email_sources, emails restart identity`.execute(store.db);
}

/** censusContext, with what the stages say on stderr kept in `said`. */
function listening(store: TestStore): { ctx: StageContext; said: string[] } {
  const said: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (said.push(String(c)), cb()) });
  return { ctx: { ...censusContext(store), out: createOutput({ json: true, quiet: false, stdout: new Writable({ write: (_c, _e, cb) => cb() }), stderr: sink }) }, said };
}

const FROM_PASS = /the rows made while the census loaded/;
/** Said when the addresses and links were loaded on a second connection (PostgreSQL only). */
const EARLY = /addresses and links loaded meanwhile/;

/** The lines of `file` after its header in a fixed shuffled order (the file no longer sorted by DOT number). */
function shuffled(file: string, encoding: BufferEncoding): string {
  const [header, ...rows] = readFileSync(file, encoding).split('\r\n').filter(Boolean);
  let seed = 7;
  for (let i = rows.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  const out = file.replace(/(\.\w+)$/, '_shuffled$1');
  writeFileSync(out, [header, ...rows].join('\r\n') + '\r\n', encoding);
  return out;
}

describe('e-mail rows made in the census byte pass = the incremental path', () => {
  let viaPass: TestStore;
  let viaPages: TestStore;
  const dir = tmpDir();
  beforeAll(async () => {
    [viaPass, viaPages] = await Promise.all([createTestStore(), createTestStore()]);
  });
  afterAll(async () => {
    await Promise.all([viaPass.close(), viaPages.close()]);
  });

  /** The ingest job on one store, the load then a page-by-page normalize on the other; the rows compared. */
  async function bothWays(file: string, o: { pass?: boolean; batchSize?: number } = {}) {
    await Promise.all([reset(viaPass), reset(viaPages)]);
    const schema = await keys(viaPass);
    const { ctx, said } = listening(viaPass);
    const job = await runCensusIngest(ctx, { files: [file], snapshot: false, maxRejectRate: 1 });
    expect(said.join('').match(FROM_PASS) !== null).toBe(o.pass ?? true);
    expect(said.join('').match(EARLY) !== null).toBe((o.pass ?? true) && testBackend() === 'pg');
    // Every index, key and default back as the migrations made them (a dropped one rebuilt, none left over).
    expect(await keys(viaPass)).toEqual(schema);
    expect(await keys(viaPass)).toEqual(await keys(viaPages));
    await ingest(viaPages, [file], { maxRejectRate: 1 });
    const paged = await normalizeEmails(censusContext(viaPages), { pagesOnly: true, batchSize: o.batchSize ?? 7 });
    const [a, b] = [await normalizedRows(viaPass), await normalizedRows(viaPages)];
    expect(a.sources.length).toBeGreaterThan(0);
    expect(a).toEqual({ ...b, nextId: a.nextId });
    // Ids 1..n, the identity after them.
    expect(a.nextId[0]).toEqual({ max: a.emails.length, n: a.emails.length });
    expect(job.normalize!.totals).toEqual(paged.totals);
    expect(job.normalize!.carriersNormalized).toBe(paged.carriersNormalized);
    return a;
  }

  for (const f of ['FMCSA_CENSUS1_2026Nov.txt', 'FMCSA_CENSUS1_2020Aug_26col.txt', 'kjg3-diqy_socrata_export.csv', 'Company_Census_File_sample.csv']) {
    it(`writes the same rows from ${f}`, async () => {
      await bothWays(dataSample(f));
    });
  }

  const emails: Record<string, unknown>[] = [];
  for (const [name, generate, encoding, seed] of [
    ['census1.txt', generateCensus1, 'latin1', 11],
    ['company.csv', generateCompanyCensus, 'utf8', 12],
  ] as const) {
    it(`writes the same rows from a generated ${name}, sorted by DOT number and shuffled`, async () => {
      const file = path.join(dir, name);
      await generate(file, { rows: 3000, seed, badPer100k: 500 });
      // Pages of 500: addresses met again on later pages, links of shared addresses added page by page.
      emails.push(...(await bothWays(file, { batchSize: 500 })).emails);
      await bothWays(shuffled(file, encoding), { batchSize: 500 });
    }, 180_000);
  }

  it('the generated files held shared and malformed addresses', () => {
    expect(emails.some((e) => Number(e.carrier_count) > 1)).toBe(true);
    expect(emails.some((e) => e.valid === false)).toBe(true);
  });

  it('reads carriers back when a DOT number comes twice (the later line wins), with the same rows', async () => {
    await bothWays(dataSample('bad_rows.txt'), { pass: false });
  });

  it('a failed normalize leaves the carriers, and the next run reads them back to the same rows', async () => {
    await Promise.all([reset(viaPass), reset(viaPages)]);
    // A real function, not pg_temp: on PostgreSQL the stage runs on another session of the pool.
    await sql`create or replace function refuse_for_test() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`.execute(viaPass.db);
    await sql`create trigger refuse before insert on email_sources for each row execute function refuse_for_test()`.execute(viaPass.db);
    const file = dataSample('FMCSA_CENSUS1_2026Nov.txt');
    await expect(runCensusIngest(censusContext(viaPass), { files: [file], snapshot: false })).rejects.toThrow(/injected failure/);
    await sql`drop trigger refuse on email_sources`.execute(viaPass.db);
    const carriers = await sql<{ n: number }>`select count(*)::int as n from carriers`.execute(viaPass.db);
    expect(carriers.rows[0]!.n).toBeGreaterThan(0);
    const emails = await sql<{ n: number }>`select count(*)::int as n from emails`.execute(viaPass.db);
    expect(emails.rows[0]!.n).toBe(0);

    const { ctx, said } = listening(viaPass);
    await normalizeEmails(ctx);
    expect(said.join('')).not.toMatch(FROM_PASS);
    await ingest(viaPages, [file]);
    await normalizeEmails(censusContext(viaPages), { pagesOnly: true });
    const [a, b] = [await normalizedRows(viaPass), await normalizedRows(viaPages)];
    expect(a.emails).toEqual(b.emails);
    expect(a.carrierEmails).toEqual(b.carrierEmails);
    expect(a.reasons).toEqual(b.reasons);
    expect(a.sources).toEqual(b.sources);
  });

  it('rows left by a job stopped before its normalize are not used once another ingest ran', async () => {
    await Promise.all([reset(viaPass), reset(viaPages)]);
    const first = dataSample('FMCSA_CENSUS1_2026Nov.txt');
    const second = dataSample('kjg3-diqy_socrata_export.csv');
    // The census stage alone, as the job runs it: it makes the rows and offers them.
    await ingest(viaPass, [first], { normalizeNext: true });
    await ingest(viaPass, [second], { allowOlder: true });
    const { ctx, said } = listening(viaPass);
    await normalizeEmails(ctx);
    expect(said.join('')).not.toMatch(FROM_PASS);
    await ingest(viaPages, [first]);
    await ingest(viaPages, [second], { allowOlder: true });
    await normalizeEmails(censusContext(viaPages), { pagesOnly: true });
    const [a, b] = [await normalizedRows(viaPass), await normalizedRows(viaPages)];
    expect(a.carrierEmails.length).toBeGreaterThan(0);
    expect({ ...a, nextId: null }).toEqual({ ...b, nextId: null });
  });

  it('a census load refused after its scan leaves the e-mail tables empty, unlocked, and their spool removed', async () => {
    await Promise.all([reset(viaPass), reset(viaPages)]);
    const schema = await keys(viaPass);
    const spools = () => readdirSync(os.tmpdir()).filter((f) => f.startsWith(`audience-census-emails-${process.pid}-`));
    // The row floor of a snapshot is checked after the scan, inside the load's transaction.
    const ctx = censusContext(viaPass, { census: { snapshotMinRows: 1_000_000 } });
    const file = dataSample('FMCSA_CENSUS1_2026Nov.txt');
    await expect(runCensusIngest(ctx, { files: [file], snapshot: true })).rejects.toThrow(/snapshotMinRows|fewer/);
    expect(spools()).toEqual([]);
    // Would wait for the lock of a load still open; the test's timeout says so.
    const n = await sql<{ n: number }>`select (select count(*) from carriers) + (select count(*) from emails) + (select count(*) from carrier_emails) + (select count(*) from email_sources) as n`.execute(viaPass.db);
    expect(Number(n.rows[0]!.n)).toBe(0);
    expect(await keys(viaPass)).toEqual(schema);
    // And the next job loads them the same way.
    await bothWays(file);
  }, 30_000);

  it('a first load removes the spool and rejects files of runs killed before, not those of live processes', async () => {
    await Promise.all([reset(viaPass), reset(viaPages)]);
    // The pid of a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const orphans = [`audience-census-emails-${dead}-7-links.bin`, `audience-census-rejects-${dead}-7.csv`].map((f) => path.join(os.tmpdir(), f));
    const live = path.join(os.tmpdir(), `audience-census-emails-${process.pid}-999999-links.bin`);
    for (const f of [...orphans, live]) writeFileSync(f, 'x');
    try {
      await runCensusIngest(censusContext(viaPass), { files: [dataSample('FMCSA_CENSUS1_2026Nov.txt')], snapshot: false });
      expect(orphans.filter((f) => existsSync(f))).toEqual([]);
      expect(existsSync(live)).toBe(true);
    } finally {
      for (const f of [...orphans, live]) rmSync(f, { force: true });
    }
  });

  it('--no-normalize makes no e-mail rows, and the normalize after it reads carriers back', async () => {
    await Promise.all([reset(viaPass), reset(viaPages)]);
    const file = dataSample('FMCSA_CENSUS1_2026Nov.txt');
    const { ctx, said } = listening(viaPass);
    const r = await runCensusIngest(ctx, { files: [file], snapshot: false, normalize: false });
    expect(r.normalize).toBeNull();
    await normalizeEmails(ctx);
    expect(said.join('')).not.toMatch(FROM_PASS);
    expect(said.join('')).toMatch(/every carrier at once/);
  });
});
