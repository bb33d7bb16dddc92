import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../src/errors.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { carrier, carriersState, countCarriers, dataSample, fixture, ingest, resetCensus, sampleLines, writeCensus } from './census/context.ts';

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

describe('ingest census: FMCSA_CENSUS1 42-column text file (Windows-1252, CRLF)', () => {
  it('loads every carrier with typed values, decoded names, sentinels flagged and the test record marked', async () => {
    const s = await ingest(store, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    expect(s).toMatchObject({ command: 'ingest census', format: 'fmcsa_census1', read: 63, accepted: 63, rejected: 0, inserted: 63, updated: 0, unchanged: 0, deactivated: 0 });
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['command', 'files', 'format', 'read', 'accepted', 'rejected', 'inserted', 'updated', 'unchanged', 'deactivated', 'seconds']));

    expect(await carrier(store, 3901111)).toMatchObject({ legal_name: 'TRANSPORTES PEÑA SA DE CV', dba_name: 'PEÑA EXPRESS', status: 'active' });
    expect(await carrier(store, 3905073)).toMatchObject({ legal_name: 'TRANSPORT ÉRABLE LTÉE', phy_city: 'SAINT-JÉRÔME', phy_zip: 'J7Z 5T3', phy_country: 'CA' });
    expect(await carrier(store, 3901151)).toMatchObject({ legal_name: 'ACME "BIG RIG" HAULING, LLC', dba_name: 'ACME, BIG RIG' });
    expect(await carrier(store, 3900011)).toMatchObject({
      carrier_operation: 'A', hazmat: false, passenger: false, phone: '8065551001', email_raw: 'DISPATCH@ROADRUNNER-FREIGHT.TEST',
      mcs150_date: '2025-01-14', add_date: '2019-03-02', mcs150_mileage: 120000, mcs150_mileage_year: 2025, power_units: 12, drivers: 14,
      phy_zip: '74107', mail_city: 'TULSA', source_format: 'fmcsa_census1', source_file: 'FMCSA_CENSUS1_2026Nov.txt', source_line: 2,
      data_flags: [], is_test_record: false,
    });
    // The e-mail field stays as filed: the e-mail stage normalizes it.
    expect((await carrier(store, 3902024))?.email_raw).toBe(' RiverBend@AOL.com ');
    // Two-digit years: 74 is 1974, 26 is 2026 (pivot = this year).
    expect(await carrier(store, 3905040)).toMatchObject({ add_date: '1974-06-01', mcs150_date: '2024-10-31', email_raw: null, mcs150_mileage: null });
    expect((await carrier(store, 4502376))?.add_date).toBe('2026-11-25');
    expect(await carrier(store, 3905017)).toMatchObject({ mcs150_mileage_year: null, data_flags: ['mcs150_mileage_year_sentinel'] });
    expect(await carrier(store, 3905028)).toMatchObject({ mcs150_mileage_year: null, mcs150_mileage: 0, data_flags: ['mcs150_mileage_year_sentinel'] });
    expect(await carrier(store, 3905039)).toMatchObject({ power_units: null, drivers: null, data_flags: ['power_units_absurd', 'drivers_absurd'] });
    expect(await carrier(store, 3903071)).toMatchObject({ is_test_record: true, phone: '2025555555' });
    expect(await countCarriers(store, sql`is_test_record`)).toBe(1);
    expect((await carrier(store, 3905095))?.phone).toBe('5055550142');
    expect(await carrier(store, 3905062)).toMatchObject({ hazmat: true, carrier_operation: 'A' });
    expect((await carrier(store, 3905051))?.passenger).toBe(true);
  });

  it('is idempotent: the same file again writes nothing, and the ledger says so', async () => {
    await ingest(store, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    const before = await store.db.selectFrom('carriers').select(['dot_number', 'changed_run_id', 'updated_at']).orderBy('dot_number').execute();
    const again = await ingest(store, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    expect(again).toMatchObject({ read: 63, accepted: 63, inserted: 0, updated: 0, unchanged: 63 });
    expect(await store.db.selectFrom('carriers').select(['dot_number', 'changed_run_id', 'updated_at']).orderBy('dot_number').execute()).toEqual(before);
    const run = await store.db.selectFrom('runs').selectAll().where('id', '=', again.run).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ stage: 'ingest-census', status: 'ok' });
    expect(run.counts).toMatchObject({ inserted: 0, updated: 0, unchanged: 63 });
  });

  it('a newer file updates only the carriers that changed', async () => {
    await ingest(store, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    const lines = sampleLines('FMCSA_CENSUS1_2026Nov.txt');
    const changed = lines.map((l) => (l.startsWith('3900011,') ? l.replace('"DISPATCH@ROADRUNNER-FREIGHT.TEST"', '"OPS@ROADRUNNER-FREIGHT.TEST"') : l));
    const s = await ingest(store, [writeCensus('FMCSA_CENSUS1_2026Dec.txt', changed)]);
    expect(s).toMatchObject({ inserted: 0, updated: 1, unchanged: 62 });
    expect(await carrier(store, 3900011)).toMatchObject({ email_raw: 'OPS@ROADRUNNER-FREIGHT.TEST', changed_run_id: s.run, source_file: 'FMCSA_CENSUS1_2026Dec.txt' });
  });
});

