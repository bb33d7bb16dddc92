/**
 * The main job end to end on both backends: build → push to the Listmonk double → re-run (no
 * change) → crash mid-push → re-run (complete, no duplicates) → concurrent builds (cap holds),
 * plus the gates and the exclusions that only the build owns (provider hold, cooldown).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { segmentBuild } from '../src/push/stage.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { ExternalServiceError, SafetyGateError } from '../src/errors.ts';
import { addHold, addSuppression, DATE, doubleClient, fxConfig, fxContext, NOW, seedUniverse, startDouble, type FxCarrier } from './build-fixture.ts';
import { ListmonkDouble } from './listmonk-double/index.ts';
import { createTestStore, testBackend, type TestStore } from './helpers/store.ts';

const google = (i: number) => `dispatch${i}@roadrunner-freight.test`;
const m365 = (i: number) => `office${i}@lonestar-carriers.example`;
const other = (i: number) => `owner${i}@mesa-trucking.test`;

function universe(): FxCarrier[] {
  const cs: FxCarrier[] = [];
  for (let i = 0; i < 4; i++) cs.push({ dot: 1000 + i * 10, emails: [other(i)] });
  for (let i = 0; i < 3; i++) cs.push({ dot: 2000 + i * 10, emails: [m365(i)] });
  for (let i = 0; i < 3; i++) cs.push({ dot: 3000 + i * 10, emails: [google(i)] });
  cs.push({ dot: 4000, emails: ['Bob.Yahoo@yahoo.com'.toLowerCase()] });
  cs.push({ dot: 4010, emails: ['gone@mesa-trucking.test'] });
  cs.push({ dot: 4020, emails: ['ops@defunct-freight.test'] });
  // A new carrier sharing an mcs150 carrier's address: the address goes to mcs150 only.
  cs.push({ dot: 5000, emails: [google(0), 'new1@cascade-moving.test'], added: '2026-11-20', mcs150: '2026-11-20' });
  return cs;
}
const DOMAINS = {
  'roadrunner-freight.test': { provider: 'google' },
  'lonestar-carriers.example': { provider: 'microsoft365' },
  'yahoo.com': { provider: 'yahoo' },
  'defunct-freight.test': { verdict: 'dead' as const, provider: null },
};

async function ledger(store: Store, date = DATE) {
  const r = await sql<{ address: string; segment: string; status: string }>`
    select address, segment, status from push_ledger where send_date = ${date}::date order by rank`.execute(store.db);
  return r.rows;
}

describe('audience build', () => {
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
    await seedUniverse(store.db, universe(), DOMAINS);
    await addSuppression(store.db, 'address', 'gone@mesa-trucking.test');
    lm = await startDouble();
  });
  afterEach(async () => {
    await lm.stop();
  });

  it('a dry run reserves nothing, calls nobody, and writes the import CSVs best providers first', async () => {
    const config = fxConfig({}, 5);
    const out = mkdtempSync(path.join(os.tmpdir(), 'build-out-'));
    const s = await segmentBuild(fxContext(store, config), { dryRun: true, outDir: out });
    expect(s).toMatchObject({ command: 'build', date: DATE, warmupDay: 8, dailyCap: 5, alreadyPushed: 0, dryRun: true });
    expect(s.segments.map((g) => [g.name, g.eligible, g.selected, g.pushed])).toEqual([
      ['mcs150', 10, 5, 0],
      ['new-carrier', 1, 0, 0],
    ]);
    expect(s.segments[0]!.list).toEqual({ id: null, name: `audience mcs150 ${DATE}` });
    expect(s.excluded).toMatchObject({ yahoo_family: 1, suppressed_address: 1, mx_dead: 1 });
    expect(await ledger(store)).toEqual([]);
    expect(lm.requests).toHaveLength(0);
    const csv = readFileSync(s.out!.csv.mcs150!, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('email,name,attributes');
    expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(expect.arrayContaining([google(0), google(1), google(2)]));
    expect(csv.slice(1, 4).every((l) => l.includes('roadrunner-freight.test'))).toBe(true); // google tier first
    expect(csv.slice(4).every((l) => l.includes('lonestar-carriers.example'))).toBe(true); // then microsoft365
    expect(JSON.parse(csv[1]!.slice(csv[1]!.indexOf(',"{') + 2, -1).replace(/""/g, '"'))).toMatchObject({ segment: 'mcs150', state: 'TX' });
    expect(JSON.parse(readFileSync(s.out!.summary, 'utf8'))).toMatchObject({ command: 'build', dryRun: true });
  });

  it('pushes within the cap, then a re-run changes nothing and says the cap is reached', async () => {
    const config = fxConfig({}, 5);
    const client = doubleClient(lm, config);
    const s = await segmentBuild(fxContext(store, config), { listmonk: client });
    expect(s.segments[0]).toMatchObject({ name: 'mcs150', selected: 5, pushed: 5, list: { name: `audience mcs150 ${DATE}` } });
    expect(s.segments[1]).toMatchObject({ name: 'new-carrier', selected: 0, pushed: 0, list: null });
    const rows = await ledger(store);
    expect(rows.map((r) => r.status)).toEqual(Array(5).fill('pushed'));
    expect(rows.slice(0, 3).every((r) => r.address.endsWith('@roadrunner-freight.test'))).toBe(true);
    expect(lm.model.subscribers.size).toBe(5);
    const listId = s.segments[0]!.list!.id!;
    expect(lm.model.lists.get(listId)?.tags).toEqual(['audience', 'mcs150', DATE]);

    const writes = lm.count('POST /api/subscribers');
    const again = segmentBuild(fxContext(store, config), { listmonk: client });
    await expect(again).rejects.toThrow(SafetyGateError);
    await expect(segmentBuild(fxContext(store, config), { listmonk: client })).rejects.toThrow(`cap reached for ${DATE}: 5 of 5 pushed`);
    expect(await ledger(store)).toEqual(rows);
    expect(lm.count('POST /api/subscribers')).toBe(writes);
    expect(lm.model.subscribers.size).toBe(5);
  });

  it('a re-run below the cap picks the same people and pushes nothing twice', async () => {
    const config = fxConfig({}, 50);
    const client = doubleClient(lm, config);
    const first = await segmentBuild(fxContext(store, config), { listmonk: client });
    const rows = await ledger(store);
    const second = await segmentBuild(fxContext(store, config), { listmonk: client });
    expect(await ledger(store)).toEqual(rows);
    // The opt-out read differs only in what there was to read (the second finds the first's lists).
    expect({ ...second, runId: 0, alreadyPushed: 0, seconds: null, timings: null, optOuts: null }).toEqual({ ...first, runId: 0, alreadyPushed: 0, seconds: null, timings: null, optOuts: null });
    expect([first.optOuts?.newOptOuts, second.optOuts?.newOptOuts, second.optOuts?.lists]).toEqual([0, 0, 2]);
    expect(second.alreadyPushed).toBe(rows.length);
    expect(lm.model.subscribers.size).toBe(rows.length);
  });

  it('finishes a push that crashed midway without duplicates or exceeding the cap', async () => {
    const config = fxConfig({}, 8);
    const client = doubleClient(lm, config);
    lm.faults.crashAfterSubscriberWrites(3);
    await expect(segmentBuild(fxContext(store, config), { listmonk: client })).rejects.toThrow(ExternalServiceError);
    const mid = await ledger(store);
    expect(mid).toHaveLength(8);
    expect(mid.filter((r) => r.status === 'reserved').length).toBeGreaterThan(0);
    const run = await sql<{ status: string }>`select status from runs where stage = 'build' order by id desc limit 1`.execute(store.db);
    expect(run.rows[0]?.status).toBe('failed');

    lm.restart();
    const s = await segmentBuild(fxContext(store, config), { listmonk: client });
    expect(s.alreadyPushed).toBe(8);
    const done = await ledger(store);
    expect(done.map((r) => r.address)).toEqual(mid.map((r) => r.address));
    expect(done.every((r) => r.status === 'pushed')).toBe(true);
    expect(lm.model.subscribers.size).toBe(8);
    const members = [...lm.model.subscriptions.values()].filter((m) => m.has(s.segments[0]!.list!.id!)).length;
    expect(members).toBe(8);
  });

  it('holds the cap when several builds start at once', async () => {
    const config = fxConfig({}, 7);
    const stores: Store[] = testBackend() === 'pg' ? await Promise.all([1, 2, 3].map(() => openStore({ url: store.url!, dataDir: '' }))) : [store, store, store];
    try {
      const results = await Promise.allSettled(stores.map((st) => segmentBuild(fxContext(st, config), { listmonk: doubleClient(lm, config) })));
      const ok = results.filter((r) => r.status === 'fulfilled');
      expect(ok.length).toBeGreaterThanOrEqual(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(SafetyGateError);
      const rows = await ledger(store);
      expect(rows.filter((r) => r.status === 'pushed')).toHaveLength(7);
      expect(rows).toHaveLength(7);
      expect(lm.model.subscribers.size).toBe(7);
    } finally {
      if (testBackend() === 'pg') await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('refuses without a warmup start, and under a global hold, with how to clear it', async () => {
    const noStart = fxConfig({ warmup: { start: undefined } });
    await expect(segmentBuild(fxContext(store, { ...noStart, warmup: { ...noStart.warmup, start: undefined } }), { dryRun: true })).rejects.toThrow(/AUDIENCE_WARMUP_START/);
    await addHold(store.db, 'global', null, new Date(NOW.getTime() + 3 * 86_400_000));
    const e = await segmentBuild(fxContext(store, fxConfig()), { listmonk: doubleClient(lm, fxConfig()) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SafetyGateError);
    expect((e as SafetyGateError).exitCode).toBe(3);
    expect((e as Error).message).toMatch(/DKIM/);
    expect(await ledger(store)).toEqual([]);
    expect(lm.requests).toHaveLength(0);
  });

  it('leaves out a held provider and addresses in cooldown, and says why', async () => {
    await addHold(store.db, 'provider', 'google', new Date(NOW.getTime() + 86_400_000));
    // Pushed 10 days ago by the other segment: still in the 30-day cooldown.
    await sql`insert into push_ledger (send_date, segment, address, email_id, dot_number, rank, run_id, status, pushed_at)
      select date '2026-11-18', 'new-carrier', address, id, 2000, 1, 0, 'pushed', ${NOW}::timestamptz from emails where address = ${m365(0)}`.execute(store.db);
    const s = await segmentBuild(fxContext(store, fxConfig({}, 50)), { listmonk: doubleClient(lm, fxConfig({}, 50)) });
    expect(s.excluded).toMatchObject({ provider_hold: 3, cooldown: 1 });
    const pushed = (await ledger(store)).map((r) => r.address);
    expect(pushed.some((a) => a.endsWith('@roadrunner-freight.test'))).toBe(false);
    expect(pushed).not.toContain(m365(0));
    // 4 other + 2 microsoft365 (mcs150), and the new carrier's own address.
    expect(pushed).toHaveLength(7);
  });

  it('respects --only-segment and --max-per-segment as totals for the date', async () => {
    const config = fxConfig({}, 50);
    const client = doubleClient(lm, config);
    const a = await segmentBuild(fxContext(store, config), { listmonk: client, onlySegments: ['mcs150'], maxPerSegment: 3 });
    expect(a.segments.map((g) => [g.name, g.selected])).toEqual([['mcs150', 3]]);
    const b = await segmentBuild(fxContext(store, config), { listmonk: client, onlySegments: ['mcs150'], maxPerSegment: 3 });
    expect(b.segments[0]!.selected).toBe(3);
    const c = await segmentBuild(fxContext(store, config), { listmonk: client, onlySegments: ['new-carrier'] });
    expect(c.segments.map((g) => [g.name, g.selected, g.pushed])).toEqual([['new-carrier', 1, 1]]);
    expect((await ledger(store)).filter((r) => r.segment === 'new-carrier').map((r) => r.address)).toEqual(['new1@cascade-moving.test']);
  });
});
