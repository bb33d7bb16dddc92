/**
 * Cooldown looks both ways (issue #14, item 1): an address pushed or reserved for any date within
 * build.cooldownDays before or after the build date is excluded, whatever the order in which the
 * dates are built (an analyst building tomorrow's batch, then the nightly cron building today's).
 * `explain` names the date and list that caused it, the window's edges are exact, `plan` agrees
 * with the build, and builds for adjacent dates cannot race past each other's cooldown check.
 */
import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../src/reports/stage.ts';
import { segmentBuild } from '../src/push/stage.ts';
import { reserve } from '../src/push/reserve.ts';
import type { PushStatus } from '../src/push/tables.ts';
import type { Database } from '../src/db/database.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { explain } from '../src/reports/explain.ts';
import { RULES } from '../src/rules/index.ts';
import { SEGMENTS } from '../src/segments/index.ts';
import { addDays } from '../src/warmup/calendar.ts';
import { buildTestBed, DATE, doubleClient, fxConfig, fxContext, ledgerAddresses, NOW, overdueCarriers, seedUniverse } from './build-fixture.ts';
import { createTestStore, testBackend, type TestStore } from './helpers/store.ts';

/** Twelve overdue mcs150 carriers, one address each, all equally good. */
const UNIVERSE = overdueCarriers(12);
const address = (i: number) => UNIVERSE[i]!.emails[0]!;
const TOMORROW = addDays(DATE, 1);

const ledgerOf = (store: Store, date: string, statuses: readonly PushStatus[] = ['reserved', 'pushed']) => ledgerAddresses(store.db, date, statuses);

async function ledgerRow(store: Store, date: string, addr: string, status: 'reserved' | 'pushed') {
  await sql`insert into push_ledger (send_date, segment, address, email_id, dot_number, rank, run_id, status, pushed_at)
    select ${date}::date, 'mcs150', address, id, 1000, 1, 0, ${status}, case when ${status} = 'pushed' then ${NOW}::timestamptz end
    from emails where address = ${addr}`.execute(store.db);
}

const overlap = (a: readonly string[], b: readonly string[]) => a.filter((x) => b.includes(x));

