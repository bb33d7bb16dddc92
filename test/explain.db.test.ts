import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEmails } from '../src/email/stage.ts';
import { explainStage, explainSubject } from '../src/reports/explain-stage.ts';
import { migrate } from '../src/db/migrate.ts';
import { openStore } from '../src/db/store.ts';
import { InputError, UsageError } from '../src/errors.ts';
import { createCandidates, evaluateExclusions } from '../src/rules/engine.ts';
import { STATIC_RULES, testContext, upsertCarriers } from './email-helpers.ts';
import { runCli } from './helpers/cli.ts';
import { createTestStore, testBackend, type TestStore } from './helpers/store.ts';

describe('audience explain', () => {
  let store: TestStore;
  const ctx = () => testContext(store, { email: { sharedAddressThreshold: 3 } });
  const explain = async (subject: string) => {
    const e = await explainSubject(ctx(), subject, { rules: STATIC_RULES });
    return { subject: e.subject, kind: e.kind, addresses: e.addresses };
  };
  const counts = async () =>
    (await sql<{ e: number; r: number; l: number; s: number }>`select (select count(*) from emails) as e, (select count(*) from email_reasons) as r,
      (select count(*) from carrier_emails) as l, (select count(*) from email_sources) as s`.execute(store.db)).rows[0];

  beforeAll(async () => {
    store = await createTestStore();
    await upsertCarriers(store, [
      { dot: 2, email: 'JD@AOL.com; owner@blue-ox-hauling.test' },
      { dot: 3, email: 'trucker@gmial.com' },
      { dot: 4, email: null },
      { dot: 5, email: 'SHEEPSHEARR2YAHOO.COM' },
      ...[11, 12, 13].map((dot) => ({ dot, email: 'permits@filing-agent.example' })),
    ]);
    await normalizeEmails(ctx());
  });
  afterAll(async () => {
    await store.close();
  });

  it('email in the census: the JSON contract with each reason, code, detail and since', async () => {
    expect(await explain(' JD@Aol.COM. ')).toEqual({
      subject: ' JD@Aol.COM. ',
      kind: 'email',
      addresses: [{ email: 'jd@aol.com', eligible: false, reasons: [{ code: 'yahoo_family', detail: 'aol.com is on the Yahoo-family list (AOL)', since: null }] }],
    });
    const typo = await explain('trucker@gmial.com');
    expect(typo.addresses[0]!.reasons.map((r) => r.code)).toEqual(['disposable', 'typo_domain']);
    expect(typo.addresses[0]!.reasons[1]).toEqual({
      code: 'typo_domain',
      detail: 'gmial.com is a known misspelling of gmail.com: did you mean trucker@gmail.com? (not corrected automatically)',
      since: '2026-11-20T15:00:00.000Z',
    });
    expect((await explain('permits@filing-agent.example')).addresses[0]!.reasons).toEqual([
      { code: 'shared_address', detail: 'listed by 3 carriers (threshold 3, email.sharedAddressThreshold)', since: null },
    ]);
    expect((await explain('owner@blue-ox-hauling.test')).addresses).toEqual([{ email: 'owner@blue-ox-hauling.test', eligible: true, reasons: [] }]);
  });

  it('an address not in the census is judged on the fly and nothing is written', async () => {
    const before = await counts();
    expect(await explain('<mailto:Someone@ＮＥＷ-domain.test>')).toEqual({
      subject: '<mailto:Someone@ＮＥＷ-domain.test>',
      kind: 'email',
      addresses: [{ email: 'someone@new-domain.test', eligible: true, reasons: [] }],
    });
    expect((await explain('x@hotmial.com')).addresses[0]!.reasons.map((r) => r.code)).toContain('typo_domain');
    expect((await explain('x@verizon.net')).addresses[0]!.reasons.map((r) => r.code)).toEqual(['yahoo_family']);
    expect((await explain('a@@b.com')).addresses[0]).toMatchObject({ email: 'a@@b.com', eligible: false, reasons: [{ code: 'invalid_syntax', detail: 'more than one @ sign' }] });
    expect((await explain('postmaster@new-domain.test')).addresses[0]!.reasons.map((r) => r.code)).toEqual(['role_account']);
    expect(await counts()).toEqual(before);
  });

  it('domain: every census address at it, or the *@domain placeholder when none', async () => {
    expect(await explain('AOL.COM')).toEqual({ subject: 'AOL.COM', kind: 'domain', addresses: [expect.objectContaining({ email: 'jd@aol.com', eligible: false })] });
    const att = await explain('sbcglobal.net');
    expect(att).toMatchObject({ kind: 'domain', addresses: [{ email: '*@sbcglobal.net', eligible: false, reasons: [{ code: 'yahoo_family' }] }] });
    expect((await explain('mailinator.com')).addresses[0]!.reasons.map((r) => r.code)).toEqual(['disposable']);
    // An invalid census token that reads like a domain is shown too.
    expect((await explain('sheepshearr2yahoo.com')).addresses[0]).toMatchObject({ email: 'sheepshearr2yahoo.com', reasons: [{ code: 'invalid_syntax' }] });
  });

  it('dot: the carrier addresses in field order; a changed field is judged as it is now, without writing', async () => {
    expect(await explain('2')).toEqual({
      subject: '2',
      kind: 'dot',
      addresses: [
        { email: 'jd@aol.com', eligible: false, reasons: [expect.objectContaining({ code: 'yahoo_family' })] },
        { email: 'owner@blue-ox-hauling.test', eligible: true, reasons: [] },
      ],
    });
    expect(await explain('USDOT 4')).toEqual({ subject: 'USDOT 4', kind: 'dot', addresses: [] });
    await upsertCarriers(store, [{ dot: 4, email: 'new@bellsouth.net' }]);
    const before = await counts();
    const report = await explainSubject(ctx(), '4', { rules: STATIC_RULES });
    expect(report).toMatchObject({ command: 'explain', ok: true, runId: null });
    expect(report.addresses).toEqual([{ email: 'new@bellsouth.net', eligible: false, reasons: [expect.objectContaining({ code: 'yahoo_family' })] }]);
    expect(report.notes.join(' ')).toMatch(/changed since the last `audience normalize`/);
    expect(await counts()).toEqual(before);
    await expect(explainSubject(ctx(), '99999999')).rejects.toBeInstanceOf(InputError);
  });

  it('refuses subjects that are not one address, a domain or a USDOT number', async () => {
    await expect(explainSubject(ctx(), 'a@x.com; b@y.com')).rejects.toBeInstanceOf(UsageError);
    await expect(explainSubject(ctx(), 'not a thing')).rejects.toBeInstanceOf(UsageError);
  });

  it('agrees with the engine run over the whole census, address by address', async () => {
    const engine = await store.db.transaction().execute(async (trx) => {
      await createCandidates(trx, sql`select e.id as email_id, e.address as email, e.domain from emails e where e.carrier_count > 0`);
      await evaluateExclusions(trx, { config: ctx().config, date: '2026-11-20', now: ctx().now() }, STATIC_RULES);
      return (await sql<{ email: string; eligible: boolean }>`select c.email, not exists (select 1 from pg_temp.exclusion_hits h where h.email_id = c.email_id) as eligible from pg_temp.candidates c`.execute(trx)).rows;
    });
    expect(engine.length).toBeGreaterThan(4);
    for (const row of engine) expect((await explain(row.email)).addresses[0]!.eligible, row.email).toBe(row.eligible);
  });

  it('the human rendering lists every rule with pass or FAIL and the verdict', async () => {
    const text = explainStage.render(await explainSubject(ctx(), 'jd@aol.com', { rules: STATIC_RULES }));
    expect(text).toContain('jd@aol.com: EXCLUDED');
    expect(text).toMatch(/FAIL {2}yahoo_family: aol\.com is on the Yahoo-family list \(AOL\)/);
    for (const code of ['invalid_syntax', 'fmcsa_test_record', 'suppressed_domain', 'disposable', 'typo_domain', 'shared_address', 'role_account']) expect(text).toContain(`pass  ${code}`);
  });

  it('runs with every registered rule (other areas included) without error', async () => {
    const report = await explainSubject(ctx(), 'jd@aol.com');
    expect(report.addresses[0]!.reasons.map((r) => r.code)).toContain('yahoo_family');
  });
});

