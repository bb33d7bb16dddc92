/**
 * The first normalize into empty e-mail tables (COPY, src/email/first-normalize.ts) against the
 * page-by-page incremental path on the same carriers: every row of the four tables normalize
 * writes must be the same (emails compared by address, since the incremental path leaves gaps in
 * the ids; their order must still agree). Then: a run after it changes nothing, and a failure in
 * the middle leaves empty tables, which the next run fills the same way.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCensus1, generateCompanyCensus } from '../bench/census-generator.ts';
import { normalizeEmails } from '../src/email/stage.ts';
import { dataSample, ingest } from './census/context.ts';
import { normalizedRows, testContext, upsertCarriers } from './email-helpers.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

/** Indexes and constraints of the four tables, as the migrations made them. */
async function keys(store: TestStore) {
  const r = await sql<{ def: string }>`
    select pg_get_indexdef(indexrelid) as def from pg_index where indrelid in ('emails'::regclass, 'carrier_emails'::regclass, 'email_reasons'::regclass, 'email_sources'::regclass)
    union all
    select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) from pg_constraint
     where conrelid in ('emails'::regclass, 'carrier_emails'::regclass, 'email_reasons'::regclass, 'email_sources'::regclass)
    order by 1`.execute(store.db);
  return r.rows.map((x) => x.def);
}

async function reset(store: TestStore): Promise<void> {
  await sql`truncate carriers, census_rejects, census_loads, carrier_emails, email_reasons, email_sources, emails restart identity`.execute(store.db);
}

// Fields as filers type them, beyond what the sample files hold: every branch of the normalizer.
const HAND_TYPED = [
  'Dispatch@Roadrunner-Freight.test', ' JD@Yahoo.COM. ; owner@blue-ox-hauling.test', 'mailto:ops@prairie-logistics.example', 'SHEEPSHEARR2YAHOO.COM',
  'trucker@gmial.com', '<x@mailinator.com>', null, '', '   ', 'uat.tester@dot.gov.test', 'John Smith <JS@Example.com>, js@example.com',
  'ＡＢＣ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'bücher@bücher.de', 'a@b', '"quoted"@example.com', 'a@[127.0.0.1]', '=cmd@example.com', 'x@example.com or y@example.com',
  'one@@example.com', 'dot.@example.com', 'x@exa mple.com', 'zwsp\u200b@example.com', 'PERMITS@filing-agent.example', 'permits@filing-agent.example',
];