describe('cooldown in both directions', () => {
  const bed = buildTestBed(UNIVERSE);

  it("building tomorrow first, then today: today's build leaves tomorrow's people out as cooldown, and explain names the date and list", async () => {
    const config = fxConfig({}, 8);
    const first = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: TOMORROW });
    const tomorrow = await ledgerOf(bed.store, TOMORROW, ['pushed']);
    expect(tomorrow).toHaveLength(8);
    const list = first.segments[0]!.list!;

    const second = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE });
    const today = await ledgerOf(bed.store, DATE, ['pushed']);
    expect(overlap(today, tomorrow)).toEqual([]);
    expect(today).toHaveLength(4);
    expect(second.excluded.cooldown).toBe(8);

    const why = await explain(fxContext(bed.store, config), tomorrow[0]!, { date: DATE });
    const reasons = why.summary.addresses[0]!.reasons;
    expect(reasons.map((r) => r.code)).toEqual(['cooldown']);
    expect(reasons[0]!.detail).toContain(`pushed for ${TOMORROW}`);
    expect(reasons[0]!.detail).toContain(`list "${list.name}" (#${list.id})`);
    expect(reasons[0]!.detail).toContain('30 days');
  });

  it("building today first, then tomorrow: tomorrow's build leaves today's people out", async () => {
    const config = fxConfig({}, 8);
    await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE });
    const today = await ledgerOf(bed.store, DATE, ['pushed']);
    const s = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: TOMORROW });
    const tomorrow = await ledgerOf(bed.store, TOMORROW, ['pushed']);
    expect(today).toHaveLength(8);
    expect(overlap(today, tomorrow)).toEqual([]);
    expect(tomorrow).toHaveLength(4);
    expect(s.excluded.cooldown).toBe(8);
    const why = await explain(fxContext(bed.store, config), today[0]!, { date: TOMORROW });
    expect(why.summary.addresses[0]!.reasons[0]!.detail).toContain(`pushed for ${DATE}`);
  });

  it('the window is exact on both sides: N days before or after excludes, N + 1 does not; a reservation counts like a push', async () => {
    const config = fxConfig({ build: { cooldownDays: 5 } }, 50);
    await ledgerRow(bed.store, addDays(DATE, -5), address(0), 'pushed');
    await ledgerRow(bed.store, addDays(DATE, -6), address(1), 'pushed');
    await ledgerRow(bed.store, addDays(DATE, 5), address(2), 'reserved');
    await ledgerRow(bed.store, addDays(DATE, 6), address(3), 'pushed');
    const dry = await segmentBuild(fxContext(bed.store, config), { dryRun: true, date: DATE });
    expect(dry.excluded.cooldown).toBe(2);
    expect(dry.segments[0]!.selected).toBe(10);
    for (const [i, excluded] of [[0, true], [1, false], [2, true], [3, false]] as const) {
      const why = await explain(fxContext(bed.store, config), address(i), { date: DATE });
      expect({ i, codes: why.summary.addresses[0]!.reasons.map((r) => r.code) }).toEqual({ i, codes: excluded ? ['cooldown'] : [] });
    }
    const ahead = await explain(fxContext(bed.store, config), address(2), { date: DATE });
    expect(ahead.summary.addresses[0]!.reasons[0]!.detail).toContain(`reserved for ${addDays(DATE, 5)}`);
  });

  it("plan counts each day's audience with the build's cooldown", async () => {
    const config = fxConfig({}, 8);
    await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: TOMORROW });
    const p = await plan(fxContext(bed.store, config), { days: 3 });
    const dry = await segmentBuild(fxContext(bed.store, config), { dryRun: true, date: DATE });
    expect(p.days.map((d) => d.date)).toEqual([DATE, TOMORROW, addDays(DATE, 2)]);
    // Today and the day after tomorrow are within 30 days of tomorrow's 8; tomorrow has its own 8.
    expect(p.days[0]!.eligible.mcs150).toBe(dry.segments[0]!.eligible);
    expect(p.days.map((d) => d.eligible.mcs150)).toEqual([4, 12, 4]);
  });

  it('a build for the next date that reserves during the unlocked selection makes this one select again under the lock', async () => {
    const config = fxConfig({}, 3);
    const decide = (date: string, runId: number, beforeLock?: (trx: Transaction<Database>) => Promise<void>) =>
      bed.store.db.transaction().execute(async (trx) => {
        const r = await reserve(trx, {
          date, cap: 3, runId, segments: SEGMENTS, maxPerSegment: null, providerTiers: config.build.providerTiers,
          dryRun: false, rules: RULES, ruleCtx: { config, date, now: NOW }, ...(beforeLock ? { beforeLock } : {}),
        });
        return r;
      });
    const alone = await bed.store.db.transaction().execute(async (trx) => {
      await reserve(trx, { date: DATE, cap: 3, runId: 1, segments: SEGMENTS, maxPerSegment: null, providerTiers: config.build.providerTiers, dryRun: true, rules: RULES, ruleCtx: { config, date: DATE, now: NOW } });
      return (await sql<{ email: string }>`select email from pg_temp.picked order by rank`.execute(trx)).rows.map((r) => r.email);
    });
    // "Another build", for tomorrow, reserves today's best pick between the selection and the lock.
    const r = await decide(DATE, 1, async (trx) => {
      await sql`insert into push_ledger (send_date, segment, address, email_id, dot_number, rank, run_id)
        select ${TOMORROW}::date, 'mcs150', address, id, 1000, 1, 99 from emails where address = ${alone[0]!}`.execute(trx);
    });
    expect(r.reselected).toBe(true);
    const today = await ledgerOf(bed.store, DATE);
    expect(today).toHaveLength(3);
    expect(today).not.toContain(alone[0]);
    expect(overlap(today, await ledgerOf(bed.store, TOMORROW))).toEqual([]);
  });

  it('builds for adjacent dates started at once never share an address', async () => {
    const config = fxConfig({}, 8);
    const dates = [DATE, TOMORROW, addDays(DATE, 2)];
    const stores: Store[] = testBackend() === 'pg' ? await Promise.all(dates.map(() => openStore({ url: bed.store.url!, dataDir: '' }))) : dates.map(() => bed.store);
    try {
      const results = await Promise.allSettled(dates.map((date, i) => segmentBuild(fxContext(stores[i]!, config), { listmonk: doubleClient(bed.lm, config), date })));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      const byDate = await Promise.all(dates.map((d) => ledgerOf(bed.store, d)));
      const all = byDate.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all).toHaveLength(12);
    } finally {
      if (testBackend() === 'pg') await Promise.all(stores.map((s) => s.close()));
    }
  });
});

/**
 * The reservation decision itself, without the build's stage lock around it: two transactions on
 * separate connections decide adjacent dates at the same moment (both select, then both ask for
 * the lock). PostgreSQL only: PGlite has one connection, so its transactions never overlap.
 */
describe.runIf(testBackend() === 'pg')('reservations for adjacent dates on two connections', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
    await seedUniverse(store.db, UNIVERSE);
  });
  afterAll(async () => {
    await store.close();
  });

  it('serialise on one lock, so the second sees the first and takes nobody it took', async () => {
    const config = fxConfig({}, 8);
    const other = await openStore({ url: store.url!, dataDir: '' });
    try {
      let arrived = 0;
      let release!: () => void;
      const bothSelected = new Promise<void>((r) => (release = r));
      const barrier = async () => {
        if (++arrived === 2) release();
        await bothSelected;
      };
      const decide = (st: Store, date: string, runId: number) =>
        st.db.transaction().execute((trx) =>
          reserve(trx, {
            date, cap: 8, runId, segments: SEGMENTS, maxPerSegment: null, providerTiers: config.build.providerTiers,
            dryRun: false, rules: RULES, ruleCtx: { config, date, now: NOW }, beforeLock: barrier,
          }),
        );
      const [a, b] = await Promise.all([decide(store, DATE, 1), decide(other, TOMORROW, 2)]);
      expect([a.reselected, b.reselected].filter(Boolean)).toHaveLength(1);
      const today = await ledgerOf(store, DATE);
      const tomorrow = await ledgerOf(store, TOMORROW);
      expect(overlap(today, tomorrow)).toEqual([]);
      expect(today.length + tomorrow.length).toBe(12);
    } finally {
      await other.close();
    }
  });
});
