import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEmails, type NormalizeEnvelope } from '../src/email/stage.ts';
import { createCandidates, eligibleCandidates, evaluateExclusions } from '../src/rules/engine.ts';
import { YAHOO_FAMILY_DOMAINS } from '../src/email/yahoo-family.ts';
import { STATIC_RULES, testContext, upsertCarriers } from './email-helpers.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const UNIVERSE = [
  { dot: 101, email: 'Dispatch@Roadrunner-Freight.test' },
  { dot: 102, email: ' JD@Yahoo.COM. ; owner@blue-ox-hauling.test' },
  { dot: 103, email: 'mailto:ops@prairie-logistics.example' },
  { dot: 104, email: 'SHEEPSHEARR2YAHOO.COM' },
  { dot: 105, email: 'trucker@gmial.com' },
  { dot: 106, email: '<x@mailinator.com>' },
  { dot: 107, email: null },
  { dot: 108, email: 'uat.tester@dot.gov.test' },
  ...[201, 202, 203, 204, 205, 206].map((dot) => ({ dot, email: 'PERMITS@filing-agent.example' })),
];

describe('normalize stage', () => {
  let store: TestStore;
  const ctx = () => testContext(store);
  const emailsOf = async (dot: number) =>
    (
      await sql<{ address: string }>`select e.address from carrier_emails ce join emails e on e.id = ce.email_id where ce.dot_number = ${dot} order by ce.position`.execute(store.db)
    ).rows.map((r) => r.address);
  const email = async (address: string) => store.db.selectFrom('emails').selectAll().where('address', '=', address).executeTakeFirst();

  beforeAll(async () => {
    store = await createTestStore();
    await upsertCarriers(store, UNIVERSE);
  });
  afterAll(async () => {
    await store.close();
  });
  // Normalize keeps carrier_count by the links each page adds and removes: it must always equal a recount.
  afterEach(async () => {
    expect(await countDrift(store)).toEqual([]);
  });

  let first: NormalizeEnvelope;
  it('normalizes every carrier: addresses, links, static reasons, counts', async () => {
    first = await normalizeEmails(ctx(), { batchSize: 4 });
    expect(first.carriers_normalized).toBe(UNIVERSE.length);
    expect(first.totals).toEqual({ addresses: 9, valid: 8, invalid: 1, linked: 9, shared: 1, carriersWithAddress: 13, carriers_with_address: 13 });
    expect(await emailsOf(102)).toEqual(['jd@yahoo.com', 'owner@blue-ox-hauling.test']);
    expect(await emailsOf(103)).toEqual(['ops@prairie-logistics.example']);
    expect(await emailsOf(107)).toEqual([]);
    expect(await email('sheepshearr2yahoo.com')).toMatchObject({ valid: false, local_part: null, domain: null, carrier_count: 1 });
    expect(await email('permits@filing-agent.example')).toMatchObject({ valid: true, local_part: 'permits', domain: 'filing-agent.example', carrier_count: 6 });
    const reasons = await sql<{ address: string; code: string; detail: string; since: Date }>`
      select e.address, r.code, r.detail, r.since from email_reasons r join emails e on e.id = r.email_id order by e.address`.execute(store.db);
    expect(reasons.rows.map((r) => [r.address, r.code])).toEqual([
      ['sheepshearr2yahoo.com', 'invalid_syntax'],
      ['trucker@gmial.com', 'typo_domain'],
    ]);
    expect(reasons.rows[1]!.detail).toContain('did you mean trucker@gmail.com');
    expect(reasons.rows[0]!.since.toISOString()).toBe('2026-11-20T15:00:00.000Z');
    const sources = await store.db.selectFrom('email_sources').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(sources.n)).toBe(UNIVERSE.length);
    const run = await store.db.selectFrom('runs').selectAll().where('id', '=', first.run_id).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ stage: 'normalize', status: 'ok' });
  });

  it('a second run changes nothing', async () => {
    const again = await normalizeEmails(ctx());
    expect(again).toMatchObject({ carriers_normalized: 0, changes: 0, totals: first.totals });
    const full = await normalizeEmails(ctx(), { full: true, batchSize: 3 });
    expect(full).toMatchObject({ carriers_normalized: UNIVERSE.length, changes: 0, totals: first.totals });
  });

  it('re-evaluates only a carrier whose e-mail changed, and replaces its links', async () => {
    const before = await email('jd@yahoo.com');
    await upsertCarriers(store, [{ dot: 102, email: 'owner@blue-ox-hauling.test / billing@blue-ox-hauling.test' }]);
    const s = await normalizeEmails(ctx());
    expect(s).toMatchObject({ carriers_normalized: 1, addresses_new: 1, links_added: 1, links_removed: 1, links_changed: 1 }); // owner@ moved to position 1
    expect(await emailsOf(102)).toEqual(['owner@blue-ox-hauling.test', 'billing@blue-ox-hauling.test']);
    // The dropped address keeps its row and id (other areas may refer to it) with no carrier left.
    expect(await email('jd@yahoo.com')).toMatchObject({ id: before!.id, carrier_count: 0 });
    expect((await normalizeEmails(ctx())).changes).toBe(0);
  });

  it('a fixed address drops its static reason; shared_address follows the carrier counts', async () => {
    await upsertCarriers(store, [
      { dot: 105, email: 'trucker@gmail.com' },
      { dot: 205, email: 'owner@mesa-trucking.test' },
      { dot: 206, email: 'owner@cascade-moving.test' },
    ]);
    const s = await normalizeEmails(ctx());
    expect(s.carriers_normalized).toBe(3);
    expect(await email('permits@filing-agent.example')).toMatchObject({ carrier_count: 4 });
    expect(s.totals.shared).toBe(0);
    // The typo address is no longer listed, but its verdict stays with it.
    const typo = await store.db.selectFrom('email_reasons').innerJoin('emails', 'emails.id', 'email_reasons.email_id').select('code').where('address', '=', 'trucker@gmial.com').execute();
    expect(typo.map((r) => r.code)).toEqual(['typo_domain']);
    await upsertCarriers(store, [{ dot: 205, email: 'permits@filing-agent.example' }]);
    expect((await normalizeEmails(ctx())).totals.shared).toBe(1);
  });

  it('a newer normalizer re-judges carriers and stored addresses, changing nothing when nothing changed', async () => {
    await sql`update email_sources set normalizer_version = 0 where dot_number in (101, 104)`.execute(store.db);
    await sql`update emails set normalizer_version = 0 where address in ('jd@yahoo.com', 'sheepshearr2yahoo.com')`.execute(store.db);
    const s = await normalizeEmails(ctx());
    expect(s.carriers_normalized).toBe(2);
    expect(s.addresses_rejudged_by_version).toBe(1); // jd@yahoo.com: no carrier lists it any more
    // Only the version stamps were rewritten.
    expect(s.addresses_rejudged).toBe(2);
    expect(s.changes - s.addresses_rejudged - s.sources_recorded).toBe(0);
    expect((await normalizeEmails(ctx())).changes).toBe(0);
  });

  it('a carrier that disappears loses its links and its state row', async () => {
    await sql`delete from carriers where dot_number = 103`.execute(store.db);
    const s = await normalizeEmails(ctx());
    expect(s).toMatchObject({ carriers_removed: 1, links_removed: 1, sources_removed: 1 });
    expect(await email('ops@prairie-logistics.example')).toMatchObject({ carrier_count: 0 });
    expect((await normalizeEmails(ctx())).changes).toBe(0);
  });

  it('invariant 1 end to end: no generated Yahoo-family spelling is eligible after normalize + every rule', async () => {
    const FW = (c: string) => (/[a-z]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c === '.' ? '\u3002' : c);
    const spelling = fc
      .tuple(fc.stringMatching(/^[a-z0-9]{1,10}(\.[a-z0-9]{1,6})?$/), fc.constantFrom(...YAHOO_FAMILY_DOMAINS.keys()), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), fc.constantFrom('', ' ', 'mailto:', '<', ' <mailto:'), fc.constantFrom('', '.', '. ', ';'))
      .map(([local, domain, flips, pre, post]) => {
        const text = [...`${local}@${domain}`].map((c, i) => (flips[i % 40] ? (i % 3 ? c.toUpperCase() : FW(c)) : c)).join('');
        return `${pre}${text}${pre.includes('<') ? '>' : ''}${post}`;
      });
    const fields = fc.sample(fc.array(spelling, { minLength: 1, maxLength: 3 }).map((a) => a.join(' ; ')), { numRuns: 300, seed: 42 });
    await upsertCarriers(store, fields.map((email, i) => ({ dot: 900_000 + i, email })));
    await normalizeEmails(ctx());
    const eligible = await store.db.transaction().execute(async (trx) => {
      await createCandidates(trx, sql`select e.id as email_id, e.address as email, e.domain from emails e
        where exists (select 1 from carrier_emails ce where ce.email_id = e.id and ce.dot_number >= 900000)`);
      await evaluateExclusions(trx, { config: ctx().config, date: '2026-11-20', now: new Date('2026-11-20T15:00:00Z') }, STATIC_RULES);
      return (await sql<{ email: string }>`select email from ${eligibleCandidates} as e`.execute(trx)).rows;
    });
    expect(eligible).toEqual([]);
  });
});

