/**
 * What the build does in Listmonk beyond the lists: campaigns with --send-hour (scheduled at that
 * hour in the firm's zone, with a plain-text part, idempotent), the sliding-window warning, the
 * blocklist sync of suppressed addresses, and Listmonk's own refusals recorded in the ledger.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { segmentBuild } from '../src/push/stage.ts';
import { UsageError } from '../src/errors.ts';
import { addSuppression, DATE, doubleClient, fxConfig, fxContext, NOW, seedUniverse, startDouble } from './build-fixture.ts';
import { ListmonkDouble } from './listmonk-double/index.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'build-campaign-'));
const html = path.join(dir, 'mcs150.html');
writeFileSync(html, '<h1>MCS-150 due</h1><p>Hello {{ .Subscriber.Name }}, your biennial update is due.</p><p><a href="{{ UnsubscribeURL }}">Unsubscribe</a></p>');

describe('build and Listmonk', () => {
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
      { dot: 5001, emails: ['new@cascade-moving.test'], added: '2026-11-25', mcs150: '2026-11-25' },
    ]);
    lm = await startDouble();
  });
  afterEach(async () => {
    await lm.stop();
  });

  it('schedules one campaign per filled list at the send hour in the firm zone, with a plain-text part, once', async () => {
    const config = fxConfig({ build: { campaigns: { mcs150: { subject: 'Your MCS-150 is due', htmlFile: html } } } }, 10);
    const client = doubleClient(lm, config);
    const s = await segmentBuild(fxContext(store, config), { listmonk: client, sendHour: 9 });
    const camp = s.segments[0]!.campaign!;
    expect(camp.sendAt).toBe(`${DATE}T09:00:00-06:00`);
    const c = lm.model.campaigns.get(camp.id)!;
    expect(c).toMatchObject({ name: `audience mcs150 ${DATE}`, subject: 'Your MCS-150 is due', status: 'scheduled' });
    expect(new Date(c.send_at!).toISOString()).toBe('2026-11-28T15:00:00.000Z');
    expect(c.altbody).toMatch(/MCS-150 DUE/);
    expect(c.altbody).toMatch(/Unsubscribe \[\{\{ UnsubscribeURL \}\}\]/);
    expect(c.altbody).not.toMatch(/<p>/);
    // No template for new-carrier: its list is filled, no campaign, and a warning says how to add one.
    expect(s.segments[1]).toMatchObject({ pushed: 1, campaign: null });
    expect(s.warnings.some((w) => w.includes('build.campaigns.new-carrier'))).toBe(true);

    const again = await segmentBuild(fxContext(store, config), { listmonk: client, sendHour: 9 });
    expect(again.segments[0]!.campaign).toEqual(camp);
    expect(lm.model.campaigns.size).toBe(1);
  });

  it('schedules the campaigns of a date an analyst already filled: the cron build with --send-hour is not refused by the full cap (60-day simulation, seed 20310303)', async () => {
    // main: `build --date D` the day before filled D's cap, and the morning's `build --date D
    // --send-hour 9` exited 3 "cap reached" before scheduling anything: D's lists were never sent,
    // and everyone on them counted as contacted for 30 days each way.
    const config = fxConfig({ build: { campaigns: { mcs150: { subject: 'Your MCS-150 is due', htmlFile: html } } } }, 2);
    const client = doubleClient(lm, config);
    const dayBefore = new Date(NOW.getTime() - 86_400_000);
    await segmentBuild(fxContext(store, config, dayBefore), { listmonk: doubleClient(lm, config, dayBefore), date: DATE, onlySegments: ['mcs150'] });
    expect(lm.model.campaigns.size).toBe(0);
    const s = await segmentBuild(fxContext(store, config), { listmonk: client, sendHour: 9 });
    expect(s.segments[0]).toMatchObject({ pushed: 2, campaign: { id: expect.any(Number), sendAt: `${DATE}T09:00:00-06:00` } });
    expect(s.warnings.some((w) => w.startsWith(`cap reached for ${DATE}: 2 of 2 pushed`))).toBe(true);
    expect([...lm.model.campaigns.values()].map((c) => [c.name, c.status])).toEqual([[`audience mcs150 ${DATE}`, 'scheduled']]);
    expect((await sql<{ n: number }>`select count(*)::int as n from push_ledger where send_date = ${DATE}::date`.execute(store.db)).rows[0]!.n).toBe(2);
    // Without --send-hour there is nothing left to do: the gate refuses as before (exit 3).
    await expect(segmentBuild(fxContext(store, config), { listmonk: client })).rejects.toMatchObject({ gate: 'cap', exitCode: 3 });
  });

  it('refuses a send hour already past, before reserving anything', async () => {
    const config = fxConfig({}, 10);
    await expect(segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config), sendHour: 5 })).rejects.toThrow(UsageError);
    expect((await sql<{ n: number }>`select count(*)::int as n from push_ledger`.execute(store.db)).rows[0]!.n).toBe(0);
  });

  it("warns when Listmonk's sliding window is off or above the day's hourly cap, and never writes settings", async () => {
    const config = fxConfig({}, 10); // hourly cap 1
    const off = await segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config), date: DATE });
    expect(off.warnings.some((w) => /sliding window is off/.test(w))).toBe(true);
    lm.model.settings['app.message_sliding_window'] = true;
    lm.model.settings['app.message_sliding_window_rate'] = 500;
    const high = await segmentBuild(fxContext(store, config, new Date(NOW.getTime() + 86_400_000)), { listmonk: doubleClient(lm, config), date: '2026-11-29' });
    expect(high.warnings.some((w) => /above the warmup day's hourly cap of 1\/h/.test(w))).toBe(true);
    expect(lm.settingsLog.puts).toBe(0);
  });

  it('blocklists in Listmonk the pushed addresses the bounce scrub suppressed since, once', async () => {
    const config = fxConfig({}, 10);
    await segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    await addSuppression(store.db, 'address', 'a@mesa-trucking.test');
    const next = await segmentBuild(fxContext(store, config, new Date(NOW.getTime() + 86_400_000)), { listmonk: doubleClient(lm, config), date: '2026-11-29' });
    expect(next.blocklisted).toBe(1);
    const sub = [...lm.model.subscribers.values()].find((x) => x.email === 'a@mesa-trucking.test')!;
    expect(sub.status).toBe('blocklisted');
    const third = await segmentBuild(fxContext(store, config, new Date(NOW.getTime() + 2 * 86_400_000)), { listmonk: doubleClient(lm, config), date: '2026-11-30' });
    expect(third.blocklisted).toBe(0);
  });

  it('records addresses Listmonk refuses as failed, outside the cap', async () => {
    lm.domainBlocklist = ['example.org'];
    const config = fxConfig({}, 10);
    const s = await segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(s.failed).toBe(1);
    const rows = (await sql<{ address: string; status: string; outcome: string }>`select address, status, outcome from push_ledger order by rank`.execute(store.db)).rows;
    expect(rows.find((r) => r.address === 'c@example.org')).toMatchObject({ status: 'failed', outcome: 'rejected' });
    expect(s.segments.reduce((n, g) => n + g.pushed, 0)).toBe(3);
  });
});