describe('ingest census: the other formats', () => {
  it('the 2020 26-column text file (LF endings)', async () => {
    const s = await ingest(store, [dataSample('FMCSA_CENSUS1_2020Aug_26col.txt')]);
    expect(s).toMatchObject({ format: 'fmcsa_census1', read: 14, accepted: 14, inserted: 14 });
    expect(await carrier(store, 3900011)).toMatchObject({ mcs150_date: '2019-01-14', mcs150_mileage_year: 2019, legal_name: 'ROADRUNNER FREIGHT LLC' });
  });

  it('the Socrata export: lower-case header, true/false flags, (999) 999-9999 phones, UTF-8 names', async () => {
    const s = await ingest(store, [dataSample('kjg3-diqy_socrata_export.csv')]);
    expect(s).toMatchObject({ format: 'fmcsa_census1_socrata', read: 22, accepted: 22, inserted: 22 });
    expect(await carrier(store, 3900011)).toMatchObject({ phone: '8065551001', hazmat: false, passenger: false, add_date: '2019-03-02' });
    expect((await carrier(store, 3901131))?.legal_name).toBe('CAMIONNAGE BÉLANGER INC');
    expect((await carrier(store, 3901151))?.legal_name).toBe('ACME "BIG RIG" HAULING, LLC');
  });

  it('the Company Census File: BOM, 147 columns, STATUS_CODE A/I/P, HM_Ind, YYYYMMDD with " HHMM"', async () => {
    const s = await ingest(store, [dataSample('Company_Census_File_sample.csv')]);
    expect(s).toMatchObject({ format: 'company_census', read: 24, accepted: 24, inserted: 24 });
    const byStatus = await store.db.selectFrom('carriers').select(['status', sql<number>`count(*)::int`.as('n')]).groupBy('status').orderBy('status').execute();
    expect(byStatus).toEqual([{ status: 'active', n: 16 }, { status: 'inactive', n: 4 }, { status: 'pending', n: 4 }]);
    expect(await carrier(store, 3900011)).toMatchObject({ mcs150_date: '2025-01-14', add_date: '2019-03-02', email_raw: 'dispatch@roadrunner-freight.test', power_units: 12, drivers: 14 });
    expect(await carrier(store, 3900072)).toMatchObject({ status: 'inactive', deactivated_at: expect.any(Date) });
    expect(await carrier(store, 3901240)).toMatchObject({ hazmat: true, mail_state: 'LA', mail_city: 'LAKE CHARLES' });
    expect((await carrier(store, 3901111))?.legal_name).toBe('TRANSPORTES PEÑA SA DE CV');
    expect(await carrier(store, 3901191)).toMatchObject({ status: 'pending', mcs150_date: null });
  });

  it('.gz and the FMCSA .zip load exactly like the plain file', async () => {
    const gz = await ingest(store, [fixture('FMCSA_CENSUS1_2026Nov.txt.gz')]);
    expect(gz).toMatchObject({ read: 63, inserted: 63 });
    const zip = await ingest(store, [fixture('FMCSA_CENSUS1_2026Nov.zip')]);
    expect(zip).toMatchObject({ read: 63, inserted: 0, updated: 0, unchanged: 63 });
    const plain = await ingest(store, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    expect(plain).toMatchObject({ inserted: 0, updated: 0, unchanged: 63 });
  });
});

describe('ingest census: dates', () => {
  const header = '"DOT_NUMBER","LEGAL_NAME","MCS150_DATE","ADD_DATE","NBR_POWER_UNIT"';
  it('DD-MON-YY: real calendar days only, the two-digit-year pivot, any letter case', async () => {
    const file = writeCensus('dates.txt', [
      header,
      '1,"LEAP","29-FEB-24","01-JAN-27",""',
      '2,"NOT LEAP","29-FEB-23","",""',
      '3,"APRIL","31-APR-20","",""',
      '4,"LOWER","20-nov-26","01-JUN-74",""',
      '5,"MONTH","15-XYZ-19","",""',
      '6,"SHORT","1-JAN-20","",""',
    ]);
    const s = await ingest(store, [file], { maxRejectRate: 1 });
    expect(s).toMatchObject({ read: 6, accepted: 2, rejected: 4 });
    expect(await carrier(store, 1)).toMatchObject({ mcs150_date: '2024-02-29', add_date: '1927-01-01' });
    expect(await carrier(store, 4)).toMatchObject({ mcs150_date: '2026-11-20', add_date: '1974-06-01' });
    const rejects = await store.db.selectFrom('census_rejects').select(['line_no', 'reason']).where('run_id', '=', s.run).orderBy('line_no').execute();
    expect(rejects).toEqual([
      { line_no: 3, reason: "bad_date: MCS150_DATE '29-FEB-23'" },
      { line_no: 4, reason: "bad_date: MCS150_DATE '31-APR-20'" },
      { line_no: 6, reason: "bad_date: MCS150_DATE '15-XYZ-19'" },
      // Not DD-MON-YY: rejected rather than guessed.
      { line_no: 7, reason: "bad_date: MCS150_DATE '1-JAN-20'" },
    ]);
  });

  it('the pivot can be configured (census.twoDigitYearPivot)', async () => {
    const file = writeCensus('pivot.txt', [header, '1,"A","01-JAN-27","01-JAN-31",""']);
    await ingest(store, [file], { census: { twoDigitYearPivot: 30 } });
    expect(await carrier(store, 1)).toMatchObject({ mcs150_date: '2027-01-01', add_date: '1931-01-01' });
  });
});

describe('ingest census: bad rows', () => {
  const expected = [
    [3, 'duplicate_dot_number: superseded by line 20'],
    [4, 'field_count: 40 fields, the header has 42'],
    [5, 'field_count: 43 fields, the header has 42'],
    [6, 'bad_dot_number'],
    [7, 'bad_dot_number'],
    [8, "bad_date: MCS150_DATE '31-FEB-20'"],
    [9, "bad_date: ADD_DATE '15-XYZ-19'"],
    [10, 'broken_quoting: text after a closing quote in field 2'],
    [11, 'broken_quoting: a quoted field is not closed before the end of the line'],
    [13, 'undecodable_bytes: byte 0x81 is undefined in Windows-1252 (field 2)'],
    [14, 'undecodable_bytes: NUL byte in field 2'],
    [15, "bad_number: NBR_POWER_UNIT 'TWELVE'"],
    [16, "bad_flag: HM_FLAG 'X' (expected Y/N or true/false)"],
  ] as const;

  it('above --max-reject-rate the run fails with InputError, merges nothing, and keeps the rejects for diagnosis', async () => {
    const err = await ingest(store, [dataSample('bad_rows.txt')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/too many bad rows, nothing was merged: .*bad_rows.txt: 13 of 21 rows .*raise --max-reject-rate/);
    expect(await countCarriers(store)).toBe(0);
    const run = await store.db.selectFrom('runs').selectAll().where('stage', '=', 'ingest-census').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(run.status).toBe('failed');
    expect(await store.db.selectFrom('census_rejects').select('line_no').where('run_id', '=', run.id).execute()).toHaveLength(13);
  });

  it('each kind of bad row is rejected with its line and reason, the rest is merged, the last duplicate wins', async () => {
    const rejectsFile = `${writeCensus('x.txt', ['x'])}.rejects.csv`;
    const s = await ingest(store, [dataSample('bad_rows.txt')], { maxRejectRate: 0.9, rejectsFile });
    expect(s).toMatchObject({ read: 21, accepted: 8, rejected: 13, inserted: 8 });
    const rejects = await store.db.selectFrom('census_rejects').selectAll().where('run_id', '=', s.run).orderBy('line_no').execute();
    expect(rejects.map((r) => [r.line_no, r.reason.startsWith('bad_dot_number') ? 'bad_dot_number' : r.reason])).toEqual(expected);
    expect(rejects.every((r) => r.file === 'bad_rows.txt' && r.raw.length > 100)).toBe(true);
    expect(rejects.find((r) => r.line_no === 13)?.raw).toContain('CONTROL\\x81CHAR CARRIER');
    // Line 11's open quote did not swallow line 12.
    expect(await carrier(store, 3900052)).toMatchObject({ source_line: 12 });
    expect(await carrier(store, 3900031)).toMatchObject({ legal_name: 'ROADRUNNER FREIGHT EAST INC (RENAMED)', source_line: 20 });
    const csv = readFileSync(rejectsFile, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('file,line,reason,raw');
    expect(csv).toHaveLength(14);
    expect(csv[1]).toMatch(/^bad_rows\.txt,3,duplicate_dot_number: superseded by line 20,/);
  });

  it('the first load (empty carriers) and the staged merge type, reject and keep exactly the same rows', async () => {
    const files = [dataSample('bad_rows.txt'), dataSample('FMCSA_CENSUS1_2026Nov.txt'), dataSample('Company_Census_File_sample.csv'), dataSample('kjg3-diqy_socrata_export.csv'), dataSample('FMCSA_CENSUS1_2020Aug_26col.txt')];
    const outcome = async (run: number) => ({
      rejects: await store.db.selectFrom('census_rejects').select(['line_no', 'reason', 'raw', 'file']).where('run_id', '=', run).orderBy('line_no').execute(),
      carriers: (await carriersState(store)).filter((c) => c.dot_number !== 1),
    });
    for (const file of files) {
      await resetCensus(store);
      const first = await ingest(store, [file], { maxRejectRate: 0.9 });
      const viaFirstLoad = await outcome(first.run);
      // A carrier already there sends the same file through the typed table and the merge.
      await resetCensus(store);
      await ingest(store, [writeCensus('one.txt', ['"DOT_NUMBER","LEGAL_NAME","NBR_POWER_UNIT"', '1,"ONE","1"'])]);
      const staged = await ingest(store, [file], { maxRejectRate: 0.9 });
      expect({ ...staged, run: 0, runId: 0, seconds: 0 }, file).toEqual({ ...first, run: 0, runId: 0, seconds: 0 });
      expect(await outcome(staged.run), file).toEqual(viaFirstLoad);
    }
  });

  it('Company Census values: unknown STATUS_CODE and cargo flags are rejected', async () => {
    const [head, ...rows] = readFileSync(dataSample('Company_Census_File_sample.csv'), 'utf8').replace(/^\uFEFF/, '').split(/\r\n/).filter(Boolean);
    const cols = head!.split(',');
    const set = (row: string, col: string, v: string) => {
      const f = row.split(',');
      f[cols.indexOf(col)] = v;
      return f.join(',');
    };
    const file = writeCensus('company_bad.csv', [head!, set(rows[0]!, 'STATUS_CODE', 'Z'), set(rows[1]!, 'CRGO_PASSENGERS', 'Y'), rows[2]!], 'utf8');
    const s = await ingest(store, [file], { maxRejectRate: 1 });
    expect(s).toMatchObject({ read: 3, accepted: 1, rejected: 2 });
    const reasons = await store.db.selectFrom('census_rejects').select('reason').where('run_id', '=', s.run).orderBy('line_no').execute();
    expect(reasons.map((r) => r.reason)).toEqual(["bad_status: STATUS_CODE 'Z' (expected A, I or P)", "bad_flag: CRGO_PASSENGERS 'Y' (expected X or empty)"]);
  });
});

describe('ingest census: snapshots and several files', () => {
  it('--snapshot marks carriers absent from the file inactive, never deletes; they come back when listed again', async () => {
    await ingest(store, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    // A census that lists 14 of the 63 carriers (the newest among them, so it is as recent as the
    // loaded data): past the snapshot guard (test/census-freshness), so its limits are opened here.
    const lines = sampleLines('FMCSA_CENSUS1_2026Nov.txt');
    const fourteen = writeCensus('FMCSA_CENSUS1_2026Dec.txt', [lines[0]!, ...lines.slice(1, 14), lines.find((l) => l.startsWith('4502376,'))!]);
    const open = { snapshotMaxDeactivateShare: 1, snapshotMinRows: 1 };
    const snap = await ingest(store, [fourteen], { snapshot: true, census: open });
    expect(snap).toMatchObject({ read: 14, deactivated: 49 });
    expect(await countCarriers(store)).toBe(63);
    expect(await countCarriers(store, sql`status = 'inactive' and deactivated_at is not null`)).toBe(49);
    expect(await carrier(store, 4502305)).toMatchObject({ status: 'inactive', changed_run_id: snap.run });
    expect(await ingest(store, [fourteen], { snapshot: true, census: open })).toMatchObject({ inserted: 0, updated: 0, deactivated: 0 });
    const back = await ingest(store, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    expect(back).toMatchObject({ inserted: 0, updated: 49, deactivated: 0 });
    expect(await countCarriers(store, sql`status = 'active' and deactivated_at is null`)).toBe(63);
  });

  it('a carrier whose line is rejected for a bad value is still listed: a snapshot leaves it alone', async () => {
    await ingest(store, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    const lines = sampleLines('FMCSA_CENSUS1_2026Nov.txt').map((l) => (l.startsWith('3900011,') ? l.replace('"14-JAN-25"', '"31-JAN-2X"') : l));
    const s = await ingest(store, [writeCensus('FMCSA_CENSUS1_2026Dec.txt', lines)], { snapshot: true, maxRejectRate: 0.05, census: { snapshotMinRows: 10 } });
    expect(s).toMatchObject({ rejected: 1, deactivated: 0 });
    expect((await carrier(store, 3900011))?.status).toBe('active');
  });

  it('several files merge in the order given (the later file wins); counts add up', async () => {
    const s = await ingest(store, [dataSample('FMCSA_CENSUS1_2020Aug_26col.txt'), dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    expect(s).toMatchObject({ files: [dataSample('FMCSA_CENSUS1_2020Aug_26col.txt'), dataSample('FMCSA_CENSUS1_2026Nov.txt')], read: 77, accepted: 77, inserted: 63, updated: 14, unchanged: 0 });
    expect(await carrier(store, 3900011)).toMatchObject({ mcs150_date: '2025-01-14', source_file: 'FMCSA_CENSUS1_2026Nov.txt' });
    await resetCensus(store);
    const mixed = await ingest(store, [dataSample('kjg3-diqy_socrata_export.csv'), dataSample('Company_Census_File_sample.csv')]);
    expect(mixed.format).toBe('fmcsa_census1_socrata,company_census');
  });

  it('--snapshot with several files is a usage error; nothing runs', async () => {
    await expect(ingest(store, [dataSample('FMCSA_CENSUS1_2026Nov.txt'), dataSample('FMCSA_CENSUS1_2020Aug_26col.txt')], { snapshot: true })).rejects.toBeInstanceOf(UsageError);
    expect(await countCarriers(store)).toBe(0);
  });

  it('a file that is not a census fails before anything is merged, with what to pass', async () => {
    const file = writeCensus('people.csv', ['name,email', 'a,b']);
    await expect(ingest(store, [dataSample('FMCSA_CENSUS1_2026Nov.txt'), file])).rejects.toThrow(/no DOT_NUMBER column/);
    expect(await countCarriers(store)).toBe(0);
  });

  it('drops scratch tables left by a killed run', async () => {
    await sql.raw('create unlogged table census_stage_r999999_0 (line_no bigint)').execute(store.db);
    await ingest(store, [dataSample('FMCSA_CENSUS1_2020Aug_26col.txt')]);
    const left = await sql<{ n: number }>`select count(*)::int as n from pg_tables where tablename like 'census\_%\_r%'`.execute(store.db);
    expect(left.rows[0]!.n).toBe(0);
  });
});