/** Addresses whose carrier_count differs from the links that list them (none, if normalize is right). */
async function countDrift(store: TestStore) {
  const r = await sql<{ address: string; carrier_count: number; links: number }>`
    select e.address, e.carrier_count, (select count(*) from carrier_emails ce where ce.email_id = e.id)::int as links
    from emails e where e.carrier_count <> (select count(*) from carrier_emails ce where ce.email_id = e.id)`.execute(store.db);
  return r.rows;
}

describe('normalize: carrier counts under any sequence of edits', () => {
  it('equal a recount after every run, whatever carriers list, drop, share or reorder', async () => {
    const store = await createTestStore();
    try {
      const pool = ['a@one.test', 'b@two.test', 'C@Three.test', 'shared@agent.test', 'bad-address', 'x@yahoo.com'];
      const field = fc.array(fc.constantFrom(...pool), { maxLength: 3 }).map((a) => (a.length ? a.join(' ; ') : null));
      const edits = fc.array(fc.array(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.option(field, { nil: undefined })), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 });
      for (const rounds of fc.sample(edits, { numRuns: 6, seed: 7 })) {
        for (const edits of rounds) {
          // undefined: the carrier disappears from the census; otherwise its new e-mail field (the last edit of a carrier wins).
          const round = [...new Map(edits)];
          const gone = round.filter(([, f]) => f === undefined).map(([dot]) => dot);
          if (gone.length) await sql`delete from carriers where dot_number = any(${gone}::bigint[])`.execute(store.db);
          await upsertCarriers(store, round.filter(([, f]) => f !== undefined).map(([dot, email]) => ({ dot, email: email ?? null })));
          await normalizeEmails(testContext(store), { batchSize: 2 });
          expect(await countDrift(store)).toEqual([]);
        }
      }
    } finally {
      await store.close();
    }
  });
});
