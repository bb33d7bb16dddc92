/**
 * The normalize after a refresh writes the carriers the census merge handed over in one page (up to
 * 100,000), and counts the carriers that list an address as the whole normalize before it counted
 * them plus this run's link changes (src/email/stage.ts, write-batch.ts). Held, over months with
 * changed, new, gone and returning carriers, to the same rows in every table and the same summary
 * (totals included) as the handed list written in pages of 7, and as a normalize that finds its
 * carriers by the full join and counts everything again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCensus1 } from '../bench/census-generator.ts';
import { runCensusIngest } from '../pipelines/ingest.ts';
import { loadCensus } from '../src/census/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import type { Store } from '../src/db/store.ts';
import { normalizeEmails } from '../src/email/stage.ts';
import { censusContext, tmpDir } from './census/context.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const ROWS = 1500;
const OPEN = { snapshotMinRows: 1, snapshotMaxDeactivateShare: 0.2 };

/** A generated month whose newest date is the test clock's day, so every month is as recent. */
async function month(dir: string, name: string, refresh?: { seed: number; changed: number; added: number; gone: number }): Promise<string> {
  const file = path.join(dir, name);
  await generateCensus1(file, { rows: ROWS, badPer100k: 0, ...(refresh ? { refresh } : {}) });
  const lines = readFileSync(file, 'latin1').split('\r\n').filter(Boolean);
  lines[lines.length - 1] = lines[lines.length - 1]!.replace(/"\d\d-[A-Z]{3}-\d\d"/, '"29-NOV-26"');
  writeFileSync(file, Buffer.from(lines.join('\r\n') + '\r\n', 'latin1'));
  return file;
}

/** The e-mail tables and carriers, by natural keys (email ids are drawn from a sequence). */
async function tables(store: Store) {
  const q = async (query: ReturnType<typeof sql>) => (await sql<Record<string, unknown>>`${query}`.execute(store.db)).rows;
  return {
    carriers: await q(sql`select * from carriers order by dot_number`),
    emails: await q(sql`select address, local_part, domain, valid, carrier_count, normalizer_version from emails order by address`),
    links: await q(sql`select ce.dot_number, e.address, ce.position from carrier_emails ce join emails e on e.id = ce.email_id order by 1, 2`),
    reasons: await q(sql`select e.address, r.code, r.detail, r.since from email_reasons r join emails e on e.id = r.email_id order by 1, 2`),
    sources: await q(sql`select * from email_sources order by dot_number`),
  };
}

function verboseContext(store: Store, lines: string[]) {
  const ctx = censusContext(store, { census: OPEN });
  const stderr = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  return { ...ctx, out: createOutput({ json: true, verbose: true, stderr, stdout: new Writable({ write: (_c, _e, cb) => cb() }) }) };
}
const handedOff = (lines: string[]) => lines.some((l) => /normalize: took the \d+ carrier\(s\) the census run \d+ changed/.test(l));

describe('the normalize after a refresh: one page, the carriers with an address counted from the change', () => {
  let files: string[];
  let paged: TestStore;
  let onePage: TestStore;
  let recount: TestStore;
  beforeAll(async () => {
    const dir = tmpDir();
    files = [
      await month(dir, 'census_m0.txt'),
      await month(dir, 'census_m1.txt', { seed: 3, changed: 0.06, added: 0.02, gone: 0.04 }),
      // Drawn from m0 again: m1's gone carriers come back, some changed ones change back.
      await month(dir, 'census_m2.txt', { seed: 4, changed: 0.05, added: 0.01, gone: 0.02 }),
    ];
    [paged, onePage, recount] = await Promise.all([createTestStore(), createTestStore(), createTestStore()]);
    for (const store of [paged, onePage, recount]) await runCensusIngest(censusContext(store, { census: OPEN }), { files: [files[0]!], snapshot: false });
  });
  afterAll(async () => {
    await Promise.all([paged?.close(), onePage?.close(), recount?.close()]);
  });

  it('ends every month in the same rows and summary whatever the pages, and as counting everything again', async () => {
    const zero = <T extends { seconds: number }>(s: T) => ({ ...s, seconds: 0 });
    for (const file of files.slice(1)) {
      const linesPaged: string[] = [];
      const linesOne: string[] = [];
      // The handed list in pages of 7: every page but the last a transaction of its own.
      await loadCensus(censusContext(paged, { census: OPEN }), { files: [file], snapshot: true, normalizeNext: true });
      const p = await normalizeEmails(verboseContext(paged, linesPaged), { batchSize: 7 });
      // The ingest job as it runs: one page.
      const o = (await runCensusIngest(verboseContext(onePage, linesOne), { files: [file], snapshot: true })).normalize!;
      // No list handed over: the full join finds the carriers, the totals are counted.
      await runCensusIngest(censusContext(recount, { census: OPEN }), { files: [file], snapshot: true, normalize: false });
      const r = await normalizeEmails(censusContext(recount, { census: OPEN }));
      expect(handedOff(linesPaged) && handedOff(linesOne)).toBe(true);
      expect(o.carriersNormalized).toBeGreaterThan(50);
      expect(o.linksRemoved).toBeGreaterThan(0);
      expect(zero(o)).toEqual(zero(r));
      expect(zero(p)).toEqual(zero(r));
      const want = await tables(recount);
      expect(await tables(onePage)).toEqual(want);
      expect(await tables(paged)).toEqual(want);
      const counted = await sql<{ n: number }>`select count(distinct dot_number)::int as n from carrier_emails`.execute(onePage.db);
      expect(o.totals.carriersWithAddress).toBe(counted.rows[0]!.n);
    }
  });
});
