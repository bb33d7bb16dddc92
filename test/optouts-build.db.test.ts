/**
 * opted_out in the build: an address unsubscribed or blocklisted in Listmonk after a push is read
 * back by the next build (dry runs too) and never pushed again, whatever the cooldown; a push that
 * Listmonk answers blocklisted is an opt-out too; explain shows the evidence; only `unsuppress`
 * lifts it, and the lifted evidence is not recorded again.
 */
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { segmentBuild } from '../src/push/stage.ts';
import { explain } from '../src/reports/explain.ts';
import { InputError } from '../src/errors.ts';
import { operatorUnsuppress } from '../src/maillog/operator.ts';
import { DATE, doubleClient, fxConfig, fxContext, NOW, seedUniverse, startDouble } from './build-fixture.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import type { ListmonkDouble } from './listmonk-double/index.ts';

const DAY = 86_400_000;
/** Past a 7-day cooldown of DATE's push, within the fixture's 30 days of fresh MX verdicts. */
const COOLDOWN = { build: { cooldownDays: 7 } };
const LATER = '2026-12-08';
const LATER_NOW = new Date(NOW.getTime() + 10 * DAY);

async function pushedOn(store: TestStore, date: string): Promise<string[]> {
  const r = await sql<{ address: string }>`select address from push_ledger where send_date = ${date}::date and status = 'pushed' order by address`.execute(store.db);
  return r.rows.map((x) => x.address);
}

describe('opted_out', () => {
  let store: TestStore;
  let lm: ListmonkDouble;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(async () => {
    await sql`truncate push_ledger, opt_outs, build_lists, listmonk_blocklist_sync, suppressions, holds, runs restart identity`.execute(store.db);
    await seedUniverse(store.db, [
      { dot: 1001, emails: ['a@mesa-trucking.test'] },
      { dot: 1011, emails: ['b@mesa-trucking.test'] },
      { dot: 1021, emails: ['c@example.org'] },
    ]);
    lm = await startDouble();
  });
  afterEach(async () => {
    await lm.stop();
  });

  it('an unsubscribe and a blocklisting in Listmonk keep the addresses out of every later build, dry runs included', async () => {
    const config = fxConfig(COOLDOWN, 10);
    await segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(await pushedOn(store, DATE)).toEqual(['a@mesa-trucking.test', 'b@mesa-trucking.test', 'c@example.org']);
    const listId = [...lm.model.lists.values()][0]!.id;
    const a = lm.model.findByEmail('a@mesa-trucking.test')!;
    const b = lm.model.findByEmail('b@mesa-trucking.test')!;
    lm.model.subscribe(a.id, listId, 'unsubscribed');
    lm.model.blocklist(b.id);

    const dry = await segmentBuild(fxContext(store, config, LATER_NOW), { listmonk: doubleClient(lm, config, LATER_NOW), date: LATER, dryRun: true });
    expect(dry.optOuts).toMatchObject({ newOptOuts: 2, optedOut: 2 });
    expect(dry.excluded.opted_out).toBe(2);
    expect(dry.segments[0]!.selected).toBe(1);

    const later = await segmentBuild(fxContext(store, config, LATER_NOW), { listmonk: doubleClient(lm, config, LATER_NOW), date: LATER });
    expect(later.optOuts?.newOptOuts).toBe(0);
    expect(await pushedOn(store, LATER)).toEqual(['c@example.org']);

    const why = await explain(fxContext(store, config, LATER_NOW), 'a@mesa-trucking.test', { date: LATER });
    const reason = why.summary.addresses[0]!.reasons.find((r) => r.code === 'opted_out')!;
    expect(reason.detail).toMatch(new RegExp(`unsubscribed in Listmonk from list "audience mcs150 ${DATE}" \\(id ${listId}\\) \\(subscriber ${a.id}\\), read by the opt-out sync`));
    const whyB = await explain(fxContext(store, config, LATER_NOW), 'b@mesa-trucking.test', { date: LATER });
    expect(whyB.summary.addresses[0]!.reasons.map((r) => r.code)).toEqual(['opted_out']);
  });

  it('a dry run without Listmonk configured says so and honours the opt-outs already recorded', async () => {
    const config = fxConfig(COOLDOWN, 10);
    await sql`insert into opt_outs (address, kind, source, seen_at, run_id) values ('a@mesa-trucking.test', 'blocklisted', 'sync', ${NOW}::timestamptz, 0)`.execute(store.db);
    const dry = await segmentBuild(fxContext(store, config), { dryRun: true });
    expect(dry.optOuts).toBeNull();
    expect(dry.warnings.some((w) => /Listmonk is not configured .*opt-outs were not read.*1 opt-out\(s\) recorded before/.test(w))).toBe(true);
    expect(dry.excluded.opted_out).toBe(1);
  });

  it('a push Listmonk answers blocklisted becomes an opt-out; unsuppress lifts it for good, history kept', async () => {
    const config = fxConfig(COOLDOWN, 10);
    // Blocklisted in Listmonk before we ever pushed it, on no list: the sync cannot see it (no sql_query).
    const pre = lm.model.addSubscriber({ email: 'c@example.org', name: 'C' });
    lm.model.blocklist(pre.id);
    const s = await segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(s.failed).toBe(1);
    const rows = (await sql<{ kind: string; source: string; list_id: number | null }>`select kind, source, list_id from opt_outs where address = 'c@example.org'`.execute(store.db)).rows;
    expect(rows).toEqual([{ kind: 'blocklisted', source: 'push', list_id: s.segments[0]!.list!.id }]);

    const ctx = fxContext(store, config, LATER_NOW);
    const lifted = await operatorUnsuppress(ctx, 'C@Example.org', { reason: 'asked to be mailed again, ticket 12' });
    expect(lifted).toMatchObject({ command: 'unsuppress', kind: 'address', value: 'c@example.org', lifted: 0, optOutsLifted: 1 });
    await expect(operatorUnsuppress(ctx, 'c@example.org', { reason: 'again' })).rejects.toThrow(InputError);
    const history = (await sql<{ lifted_by: string | null; lift_reason: string | null }>`select lifted_by, lift_reason from opt_outs where address = 'c@example.org'`.execute(store.db)).rows;
    expect(history).toEqual([{ lifted_by: expect.any(String), lift_reason: 'asked to be mailed again, ticket 12' }]);

    // Un-blocklisted in Listmonk meanwhile: the next build may push it, and the old evidence is not read again.
    lm.model.findByEmail('c@example.org')!.status = 'enabled';
    const dry = await segmentBuild(ctx, { listmonk: doubleClient(lm, config, LATER_NOW), date: LATER, dryRun: true });
    expect(dry.excluded.opted_out ?? 0).toBe(0);
    expect(dry.segments[0]!.selected).toBe(3);
  });
});