describe('audience normalize / explain on the command line', () => {
  it('--json prints the contract objects; exit codes for bad subjects', async () => {
    if (testBackend() !== 'pglite') return; // one process-level run is enough; it needs its own data dir
    const dir = mkdtempSync(path.join(os.tmpdir(), 'audience-explain-'));
    try {
      const s = await openStore({ dataDir: dir });
      await migrate(s);
      await upsertCarriers(s, [{ dot: 7, email: 'Owner@Example.com / JD@YAHOO.com' }]);
      await s.close();
      const env = { AUDIENCE_DATA_DIR: dir };
      const norm = await runCli(['normalize', '--json'], { env });
      expect(norm.code, norm.stderr).toBe(0);
      expect(norm.json).toMatchObject({ command: 'normalize', carriers_normalized: 1, addresses_new: 2 });
      const ex = await runCli(['explain', '7', '--json'], { env });
      expect(ex.code, ex.stderr).toBe(0);
      expect(Object.keys(ex.json!)).toEqual(['command', 'ok', 'runId', 'startedAt', 'seconds', 'subject', 'kind', 'addresses', 'rules', 'notes', 'allowlisted']);
      expect(ex.json).toMatchObject({ subject: '7', kind: 'dot', addresses: [{ email: 'owner@example.com' }, { email: 'jd@yahoo.com', eligible: false }] });
      const human = await runCli(['explain', 'jd@yahoo.com'], { env });
      expect(human.stdout).toContain('jd@yahoo.com: EXCLUDED');
      const bad = await runCli(['explain', 'a@x.com, b@y.com', '--json'], { env });
      expect(bad.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
