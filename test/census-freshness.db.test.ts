/**
 * Census freshness guards (issue #14): an empty or truncated --snapshot must not wipe the audience,
 * and an older census file must not overwrite newer data. Each case first reproduces what main did.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SafetyGateError, UsageError } from '../src/errors.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { carrier, countCarriers, dataSample, ingest, resetCensus, SAMPLE_DAY, sampleLines, writeCensus } from './census/context.ts';

let store: TestStore;
beforeAll(async () => {
  store = await createTestStore();
});
afterAll(async () => {
  await store.close();
});
beforeEach(async () => {
  await resetCensus(store);
});

const NOV_2026 = 'FMCSA_CENSUS1_2026Nov.txt';
const AUG_2020 = 'FMCSA_CENSUS1_2020Aug_26col.txt';
/** The sample files are small: a floor that lets them be snapshots, so only the share guard speaks. */
const SMALL_FLOOR = { snapshotMinRows: 10 };

const active = () => countCarriers(store, sql`status = 'active'`);
const loads = () => store.db.selectFrom('census_loads').selectAll().orderBy('id').execute();

describe('--snapshot guard', () => {
  it('a header-only file refuses with exit 3 and writes nothing (main: "63 deactivated", exit 0)', async () => {
    await ingest(store, [dataSample(NOV_2026)]);
    const headerOnly = writeCensus('header-only.txt', sampleLines(NOV_2026).slice(0, 1));
    const err = await ingest(store, [headerOnly], { snapshot: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyGateError);
    expect((err as SafetyGateError).exitCode).toBe(3);
    expect((err as SafetyGateError).message).toMatch(/would deactivate 63 of 63 active carriers \(100\.0%\), above census\.snapshotMaxDeactivateShare 0\.05 \(5\.0%\)/);
    expect((err as SafetyGateError).message).toMatch(/0 data row\(s\), fewer than census\.snapshotMinRows 1000/);
    expect((err as SafetyGateError).message).toMatch(/--force-snapshot/);
    expect((err as SafetyGateError).summary).toMatchObject({ wouldDeactivate: 63, activeCarriers: 63, share: 1, maxShare: 0.05, rows: 0 });
    expect(await active()).toBe(63);
    expect(await loads()).toHaveLength(1);
    const run = await store.db.selectFrom('runs').select(['status', 'error']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ status: 'refused' });
  });

  it('a truncated file (the first 40 of 63 rows) refuses: 23 of 63 would go (36.5%)', async () => {
    await ingest(store, [dataSample(NOV_2026)]);
    const truncated = writeCensus('FMCSA_CENSUS1_2026Nov_cut.txt', sampleLines(NOV_2026).slice(0, 41));
    await expect(ingest(store, [truncated], { snapshot: true, census: SMALL_FLOOR })).rejects.toThrow(/would deactivate 23 of 63 active carriers \(36\.5%\)/);
    expect(await active()).toBe(63);
  });

  it('a snapshot losing a share at or under the limit goes through; --force-snapshot lets a larger one through', async () => {
    await ingest(store, [dataSample(NOV_2026)]);
    const lines = sampleLines(NOV_2026);
    // 3 of 63 (4.8%) left the census: under 5%.
    const fewGone = writeCensus('FMCSA_CENSUS1_2026Dec.txt', lines.slice(0, lines.length - 3));
    expect(await ingest(store, [fewGone], { snapshot: true, census: SMALL_FLOOR })).toMatchObject({ deactivated: 3 });
    expect(await active()).toBe(60);
    // Back, then 4 of 63 (6.3%): refused, then forced.
    await ingest(store, [dataSample(NOV_2026)]);
    const more = writeCensus('FMCSA_CENSUS1_2027Jan.txt', lines.slice(0, lines.length - 4));
    await expect(ingest(store, [more], { snapshot: true, census: SMALL_FLOOR })).rejects.toThrow(/4 of 63 active carriers \(6\.3%\)/);
    const forced = await ingest(store, [more], { snapshot: true, forceSnapshot: true, census: SMALL_FLOOR });
    expect(forced).toMatchObject({ deactivated: 4 });
    expect(await active()).toBe(59);
    expect((await loads()).at(-1)).toMatchObject({ snapshot: true, forced_snapshot: true, rows_read: 59 });
  });

  it('the share limit is configuration, validated', async () => {
    await ingest(store, [dataSample(NOV_2026)]);
    const lines = sampleLines(NOV_2026);
    const tenGone = writeCensus('FMCSA_CENSUS1_2026Dec.txt', lines.slice(0, lines.length - 10));
    expect(await ingest(store, [tenGone], { snapshot: true, census: { ...SMALL_FLOOR, snapshotMaxDeactivateShare: 0.2 } })).toMatchObject({ deactivated: 10 });
    await expect(async () => ingest(store, [tenGone], { snapshot: true, census: { snapshotMaxDeactivateShare: 1.5 } })).rejects.toThrow(/census\.snapshotMaxDeactivateShare: Too big/);
  });

  it('the row floor refuses a short snapshot even on an empty database (the first-load path), and nothing is loaded', async () => {
    await expect(ingest(store, [dataSample(NOV_2026)], { snapshot: true })).rejects.toThrow(/63 data row\(s\), fewer than census\.snapshotMinRows 1000/);
    expect(await countCarriers(store)).toBe(0);
    expect(await loads()).toHaveLength(0);
    expect(await ingest(store, [dataSample(NOV_2026)], { snapshot: true, forceSnapshot: true })).toMatchObject({ inserted: 63 });
  });

  it('--force-snapshot without --snapshot is a usage error', async () => {
    await expect(ingest(store, [dataSample(NOV_2026)], { forceSnapshot: true })).rejects.toBeInstanceOf(UsageError);
  });
});

