/**
 * A normalize page (src/email/write-batch.ts, writePage) is one transaction: a run killed at its
 * commit, or whose state rows (email_sources) fail, loses nothing and claims nothing, and the next
 * normalize ends in the same rows as a run that never failed. After a handed list the last page
 * reports the e-mail totals from a count made on another connection while it was written, plus
 * what it moved: held to a count of the tables, with every kind of move.
 */
import { sql } from 'kysely';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCensusIngest } from '../pipelines/ingest.ts';
import { loadCensus } from '../src/census/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig } from '../src/config.ts';
import type { Store } from '../src/db/store.ts';
import { normalizeEmails } from '../src/email/stage.ts';
import { countEmailTotals } from '../src/email/write-batch.ts';
import { censusContext, generatedMonth, ingestTables, tmpDir } from './census/context.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const OPEN = { snapshotMinRows: 1, snapshotMaxDeactivateShare: 0.2 };
const ctx = (store: Store) => censusContext(store, { census: OPEN });

/** The ingest job's tables, the state rows without the run that wrote them (a failed run takes an id). */
async function rows(store: Store) {
  const t = await ingestTables(store);
  return { ...t, sources: t.sources.map(({ run_id: _r, ...s }) => s) };
}

/**
 * `store`, as if the process were killed at the commit of a transaction holding a page
 * (pg_temp.nb_carrier) while `armed.on`: that transaction throws instead, and rolls back.
 */
function killedAtCommit(store: Store, armed: { on: boolean }): Store {
  return {
    ...store,
    transactionWithCopy: (fn) =>
      store.transactionWithCopy(async (trx, copy) => {
        const r = await fn(trx, copy);
        const page = await sql<{ t: string | null }>`select to_regclass('pg_temp.nb_carrier')::text as t`.execute(trx);
        if (armed.on && page.rows[0]!.t) throw new Error('killed at the commit (test)');
        return r;
      }),
  };
}

describe('normalize pages: the state rows commit with the links, or not at all', () => {
  let files: string[];
  let reference: TestStore;
  let torn: TestStore;
  let failing: TestStore;
  beforeAll(async () => {
    const dir = tmpDir();
    files = [await generatedMonth(dir, 'census_m0.txt'), await generatedMonth(dir, 'census_m1.txt', { seed: 11, changed: 0.06, added: 0.02, gone: 0.03 })];
    [reference, failing, torn] = await Promise.all([createTestStore(), createTestStore(), createTestStore()]);
    for (const store of [reference, failing, torn]) await runCensusIngest(ctx(store), { files: [files[0]!], snapshot: false, maxRejectRate: 0.05 });
    await runCensusIngest(ctx(reference), { files: [files[1]!], snapshot: true, maxRejectRate: 0.05 });
  }, 240_000);
  afterAll(async () => {
    await Promise.all([reference, failing, torn].map((s) => s?.close()));
  });

  it('killed at the commit of a page: the next normalize finds the carriers again and ends as a run that never died', async () => {
    const armed = { on: false };
    const dying = killedAtCommit(torn, armed);
    await loadCensus(ctx(dying), { files: [files[1]!], snapshot: true, maxRejectRate: 0.05, normalizeNext: true });
    const before = await rows(torn);
    armed.on = true;
    await expect(normalizeEmails(ctx(dying))).rejects.toThrow('killed at the commit');
    armed.on = false;
    expect(await rows(torn)).toEqual(before);

    const again = await normalizeEmails(ctx(torn));
    expect(again.carriersNormalized).toBeGreaterThan(50);
    expect(await rows(torn)).toEqual(await rows(reference));
    // And a normalize after it has nothing left to do.
    expect((await normalizeEmails(ctx(torn))).changes).toBe(0);
  }, 240_000);

  it('state rows that fail take the page with them: nothing of it is written, and the re-run ends as a run that never failed', async () => {
    await loadCensus(ctx(failing), { files: [files[1]!], snapshot: true, maxRejectRate: 0.05, normalizeNext: true });
    const before = await rows(failing);
    // One carrier the page records refuses its state row.
    const r = await sql<{ dot_number: number }>`
      select c.dot_number from carriers c join email_sources s using (dot_number)
       where s.email_raw is distinct from c.email_raw order by 1 desc limit 1`.execute(failing.db);
    const dot = Number(r.rows[0]!.dot_number);
    await sql.raw(`alter table email_sources add constraint refuses_one check (dot_number <> ${dot}) not valid`).execute(failing.db);
    await expect(normalizeEmails(ctx(failing))).rejects.toThrow(/refuses_one/);
    expect(await rows(failing)).toEqual(before);

    await sql`alter table email_sources drop constraint refuses_one`.execute(failing.db);
    await normalizeEmails(ctx(failing));
    expect(await rows(failing)).toEqual(await rows(reference));
  }, 240_000);
});

