/**
 * Conformance on the real public rows in ../shared/samples/fmcsa (skipped when absent).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { describeWithSamples, samplePath } from './helpers/samples.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { carrier, countCarriers, ingest, resetCensus, writeCensus } from './census/context.ts';

let store: TestStore;

describeWithSamples('ingest census: real FMCSA rows', () => {
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(async () => {
    await resetCensus(store);
  });

  it('the kjg3-diqy Socrata rows (100 and 200): every row loads, nothing rejected', async () => {
    const a = await ingest(store, [samplePath('fmcsa/sms_input_census_kjg3-diqy_2025-08_100rows.csv')]);
    expect(a).toMatchObject({ format: 'fmcsa_census1_socrata', read: 100, accepted: 100, rejected: 0, inserted: 100 });
    const b = await ingest(store, [samplePath('fmcsa/sms_input_census_kjg3-diqy_2025-08_200rows.csv')]);
    expect(b).toMatchObject({ read: 200, accepted: 200, rejected: 0 });
    expect(await carrier(store, 3138788)).toMatchObject({
      legal_name: "STEELE'S SINGAUTRE POOLS LLC", dba_name: "STEELE'S LANDSCAPING", phone: '6098500111', phy_zip: '08055',
      email_raw: 'ADAM@STEELESPOOLS.COM', mcs150_date: '2023-07-31', add_date: '2018-05-21', hazmat: false, power_units: 4, drivers: 4,
    });
    expect(await countCarriers(store)).toBe(a.inserted + b.inserted);
  });

  it('the raw 26-column FMCSA_CENSUS1 rows of 2020 (LF endings, every field quoted but DOT_NUMBER)', async () => {
    const s = await ingest(store, [samplePath('fmcsa/fmcsa_census1_txt_2020_raw_rows.txt')], { now: new Date('2020-09-01T12:00:00Z') });
    expect(s).toMatchObject({ format: 'fmcsa_census1', read: 3, accepted: 3, inserted: 3 });
    expect(await carrier(store, 10000)).toMatchObject({ legal_name: 'POWELL DISTRIBUTING CO INC', add_date: '1974-06-01', mcs150_date: '2020-06-25', phy_country: 'US' });
    expect(await carrier(store, 1000014)).toMatchObject({ email_raw: 'GHACKWE@COMCAST.NET', mcs150_date: '2020-01-26', add_date: '2002-01-22' });
  });

  it('the Company Census rows (az4n-8mr2 JSON rows put under the 147-column export header)', async () => {
    const header = readFileSync(samplePath('fmcsa/company_census_az4n-8mr2_header_147col.csv'), 'utf8').trim().split(',');
    const rows = readFileSync(samplePath('fmcsa/company_census_az4n-8mr2_real_rows.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    const csv = (v: string | undefined) => (v === undefined ? '' : /[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const file = writeCensus('Company_Census_File_20260914.csv', [header.join(','), ...rows.map((r) => header.map((h) => csv(r[h.toLowerCase()])).join(','))], 'utf8');
    const s = await ingest(store, [file]);
    expect(s).toMatchObject({ format: 'company_census', read: 3, accepted: 3, inserted: 3 });
    expect(await carrier(store, 344554)).toMatchObject({
      legal_name: 'HULL COOPERATIVE ASSOCIATION', status: 'active', mcs150_date: '2025-04-29', add_date: '1989-02-21', hazmat: false,
      phone: '7124392831', power_units: 32, drivers: 30, email_raw: 'accounting@hullcoop.com', mcs150_mileage_year: 2024,
    });
    expect(await carrier(store, 3647707)).toMatchObject({ mcs150_mileage_year: null, data_flags: ['mcs150_mileage_year_sentinel'], dba_name: 'C1 FREIGHT' });
    expect(await carrier(store, 283913)).toMatchObject({ email_raw: 'morrelletransfer@sbcglobal.net', phy_zip: '53085-2527', add_date: '1986-12-16' });
  });

  it('a QCMobile export is not a census: refused with what to pass', async () => {
    await expect(ingest(store, [samplePath('fmcsa/qcmobile_derived_active_fmcsa_records_60rows.csv')])).rejects.toThrow(InputError);
  });
});
