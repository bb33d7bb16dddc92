/**
 * The lists already filled are judged again: an address an analyst pushed onto a later date's list
 * that then unsubscribes (from an earlier list of ours, after its campaign), or whose provider falls
 * under a hold, is taken off that later list in Listmonk by the next opt-out read (sync-listmonk, or
 * a build), so the later campaign does not mail it. Past lists are left alone, a re-run withdraws
 * nothing twice, a dry run writes nothing, our own withdrawal is never read back as a new opt-out
 * (it would outlive an `unsuppress`), and a Listmonk that fails half way keeps what it confirmed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { segmentBuild } from '../src/push/stage.ts';
import { listmonkSync } from '../src/optouts/stage.ts';
import { operatorUnsuppress } from '../src/maillog/operator.ts';
import { ExternalServiceError } from '../src/errors.ts';
import { addDays } from '../src/warmup/calendar.ts';
import { addHold, DATE, doubleClient, fxConfig, fxContext, NOW, seedUniverse, startDouble } from './build-fixture.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import type { ListmonkDouble } from './listmonk-double/index.ts';

const DAY = 86_400_000;
const COOLDOWN = { build: { cooldownDays: 7 } };
/** A week before the fixture's day (day 1 of its warmup): its list's campaign has gone out. */
const PAST = addDays(DATE, -7);
const PAST_NOW = new Date(NOW.getTime() - 7 * DAY);
/** Three days ahead: an analyst's batch, built on DATE's morning. */
const AHEAD = addDays(DATE, 3);
const WITHDRAW = 'PUT /api/subscribers/lists';

const A = 'a@mesa-trucking.test';
const B = 'b@mesa-trucking.test';
const C = 'c@example.org';

async function withdrawals(store: TestStore) {
  const r = await sql<{ address: string; send_date: string; list_id: number; reason: string }>`
    select address, send_date::text as send_date, list_id, reason from list_unsubscribes order by address`.execute(store.db);
  return r.rows;
}