describe('the totals after a handed list: counted before its last page, moved by what the page wrote', () => {
  // Carriers (by line) and the fields each month gives them; every other line is the same in both months.
  const FIELDS: [number, string, string][] = [
    // line, month 0, month 1
    [1, 'crowd@shared-fleet.test', 'solo@new-fleet.test'], // crowd: 3 carriers -> 2 (no longer shared)
    [2, 'crowd@shared-fleet.test', 'crowd@shared-fleet.test'],
    [3, 'crowd@shared-fleet.test', 'crowd@shared-fleet.test'],
    [4, 'pair@two-fleet.test', 'pair@two-fleet.test'], // pair: 2 carriers -> 3 (shared)
    [5, 'pair@two-fleet.test', 'pair@two-fleet.test'],
    [6, 'dispatch@six-fleet.test', 'pair@two-fleet.test'],
    [7, 'duo@second-fleet.test', 'duo@second-fleet.test'], // duo: 2 -> 3 (shared)
    [8, 'duo@second-fleet.test', 'duo@second-fleet.test'],
    [9, 'lonely@old-fleet.test', 'duo@second-fleet.test'], // lonely: 1 -> 0 carriers (no longer linked)
    [10, 'office@ten-fleet.test', 'not an address'], // new invalid addresses
    [11, 'office@eleven-fleet.test', 'office@@eleven-fleet'],
  ];
  const withFields = (month: 1 | 2) => (lines: string[]) =>
    lines.map((line, i) => {
      const f = FIELDS.find(([n]) => n === i);
      if (!f) return line;
      const cells = line.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/);
      cells[18] = `"${f[month]}"`;
      return cells.join(',');
    });
  let store: TestStore;
  const context = (s: Store) => ({ ...ctx(s), config: loadConfig({ env: {}, cwd: tmpDir(), overrides: { census: OPEN, email: { sharedAddressThreshold: 3 } } }) });
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('equal a count of the tables, with addresses turning shared and back, unlinked, and new invalid ones', async () => {
    const dir = tmpDir();
    const m0 = await generatedMonth(dir, 'census_m0.txt', undefined, withFields(1));
    const m1 = await generatedMonth(dir, 'census_m1.txt', undefined, withFields(2));
    await runCensusIngest(context(store), { files: [m0], snapshot: false, maxRejectRate: 0.05 });
    // The carriers listing each address the two months name (none for one not stored).
    const named = [...new Set(FIELDS.flatMap(([, a, b]) => [a, b]))];
    const counts = async () => {
      const r = await sql<{ address: string; n: number }>`select address, carrier_count as n from emails where address = any(${named.map((a) => a.toLowerCase())}::text[])`.execute(store.db);
      return new Map(r.rows.map((x) => [x.address, x.n]));
    };
    const before = await countEmailTotals(store.db, 3);
    const countsBefore = await counts();
    const lines: string[] = [];
    const ctxLines = { ...context(store), out: createOutput({ json: true, verbose: true, stderr: sink(lines), stdout: sink([]) }) };
    const n = (await runCensusIngest(ctxLines, { files: [m1], snapshot: true, maxRejectRate: 0.05 })).normalize!;
    expect(lines.some((l) => /normalize: took the \d+ carrier\(s\) the census run/.test(l))).toBe(true);
    expect(n.carriersNormalized).toBe(5);
    const after = await countEmailTotals(store.db, 3);
    expect(n.totals).toMatchObject(after);
    // Each move happened: crowd left the shared addresses, pair and duo joined them, lonely lost its
    // last carrier, solo came with one, and two invalid fields came.
    const countsAfter = await counts();
    expect(['crowd@shared-fleet.test', 'pair@two-fleet.test', 'duo@second-fleet.test', 'lonely@old-fleet.test', 'solo@new-fleet.test'].map((a) => [countsBefore.get(a) ?? null, countsAfter.get(a)])).toEqual([
      [3, 2],
      [2, 3],
      [2, 3],
      [1, 0],
      [null, 1],
    ]);
    expect(after.shared - before.shared).toBe(1);
    expect(after.invalid - before.invalid).toBe(2);
    const linked = (m: Map<string, number>) => [...m.values()].filter((x) => x > 0).length;
    expect(after.linked - before.linked).toBe(linked(countsAfter) - linked(countsBefore));
    expect(after.linked - before.linked).not.toBe(0);
  }, 240_000);
});

const sink = (lines: string[]) => new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
