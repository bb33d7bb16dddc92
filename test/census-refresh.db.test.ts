/**
 * The monthly refresh (issue #15): carriers whose typed row equals the stored one are left out of
 * the staging COPY (src/census/refresh-writer.ts), most of them untyped because their line's
 * digest equals the stored one (carriers.line_hash), and the normalize after it takes the carriers
 * whose e-mail field changed from the merge (src/email/changed-carriers.ts) instead of finding them
 * by a full join. Held, over generated months with changed, new, gone and returning carriers, bad
 * rows, carriers changed back to a line of an earlier month, and a repeated DOT number, to the same
 * final rows in every table as the path before (each refresh with carriers.row_hash and line_hash
 * cleared, so nothing can be left out, then a normalize of its own that finds its carriers by the
 * full join), and to the first load of each file for the values it lists; a refresh after one
 * loaded without normalizing, to the same rows as normalizing each; months typed by other rules
 * (the two-digit-year pivot changed and changed back) to the same rows, nothing left out untyped.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCensusIngest } from '../pipelines/ingest.ts';
import { loadCensus } from '../src/census/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import type { Store } from '../src/db/store.ts';
import type { CensusConfig } from '../src/census/config.ts';
import { CARRIER_VALUE_COLUMNS } from '../src/census/typed-columns.ts';
import { normalizeEmails } from '../src/email/stage.ts';
import { censusContext, generatedMonth as month, ingestTables as tables, MONTH_ROWS as ROWS, tmpDir } from './census/context.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const OPEN = { snapshotMinRows: 1, snapshotMaxDeactivateShare: 0.2 };

/** The test's census context, its info and debug lines kept in `lines`. */
function verboseContext(store: Store, lines: string[], census: Partial<CensusConfig> = {}) {
  const ctx = censusContext(store, { census: { ...OPEN, ...census } });
  const stderr = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  return { ...ctx, out: createOutput({ json: true, verbose: true, stderr, stdout: new Writable({ write: (_c, _e, cb) => cb() }) }) };
}
const handedOff = (lines: string[]) => lines.some((l) => /normalize: took the \d+ carrier\(s\) the census run \d+ changed/.test(l));
/** Good rows the refresh left out untyped (by their line's digest), or null when it typed every line (a first load, a file staged whole). */
const untyped = (lines: string[]) => {
  const m = lines.map((l) => /good rows left out, the same as their carrier's \((\d+) untyped/.exec(l)).find(Boolean);
  return m ? Number(m[1]) : null;
};

describe('ingest census --snapshot: a refresh leaves unchanged carriers out', () => {
  let files: string[];
  let fast: TestStore;
  let whole: TestStore;
  let first: TestStore;
  beforeAll(async () => {
    const dir = tmpDir();
    const m0 = await month(dir, 'census_m0.txt');
    const m1 = await month(dir, 'census_m1.txt', { seed: 7, changed: 0.05, added: 0.02, gone: 0.03 });
    const inM1 = new Set(readFileSync(m1, 'latin1').split('\r\n'));
    // Relative to the first month: carriers gone in m1 come back as they were; one DOT number is
    // listed twice, its first line as in m1 (so left out), its last one changed.
    const m2 = await month(dir, 'census_m2.txt', { seed: 8, changed: 0.05, added: 0.01, gone: 0.02 }, (lines) => {
      const twice = lines.slice(1).find((l) => inM1.has(l))!;
      return [...lines.slice(0, -1), twice.replace(/^(\d+),"[^"]*"/, '$1,"RENAMED MOTOR LINES LLC"'), lines[lines.length - 1]!];
    });
    files = [m0, m1, m2, await month(dir, 'census_m3.txt', { seed: 9, changed: 0.04, added: 0.01, gone: 0.01 })];
    // m3 changes back carriers m2 changed (each month is drawn from m0) and lists again some m2 left out.
    const linesOf = (f: string) => new Set(readFileSync(f, 'latin1').split('\r\n').slice(1).filter(Boolean));
    const [l0, l2, l3] = [linesOf(m0), linesOf(m2), linesOf(files[3]!)];
    const dotOf = (l: string) => l.slice(0, l.indexOf(','));
    const dots2 = new Set([...l2].map(dotOf));
    const back = [...l3].filter((l) => l0.has(l) && !l2.has(l));
    expect(back.filter((l) => dots2.has(dotOf(l))).length).toBeGreaterThan(10);
    expect(back.filter((l) => !dots2.has(dotOf(l))).length).toBeGreaterThan(5);
    [fast, whole, first] = await Promise.all([createTestStore(), createTestStore(), createTestStore()]);
  });
  afterAll(async () => {
    await Promise.all([fast?.close(), whole?.close(), first?.close()]);
  });

  it('ends every month in the same rows as merging the whole file, and lists the values a first load of the file gives', async () => {
    const job = (store: Store, file: string, snapshot: boolean) => runCensusIngest(censusContext(store, { census: OPEN }), { files: [file], snapshot, maxRejectRate: 0.05 });
    await job(fast, files[0]!, false);
    await job(whole, files[0]!, false);
    for (const file of files.slice(1)) {
      const lines: string[] = [];
      const f = await runCensusIngest(verboseContext(fast, lines), { files: [file], snapshot: true, maxRejectRate: 0.05 });
      // m2 lists a carrier twice, one line left out as unchanged: staged whole again (staging.ts), it
      // is merged as before any refresh, and its normalize finds its carriers by the full join.
      expect(handedOff(lines), file).toBe(file !== files[2]);
      if (file === files[2]) expect(untyped(lines), file).toBeNull();
      else expect(untyped(lines), file).toBeGreaterThan(ROWS * 0.8);
      await sql`update carriers set row_hash = null, line_hash = null`.execute(whole.db);
      // The path before: the census stage alone, then a normalize that finds its carriers itself.
      const wLines: string[] = [];
      const wCensus = await runCensusIngest(censusContext(whole, { census: OPEN }), { files: [file], snapshot: true, maxRejectRate: 0.05, normalize: false });
      const w = { ...wCensus, normalize: await normalizeEmails(verboseContext(whole, wLines)) };
      expect(handedOff(wLines), file).toBe(false);
      const counts = (s: typeof f) => ({ ...s, seconds: 0, normalize: { ...s.normalize!, seconds: 0 } });
      expect(counts(f), file).toEqual(counts(w));
      expect(f.updated + f.inserted + f.deactivated, file).toBeGreaterThan(100);
      expect(await tables(fast), file).toEqual(await tables(whole));

      // The contract with a first load of the same file: each carrier it lists has the values (and
      // digest) the first load gives it; the others are inactive.
      await sql`truncate carriers, census_rejects, census_loads`.execute(first.db);
      await runCensusIngest(censusContext(first), { files: [file], snapshot: false, maxRejectRate: 0.05, normalize: false });
      const cols = sql.raw([...CARRIER_VALUE_COLUMNS, 'row_hash', 'line_hash'].join(', '));
      const listed = (await sql<Record<string, unknown>>`select dot_number, ${cols} from carriers order by dot_number`.execute(first.db)).rows;
      const ours = (await sql<Record<string, unknown>>`select dot_number, ${cols} from carriers where dot_number = any(${listed.map((r) => r.dot_number)}::bigint[]) order by dot_number`.execute(fast.db)).rows;
      expect(ours, file).toEqual(listed);
      const rest = await sql<{ status: string; n: number }>`
        select status, count(*)::int as n from carriers where not dot_number = any(${listed.map((r) => r.dot_number)}::bigint[]) group by status`.execute(fast.db);
      expect(rest.rows.map((r) => r.status), file).toEqual(['inactive']);
    }
  }, 240_000);

  it('a re-run of the same snapshot changes nothing in any table', async () => {
    const before = await tables(fast);
    const lines: string[] = [];
    const again = await runCensusIngest(verboseContext(fast, lines), { files: [files[3]!], snapshot: true, maxRejectRate: 0.05 });
    // Every good line is the one its carrier's row was typed from.
    expect(untyped(lines)).toBe(again.accepted);
    expect(again).toMatchObject({ inserted: 0, updated: 0, deactivated: 0 });
    expect(again.normalize!.changes).toBe(0);
    const after = await tables(fast);
    // The re-run adds its own rejects and census_loads row, as every run does; nothing else moves.
    expect({ ...after, rejects: [], loads: [] }).toEqual({ ...before, rejects: [], loads: [] });
    expect(after.rejects.filter((r) => r.run_id === again.runId).map(({ run_id: _r, ...x }) => x)).toEqual(
      before.rejects.filter((r) => r.file === 'census_m3.txt').map(({ run_id: _r, ...x }) => x),
    );
  });

  it('keeps a bad row with its line number and reason, and a repeated DOT number as superseded', async () => {
    const rejects = await sql<{ line_no: number; reason: string }>`
      select line_no, reason from census_rejects where file = 'census_m2.txt' and run_id = (select min(run_id) from census_rejects where file = 'census_m2.txt') order by line_no`.execute(fast.db);
    expect(rejects.rows.length).toBeGreaterThan(5);
    expect(rejects.rows.some((r) => /^duplicate_dot_number: superseded by line \d+$/.test(r.reason))).toBe(true);
    expect(rejects.rows.some((r) => r.reason.startsWith('bad_date: MCS150_DATE') || r.reason.startsWith('bad_date: ADD_DATE'))).toBe(true);
    expect(rejects.rows.every((r) => r.line_no > 1)).toBe(true);
  });

  it('months typed by other rules (absurd-count limit changed, then back) leave no line out untyped and end as merging every line', async () => {
    const [fastStore, ref] = await Promise.all([createTestStore(), createTestStore()]);
    try {
      for (const store of [fastStore, ref]) await runCensusIngest(censusContext(store, { census: OPEN }), { files: [files[0]!], snapshot: false, maxRejectRate: 0.05 });
      // A limit of 20 power units or drivers: larger counts are nulled and flagged, so some rows type otherwise, and every line's digest context differs.
      const steps: [string, Partial<CensusConfig>, 'none' | 'some'][] = [
        [files[1]!, { absurdCount: 20 }, 'none'],
        [files[3]!, { absurdCount: 20 }, 'some'],
        [files[3]!, {}, 'none'],
      ];
      const flagged: number[] = [];
      for (const [file, census, left] of steps) {
        const lines: string[] = [];
        const f = await runCensusIngest(verboseContext(fastStore, lines, census), { files: [file], snapshot: true, maxRejectRate: 0.05 });
        if (left === 'none') expect(untyped(lines), file).toBe(0);
        else expect(untyped(lines), file).toBeGreaterThan(ROWS * 0.8);
        await sql`update carriers set row_hash = null, line_hash = null`.execute(ref.db);
        const rCensus = await runCensusIngest(censusContext(ref, { census: { ...OPEN, ...census } }), { files: [file], snapshot: true, maxRejectRate: 0.05, normalize: false });
        const r = { ...rCensus, normalize: await normalizeEmails(censusContext(ref, { census: OPEN })) };
        const counts = (x: typeof f) => ({ ...x, seconds: 0, normalize: { ...x.normalize!, seconds: 0 } });
        expect(counts(f), file).toEqual(counts(r));
        expect(await tables(fastStore), file).toEqual(await tables(ref));
        const n = await sql<{ n: number }>`select count(*)::int as n from carriers where status <> 'inactive' and data_flags <> '{}'`.execute(fastStore.db);
        flagged.push(n.rows[0]!.n);
      }
      // The limit did type rows otherwise (counts nulled and flagged), and its default typed them back.
      expect(flagged[0]! - flagged[2]!).toBeGreaterThan(50);
    } finally {
      await Promise.all([fastStore.close(), ref.close()]);
    }
  }, 240_000);

  it('after a refresh loaded without normalizing, the next refresh finds its carriers itself, as a normalize of its own would', async () => {
    const [skipped, ref] = await Promise.all([createTestStore(), createTestStore()]);
    try {
      for (const store of [skipped, ref]) {
        await runCensusIngest(censusContext(store, { census: OPEN }), { files: [files[0]!], snapshot: false, maxRejectRate: 0.05 });
        await runCensusIngest(censusContext(store, { census: OPEN }), { files: [files[1]!], snapshot: true, maxRejectRate: 0.05, normalize: false });
      }
      const lines: string[] = [];
      const s = await runCensusIngest(verboseContext(skipped, lines), { files: [files[3]!], snapshot: true, maxRejectRate: 0.05 });
      // The ledger shows a census run after the last normalize: the merge's list is not all there is to do.
      expect(handedOff(lines)).toBe(false);
      const rCensus = await runCensusIngest(censusContext(ref, { census: OPEN }), { files: [files[3]!], snapshot: true, maxRejectRate: 0.05, normalize: false });
      const r = { ...rCensus, normalize: await normalizeEmails(censusContext(ref, { census: OPEN })) };
      const counts = (x: typeof s) => ({ ...x, seconds: 0, normalize: { ...x.normalize!, seconds: 0 } });
      expect(counts(s)).toEqual(counts(r));
      expect(s.normalize!.carriersNormalized).toBeGreaterThan(50);
      expect(await tables(skipped)).toEqual(await tables(ref));
    } finally {
      await Promise.all([skipped.close(), ref.close()]);
    }
  }, 240_000);
});

/**
 * The normalize after a refresh writes the carriers the census merge handed over in one page (up to
 * 100,000), and counts the carriers that list an address as the whole normalize before it counted
 * them plus this run's link changes (src/email/stage.ts, write-batch.ts): the same rows in every
 * table and the same summary (totals included) as the handed list written in pages of 7, and as a
 * normalize that finds its carriers by the full join and counts everything again.
 */
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
    for (const store of [paged, onePage, recount]) await runCensusIngest(censusContext(store, { census: OPEN }), { files: [files[0]!], snapshot: false, maxRejectRate: 0.05 });
  }, 240_000);
  afterAll(async () => {
    await Promise.all([paged?.close(), onePage?.close(), recount?.close()]);
  });

  it('ends every month in the same rows and summary whatever the pages, and as counting everything again', async () => {
    const zero = <T extends { seconds: number }>(s: T) => ({ ...s, seconds: 0 });
    for (const file of files.slice(1)) {
      const linesPaged: string[] = [];
      const linesOne: string[] = [];
      // The handed list in pages of 7: every page but the last a transaction of its own.
      await loadCensus(censusContext(paged, { census: OPEN }), { files: [file], snapshot: true, maxRejectRate: 0.05, normalizeNext: true });
      const p = await normalizeEmails(verboseContext(paged, linesPaged), { batchSize: 7 });
      // The ingest job as it runs: one page.
      const o = (await runCensusIngest(verboseContext(onePage, linesOne), { files: [file], snapshot: true, maxRejectRate: 0.05 })).normalize!;
      // No list handed over: the full join finds the carriers, the totals are counted.
      await runCensusIngest(censusContext(recount, { census: OPEN }), { files: [file], snapshot: true, maxRejectRate: 0.05, normalize: false });
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
  }, 240_000);
});