describe('the lists already filled are judged again', () => {
  let store: TestStore;
  let lm: ListmonkDouble;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(async () => {
    await sql`truncate push_ledger, push_releases, list_unsubscribes, opt_outs, build_lists, listmonk_blocklist_sync, suppressions, holds, runs restart identity`.execute(store.db);
    await seedUniverse(store.db, [
      { dot: 1001, emails: [A] },
      { dot: 1011, emails: [B] },
      { dot: 1021, emails: [C] },
    ], { 'example.org': { provider: 'google' } });
    lm = await startDouble();
  });
  afterEach(async () => {
    await lm.stop();
  });

  const status = (email: string, listId: number) => lm.model.subscriptions.get(lm.model.findByEmail(email)!.id)?.get(listId)?.status;

  /** PAST's list mailed A and B; the analyst then filled AHEAD's list with all three; A unsubscribes from PAST's list. */
  async function aheadWithOptOut(config: ReturnType<typeof fxConfig>) {
    await segmentBuild(fxContext(store, config, PAST_NOW), { listmonk: doubleClient(lm, config, PAST_NOW), date: PAST, maxPerSegment: 2 });
    const pastList = (await sql<{ list_id: number }>`select list_id from build_lists where send_date = ${PAST}::date`.execute(store.db)).rows[0]!.list_id;
    const pastMembers = (await sql<{ address: string }>`select address from push_ledger where send_date = ${PAST}::date and status = 'pushed' order by address`.execute(store.db)).rows.map((r) => r.address);
    // The ranking puts A on PAST's list (it is the one who unsubscribes from it below).
    expect(pastMembers).toHaveLength(2);
    expect(pastMembers).toContain(A);
    const ahead = await segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config), date: AHEAD });
    expect(ahead.segments[0]!.pushed).toBe(3);
    const aheadList = ahead.segments[0]!.list!.id!;
    lm.model.subscribe(lm.model.findByEmail(A)!.id, pastList, 'unsubscribed');
    return { pastList, aheadList, other: pastMembers.find((m) => m !== A)! };
  }

  it('sync-listmonk unsubscribes the opted-out address from the later list only, once', async () => {
    const config = fxConfig(COOLDOWN, 10);
    const { pastList, aheadList, other } = await aheadWithOptOut(config);
    const before = lm.count(WITHDRAW);

    const s = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(s.newOptOuts).toBe(1);
    expect(s.withdrawn).toEqual({ from: DATE, lists: 1, unsubscribed: 1, byRule: { opted_out: 1 } });
    expect(status(A, aheadList)).toBe('unsubscribed');
    expect(status(B, aheadList)).toBe('confirmed');
    expect(status(C, aheadList)).toBe('confirmed');
    // The past list is as its recipients left it: the other one still on it.
    expect(status(other, pastList)).toBe('confirmed');
    expect(status(A, pastList)).toBe('unsubscribed');
    expect(lm.count(WITHDRAW)).toBe(before + 1);
    expect(await withdrawals(store)).toEqual([{ address: A, send_date: AHEAD, list_id: aheadList, reason: 'opted_out' }]);

    // A re-run withdraws nothing, and our unsubscribe from AHEAD's list is not a new opt-out.
    const again = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(again.newOptOuts).toBe(0);
    expect(again.withdrawn).toEqual({ from: DATE, lists: 0, unsubscribed: 0, byRule: {} });
    expect(lm.count(WITHDRAW)).toBe(before + 1);
    const evidence = (await sql<{ list_id: number }>`select list_id from opt_outs where address = ${A}`.execute(store.db)).rows;
    expect(evidence).toEqual([{ list_id: pastList }]);

    // Once an operator lifts the opt-out, no trace of our own withdrawal opts A out again.
    await operatorUnsuppress(fxContext(store, config), A, { reason: 'asked to be mailed again' });
    const after = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(after.newOptOuts).toBe(0);
    expect(after.optedOut).toBe(0);
  });

  it("a build does the same before selecting; a dry run only reads; a list of today's date counts as later", async () => {
    const config = fxConfig(COOLDOWN, 10);
    const { aheadList } = await aheadWithOptOut(config);
    const before = lm.count(WITHDRAW);

    const dry = await segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config), date: DATE, dryRun: true });
    expect(dry.withdrawn).toBeNull();
    expect(status(A, aheadList)).toBe('confirmed');
    expect(await withdrawals(store)).toEqual([]);
    expect(lm.count(WITHDRAW)).toBe(before);

    // On AHEAD's own morning the list is today's: its campaign has not gone out yet.
    const aheadNow = new Date(NOW.getTime() + 3 * DAY);
    const build = await segmentBuild(fxContext(store, config, aheadNow), { listmonk: doubleClient(lm, config, aheadNow), date: AHEAD });
    expect(build.withdrawn).toEqual({ from: AHEAD, lists: 1, unsubscribed: 1, byRule: { opted_out: 1 } });
    expect(status(A, aheadList)).toBe('unsubscribed');
    expect((await withdrawals(store)).map((w) => w.address)).toEqual([A]);

    // The day after, AHEAD's list is past: a new opt-out of B leaves it alone.
    lm.model.blocklist(lm.model.findByEmail(B)!.id);
    const next = new Date(NOW.getTime() + 4 * DAY);
    const s = await listmonkSync(fxContext(store, config, next), { listmonk: doubleClient(lm, config, next) });
    expect(s.newOptOuts).toBe(1);
    expect(s.withdrawn).toEqual({ from: addDays(AHEAD, 1), lists: 0, unsubscribed: 0, byRule: {} });
  });

  it('a Listmonk failing at the withdrawal fails the read with what to do; the re-run completes it', async () => {
    const config = fxConfig(COOLDOWN, 10);
    const { aheadList } = await aheadWithOptOut(config);
    lm.faults.failNext(10, 503, { route: /^PUT \/api\/subscribers\/lists$/ });
    const e = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExternalServiceError);
    expect((e as Error).message).toMatch(new RegExp(`1 address\\(es\\) the rules exclude now are still on Listmonk lists of ${DATE} or later.*audit-listmonk --pause`, 's'));
    expect(await withdrawals(store)).toEqual([]);
    // The opt-out itself was recorded: no build selects A meanwhile.
    expect((await sql<{ n: number }>`select count(*)::int as n from opt_outs where address = ${A} and lifted_at is null`.execute(store.db)).rows[0]!.n).toBe(1);

    lm.faults.clear();
    const s = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(s.withdrawn.unsubscribed).toBe(1);
    expect(status(A, aheadList)).toBe('unsubscribed');
  });

  it('a provider put on hold after the list was filled: its addresses come off the later list while the hold stands', async () => {
    const config = fxConfig(COOLDOWN, 10);
    const ahead = await segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config), date: AHEAD });
    const aheadList = ahead.segments[0]!.list!.id!;
    expect(status(C, aheadList)).toBe('confirmed');
    // That night Gmail answers 550-5.7.1: the scrub holds google for three days.
    await addHold(store.db, 'provider', 'google', new Date(NOW.getTime() + 3 * DAY));
    const s = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(s.withdrawn).toEqual({ from: DATE, lists: 1, unsubscribed: 1, byRule: { provider_hold: 1 } });
    expect(status(C, aheadList)).toBe('unsubscribed');
    expect(status(A, aheadList)).toBe('confirmed');
    // C stays pushed for AHEAD: counted against its cap and as a contact, the cautious side.
    expect((await sql<{ status: string }>`select status from push_ledger where address = ${C} and send_date = ${AHEAD}::date`.execute(store.db)).rows).toEqual([{ status: 'pushed' }]);
    // Our withdrawal is not C's opt-out: after the hold, nothing keeps C out but the cooldown.
    expect(s.newOptOuts).toBe(0);
    expect(s.optedOut).toBe(0);
    const next = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(next).toMatchObject({ newOptOuts: 0, optedOut: 0, withdrawn: { unsubscribed: 0 } });
  });

  it('a global (DKIM) hold stops our scheduled campaigns of today and later, once; no build schedules them again', async () => {
    const html = path.join(mkdtempSync(path.join(os.tmpdir(), 'audience-stop-')), 'c.html');
    writeFileSync(html, '<p>Your MCS-150 is due. <a href="{{ UnsubscribeURL }}">Unsubscribe</a></p>');
    const config = fxConfig({ ...COOLDOWN, build: { ...COOLDOWN.build, campaigns: { mcs150: { subject: 'Your MCS-150 is due', htmlFile: html } } } }, 10);
    // The analyst's batch for AHEAD, its campaign scheduled for 14:00 that day.
    const ahead = await segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config), date: AHEAD, sendHour: 14 });
    const id = ahead.segments[0]!.campaign!.id;
    expect(lm.model.campaigns.get(id)!.status).toBe('scheduled');

    // Without a global hold nothing is stopped.
    const calm = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(calm.globalHold).toEqual({ hold: null, stopped: [] });

    // That night the scrub finds campaign mail unsigned: a global hold.
    await addHold(store.db, 'global', null, new Date(NOW.getTime() + 7 * DAY));
    const s = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(s.globalHold.hold).toMatchObject({ reason: 'dkim_coverage' });
    expect(s.globalHold.stopped).toEqual([{ id, name: expect.any(String), action: 'unscheduled' }]);
    expect(lm.model.campaigns.get(id)!.status).toBe('draft');
    const again = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(again.globalHold.stopped).toEqual([]);

    // Lifted: the next build for AHEAD leaves the stopped campaign a draft for a person to schedule.
    await sql`update holds set lifted_at = ${NOW}::timestamptz where scope = 'global'`.execute(store.db);
    const rebuild = await segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config), date: AHEAD, sendHour: 14 });
    expect(rebuild.segments[0]!.campaign?.id).toBe(id);
    expect(lm.model.campaigns.get(id)!.status).toBe('draft');
  });
});