describe('first normalize (COPY into empty tables) = the incremental path', () => {
  let viaCopy: TestStore;
  let viaPages: TestStore;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'audience-first-normalize-'));
  beforeAll(async () => {
    [viaCopy, viaPages] = await Promise.all([createTestStore(), createTestStore()]);
  });
  afterAll(async () => {
    await Promise.all([viaCopy.close(), viaPages.close()]);
  });

  /** Loads the same carriers into both stores, normalizes each its way, and compares everything. */
  async function bothWays(load: (store: TestStore) => Promise<unknown>, batchSize = 7) {
    for (const store of [viaCopy, viaPages]) {
      await reset(store);
      await load(store);
    }
    const copied = await normalizeEmails(testContext(viaCopy));
    // Small pages: addresses met again on later pages, links of shared addresses added page by page.
    const paged = await normalizeEmails(testContext(viaPages), { pagesOnly: true, batchSize });
    const [a, b] = [await normalizedRows(viaCopy), await normalizedRows(viaPages)];
    expect(a.sources.length).toBeGreaterThan(0);
    expect(a).toEqual(b);
    expect(copied.totals).toEqual(paged.totals);
    expect(copied.carriersNormalized).toBe(paged.carriersNormalized);
    expect(await keys(viaCopy)).toEqual(await keys(viaPages));
    return { copied, paged, rows: a };
  }

  for (const f of ['FMCSA_CENSUS1_2026Nov.txt', 'FMCSA_CENSUS1_2020Aug_26col.txt', 'kjg3-diqy_socrata_export.csv', 'Company_Census_File_sample.csv', 'bad_rows.txt']) {
    it(`writes the same rows from ${f}`, async () => {
      await bothWays((store) => ingest(store, [dataSample(f)], { maxRejectRate: 1 }));
    });
  }

  it('writes the same rows from generated census files (shared, malformed and several addresses per field)', async () => {
    const census1 = path.join(dir, 'census1.txt');
    const company = path.join(dir, 'company.csv');
    await generateCensus1(census1, { rows: 3000, seed: 11 });
    await generateCompanyCensus(company, { rows: 3000, seed: 12, firstDot: 5_000_000 });
    const { rows } = await bothWays(async (store) => {
      await ingest(store, [census1]);
      await ingest(store, [company]);
    }, 500);
    expect(rows.emails.some((e) => Number(e.carrier_count) > 1)).toBe(true);
    expect(rows.emails.some((e) => e.valid === false)).toBe(true);
  });

  it('writes the same rows from hand-typed fields', async () => {
    const { rows } = await bothWays((store) => upsertCarriers(store, HAND_TYPED.map((email, i) => ({ dot: 100 + i, email }))));
    expect(rows.reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['invalid_syntax', 'typo_domain']));
  });

  it('leaves nothing for the next run to do', async () => {
    await bothWays((store) => ingest(store, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]));
    const before = await normalizedRows(viaCopy);
    const again = await normalizeEmails(testContext(viaCopy));
    expect(again.changes).toBe(0);
    expect(again.carriersNormalized).toBe(0);
    expect(await normalizedRows(viaCopy)).toEqual(before);
    // New addresses after a first normalize take ids after its own.
    await upsertCarriers(viaCopy, [{ dot: 99, email: 'new.one@example.com' }]);
    const third = await normalizeEmails(testContext(viaCopy));
    expect(third.addressesNew).toBe(1);
    const ids = await sql<{ id: number; address: string }>`select id, address from emails order by id desc limit 1`.execute(viaCopy.db);
    expect(ids.rows[0]).toMatchObject({ address: 'new.one@example.com', id: before.emails.length + 1 });
  });

  it('the key of carrier_emails is still checked (planned as a merge of the indexes): a link to no address fails the run, and nothing is left', async () => {
    await reset(viaCopy);
    await ingest(viaCopy, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    const schema = await keys(viaCopy);
    // One link points past every address: only the key's check can see it.
    await sql`create or replace function dangle_for_test() returns trigger language plpgsql as $$ begin
      if new.position = 1 and new.dot_number = (select min(dot_number) from carriers where email_raw is not null) then new.email_id := new.email_id + 100000000; end if; return new; end $$`.execute(viaCopy.db);
    await sql`create trigger dangle before insert on carrier_emails for each row execute function dangle_for_test()`.execute(viaCopy.db);
    try {
      await expect(normalizeEmails(testContext(viaCopy))).rejects.toThrow(/carrier_emails_email_id_fkey/);
    } finally {
      await sql`drop trigger dangle on carrier_emails`.execute(viaCopy.db);
      await sql`drop function dangle_for_test()`.execute(viaCopy.db);
    }
    const counts = await sql<{ n: number }>`select (select count(*) from emails) + (select count(*) from carrier_emails) as n`.execute(viaCopy.db);
    expect(Number(counts.rows[0]!.n)).toBe(0);
    expect(await keys(viaCopy)).toEqual(schema);
    // The planner's setting was the transaction's only.
    const setting = await sql<{ v: string }>`select current_setting('enable_hashjoin') as v`.execute(viaCopy.db);
    expect(setting.rows[0]!.v).toBe('on');
  });

  it('rolls a failure in the middle back to empty tables, and the next run completes the same', async () => {
    await reset(viaCopy);
    await ingest(viaCopy, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    const schema = await keys(viaCopy);
    // A COPY that fails part-way: the third table loaded refuses one row.
    await sql`create function pg_temp.refuse() returns trigger language plpgsql as $$ begin
      if new.dot_number = 3900052 then raise exception 'injected failure'; end if; return new; end $$`.execute(viaCopy.db);
    await sql`create trigger refuse before insert on email_sources for each row execute function pg_temp.refuse()`.execute(viaCopy.db);
    await expect(normalizeEmails(testContext(viaCopy))).rejects.toThrow(/injected failure/);
    await sql`drop trigger refuse on email_sources`.execute(viaCopy.db);
    const counts = await sql<{ n: number }>`select (select count(*) from emails) + (select count(*) from carrier_emails) + (select count(*) from email_sources) + (select count(*) from email_reasons) as n`.execute(viaCopy.db);
    expect(Number(counts.rows[0]!.n)).toBe(0);
    expect(await keys(viaCopy)).toEqual(schema);
    const run = await sql<{ status: string }>`select status from runs where stage = 'normalize' order by id desc limit 1`.execute(viaCopy.db);
    expect(run.rows[0]?.status).toBe('failed');

    const again = await normalizeEmails(testContext(viaCopy));
    expect(again.carriersNormalized).toBeGreaterThan(0);
    await reset(viaPages);
    await ingest(viaPages, [dataSample('FMCSA_CENSUS1_2026Nov.txt')]);
    await normalizeEmails(testContext(viaPages), { pagesOnly: true });
    const [a, b] = [await normalizedRows(viaCopy), await normalizedRows(viaPages)];
    // The failed run took a run id: the state rows name the run that wrote them.
    expect({ ...a, sources: a.sources.map((s) => ({ ...s, run_id: 0 })) }).toEqual({ ...b, sources: b.sources.map((s) => ({ ...s, run_id: 0 })) });
  });
});
