/**
 * The conformance corpus: the real census rows of ../shared/samples/fmcsa (FMCSA_CENSUS1 via
 * Socrata, the raw 26-column text file, Company Census rows), parsed here with csv-parse (the
 * ingest stage is not needed), normalized by the stage and judged by the static rules. Prints the
 * figures and asserts the ones verified by hand against the files (see the comments).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { normalizeEmails, type NormalizeEnvelope } from '../src/email/stage.ts';
import { createCandidates, evaluateExclusions } from '../src/rules/engine.ts';
import { STATIC_RULES, testContext, upsertCarriers, type TestCarrier } from './email-helpers.ts';
import { describeWithSamples, samplePath } from './helpers/samples.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

function corpusCarriers(): TestCarrier[] {
  const byDot = new Map<number, string | null>();
  const add = (dot: string | undefined, email: string | undefined) => {
    if (!dot || !/^\d+$/.test(dot) || byDot.has(Number(dot))) return;
    byDot.set(Number(dot), email ? email : null);
  };
  for (const f of ['fmcsa/sms_input_census_kjg3-diqy_2025-08_100rows.csv', 'fmcsa/sms_input_census_kjg3-diqy_2025-08_200rows.csv']) {
    for (const r of parse(readFileSync(samplePath(f)), { columns: true }) as Record<string, string>[]) add(r.dot_number, r.email_address);
  }
  for (const r of parse(readFileSync(samplePath('fmcsa/fmcsa_census1_txt_2020_raw_rows.txt')), { columns: true }) as Record<string, string>[]) add(r.DOT_NUMBER, r.EMAIL_ADDRESS);
  for (const line of readFileSync(samplePath('fmcsa/company_census_az4n-8mr2_real_rows.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as Record<string, string>;
    add(r.dot_number, r.email_address);
  }
  return [...byDot].map(([dot, email]) => ({ dot, email }));
}

describeWithSamples('e-mail corpus: real census rows', () => {
  let store: TestStore;
  let summary: NormalizeEnvelope;
  let byCode: Record<string, number>;
  let byCodeWithRoles: Record<string, number>;
  let eligible: number;

  async function judge(excludeRoleAccounts: boolean) {
    const ctx = testContext(store, { email: { excludeRoleAccounts } });
    return store.db.transaction().execute(async (trx) => {
      await createCandidates(trx, sql`select e.id as email_id, e.address as email, e.domain from emails e where e.carrier_count > 0`);
      const counts = await evaluateExclusions(trx, { config: ctx.config, date: '2026-11-20', now: ctx.now() }, STATIC_RULES);
      const ok = await sql<{ n: number }>`select count(*)::int as n from pg_temp.candidates c where not exists (select 1 from pg_temp.exclusion_hits h where h.email_id = c.email_id)`.execute(trx);
      return { counts: counts as Record<string, number>, eligible: ok.rows[0]!.n };
    });
  }

  beforeAll(async () => {
    store = await createTestStore();
    const carriers = corpusCarriers();
    await upsertCarriers(store, carriers);
    summary = await normalizeEmails(testContext(store));
    ({ counts: byCode, eligible } = await judge(false));
    ({ counts: byCodeWithRoles } = await judge(true));
    const domains = await sql<{ domain: string; n: number }>`select domain, count(*)::int as n from emails where valid group by domain order by n desc, domain limit 8`.execute(store.db);
    console.info(
      [
        `corpus: ${carriers.length} carriers, ${summary.totals.carriersWithAddress} with an address; ${summary.totals.addresses} addresses:`,
        `  valid ${summary.totals.valid}, invalid ${summary.totals.invalid}, shared ${summary.totals.shared}, eligible ${eligible}`,
        `  reasons (defaults): ${JSON.stringify(byCode)}`,
        `  reasons (excludeRoleAccounts): ${JSON.stringify(byCodeWithRoles)}`,
        `  top domains: ${domains.rows.map((d) => `${d.domain} ${d.n}`).join(', ')}`,
      ].join('\n'),
    );
  }, 300_000);
  afterAll(async () => {
    await store?.close();
  });

  it('normalizes every e-mail field of the corpus', () => {
    // 100 + 200 Socrata rows (no DOT in common, although PROVENANCE.txt expects one), + 3 raw text
    // rows + 3 Company Census rows = 306. E-mails: 76 + 159 Socrata, + GHACKWE@COMCAST.NET (2020
    // text) + accounting@hullcoop.com and morrelletransfer@sbcglobal.net (Company Census) = 238;
    // every address is listed by exactly one carrier.
    expect(summary.carriers_normalized).toBe(306);
    expect(summary.totals).toEqual({ addresses: 238, valid: 237, invalid: 1, linked: 238, shared: 0, carriersWithAddress: 238, carriers_with_address: 238 });
  });

  it('finds the malformed value and the Yahoo family by hand count', () => {
    // Invalid: "KEITHOU" (USDOT 2255844): no @, not guessed.
    expect(byCode.invalid_syntax).toBe(1);
    // Yahoo family: yahoo.com 35, aol.com 9, verizon.net 2, cox.net 2, sbcglobal.net 2 (one from the
    // Company Census rows), cs.com 1 (CompuServe, an AOL brand), att.net 1.
    expect(byCode.yahoo_family).toBe(52);
    // No typo, disposable, shared, FMCSA test or always-excluded role address in these rows.
    expect(byCode.typo_domain ?? 0).toBe(0);
    expect(byCode.disposable ?? 0).toBe(0);
    expect(byCode.shared_address ?? 0).toBe(0);
    expect(byCode.fmcsa_test_record ?? 0).toBe(0);
    expect(byCode.role_account ?? 0).toBe(0);
    expect(eligible).toBe(238 - 1 - 52);
  });

  it('role accounts, when the operator turns them on: info@, admin@, dispatch@, accounting@...', () => {
    // dispatch@ x3, info@ x2, admin@ x2, accounting@ x2, operations@, contact@, service@ (main@ is not a role).
    expect(byCodeWithRoles.role_account).toBe(12);
  });
});