describe('older census files', () => {
  it('the 2020 file after the 2026 one is refused with exit 2 (main: 14 "updated", DOT 3900011 back to 2019-01-14)', async () => {
    await ingest(store, [dataSample(NOV_2026)]);
    const err = await ingest(store, [dataSample(AUG_2020)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).toMatch(
      /FMCSA_CENSUS1_2020Aug_26col\.txt is older than the census already loaded: its newest MCS-150\/ADD date is 2019-12-18, 2534 days before the loaded data's 2026-11-25 \(FMCSA_CENSUS1_2026Nov\.txt, run \d+; census\.olderToleranceDays 14\)/,
    );
    expect((err as UsageError).message).toMatch(/--allow-older/);
    expect(await carrier(store, 3900011)).toMatchObject({ mcs150_date: '2025-01-14', source_file: NOV_2026 });
    expect(await loads()).toHaveLength(1);
  });

  it('--allow-older merges it without turning back a newer MCS-150 filing, and adds the carriers it alone lists', async () => {
    await ingest(store, [dataSample(NOV_2026)]);
    // A carrier only the old file has, and one whose stored filing is older than the old file's.
    const old = sampleLines(AUG_2020);
    const extra = old[1]!.replace(/^3900011,/, '3999991,');
    await store.db.updateTable('carriers').set({ mcs150_date: '2018-06-01' }).where('dot_number', '=', 3900052).execute();
    const file = writeCensus('FMCSA_CENSUS1_2020Aug_plus.txt', [...old, extra]);
    const s = await ingest(store, [file], { allowOlder: true });
    expect(s).toMatchObject({ read: 15, inserted: 1, updated: 1, keptNewer: 13, unchanged: 0, dataDate: '2019-12-18' });
    expect(await carrier(store, 3900011)).toMatchObject({ mcs150_date: '2025-01-14', source_file: NOV_2026 });
    expect(await carrier(store, 3900052)).toMatchObject({ mcs150_date: '2019-02-10', source_file: 'FMCSA_CENSUS1_2020Aug_plus.txt' });
    expect(await carrier(store, 3999991)).toMatchObject({ mcs150_date: '2019-01-14', status: 'active' });
    expect((await loads()).at(-1)).toMatchObject({ file: 'FMCSA_CENSUS1_2020Aug_plus.txt', allowed_older: true, data_date: '2019-12-18' });
    // What is loaded is still the 2026 data: the old file did not lower the bar.
    await expect(ingest(store, [dataSample(AUG_2020)])).rejects.toBeInstanceOf(UsageError);
  });

  it('a file older by no more than census.olderToleranceDays (a partial extract) is merged carefully, not refused', async () => {
    await ingest(store, [dataSample(NOV_2026)]);
    // Two carriers of the same month's census (one with an older filing): newest date 2026-11-20, 5 days behind.
    const lines = sampleLines(NOV_2026);
    const part = lines.filter((l, i) => i === 0 || /^390001|^450230/.test(l)).map((l) => (l.startsWith('3900011,') ? l.replace('"14-JAN-25"', '"14-JAN-24"') : l));
    const s = await ingest(store, [writeCensus('extract.txt', part)]);
    expect(s).toMatchObject({ dataDate: '2026-11-20', inserted: 0, updated: 0 });
    expect(s.keptNewer).toBe(part.length - 1);
    expect((await carrier(store, 3900011))?.mcs150_date).toBe('2025-01-14');
    expect((await loads()).at(-1)).toMatchObject({ file: 'extract.txt', allowed_older: false });
    // With a tolerance of 2 days the same file is refused.
    await expect(ingest(store, [writeCensus('extract.txt', part)], { census: { olderToleranceDays: 2 } })).rejects.toThrow(/5 days before the loaded data's 2026-11-25/);
  });

  it('--snapshot with --allow-older is a usage error: an old census cannot say who left since', async () => {
    await expect(ingest(store, [dataSample(AUG_2020)], { snapshot: true, allowOlder: true })).rejects.toThrow(/--snapshot cannot be combined with --allow-older/);
  });

  it('several files: each is judged against the loaded data and the files before it', async () => {
    const ok = await ingest(store, [dataSample(AUG_2020), dataSample(NOV_2026)]);
    expect(ok).toMatchObject({ inserted: 63, updated: 14, dataDate: '2026-11-25' });
    expect((await loads()).map((l) => [l.file, l.data_date])).toEqual([
      [AUG_2020, '2019-12-18'],
      [NOV_2026, '2026-11-25'],
    ]);
    await resetCensus(store);
    await expect(ingest(store, [dataSample(NOV_2026), dataSample(AUG_2020)])).rejects.toThrow(/FMCSA_CENSUS1_2020Aug_26col\.txt is older/);
    expect(await countCarriers(store)).toBe(0);
  });

  it('re-ingesting the same file is not "older"; a newer file is trusted row by row (FMCSA corrections included)', async () => {
    await ingest(store, [dataSample(NOV_2026)]);
    expect(await ingest(store, [dataSample(NOV_2026)])).toMatchObject({ unchanged: 63, keptNewer: 0 });
    // December: FMCSA corrected 3900011's filing date downwards, and a new carrier filed.
    const lines = sampleLines(NOV_2026).map((l) => (l.startsWith('3900011,') ? l.replace('"14-JAN-25"', '"13-JAN-25"') : l));
    const dec = lines.find((l) => l.startsWith('4502376,'))!.replace(/^4502376,/, '4509999,').replaceAll('"25-NOV-26"', '"01-DEC-26"');
    const s = await ingest(store, [writeCensus('FMCSA_CENSUS1_2026Dec.txt', [...lines, dec])], { now: new Date('2026-12-02T15:00:00Z') });
    expect(s).toMatchObject({ inserted: 1, updated: 1, keptNewer: 0, dataDate: '2026-12-01' });
    expect((await carrier(store, 3900011))?.mcs150_date).toBe('2025-01-13');
  });

  it("a date after the run's day is a typo: it does not make an old file newer", async () => {
    await ingest(store, [dataSample(NOV_2026)]);
    // 15-DEC-26 is after the run's day (2026-11-28): without the bound this 2019 file would pass as newer.
    const typo = sampleLines(AUG_2020).map((l) => (l.startsWith('3900011,') ? l.replace('"02-MAR-19"', '"15-DEC-26"') : l));
    await expect(ingest(store, [writeCensus('FMCSA_CENSUS1_2020Aug_typo.txt', typo)])).rejects.toThrow(/its newest MCS-150\/ADD date is 2019-12-18/);
    expect((await carrier(store, 3900011))?.mcs150_date).toBe('2025-01-14');
  });

  it('a database loaded before census_loads existed is compared by its carriers\' own dates', async () => {
    await ingest(store, [dataSample(NOV_2026)]);
    await store.db.deleteFrom('census_loads').execute();
    await expect(ingest(store, [dataSample(AUG_2020)])).rejects.toThrow(/the loaded data's 2026-11-25 \(the carriers already in the database;/);
  });

  it('records each load: name, format, sha256 and size of the text, rows, newest dates, run, time', async () => {
    const s = await ingest(store, [dataSample(NOV_2026)]);
    const [row] = await loads();
    expect(row).toMatchObject({
      run_id: s.run,
      file: NOV_2026,
      format: 'fmcsa_census1',
      rows_read: 63,
      rows_accepted: 63,
      newest_mcs150: '2026-11-25',
      newest_add_date: '2026-11-25',
      data_date: '2026-11-25',
      snapshot: false,
      allowed_older: false,
      forced_snapshot: false,
    });
    expect(row!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.loaded_at.toISOString()).toBe(SAMPLE_DAY.toISOString());
    const again = await ingest(store, [dataSample(NOV_2026)]);
    const rows = await loads();
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ run_id: again.run, sha256: row!.sha256, bytes: row!.bytes });
  });
});
