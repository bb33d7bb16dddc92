/**
 * The report's data, chart by chart, on four days with known numbers (2026-11-25..28, the report's
 * date 11-28 at a pinned 06:00 in Chicago): each series against what was put in, including a spike
 * over the cap, a day scrubbed before the per-provider counts, failures attributed without a relay,
 * a Yahoo-family bounce, a DKIM outage on one stream, and holds lifted, ended and in force.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGates } from '../src/push/gates.ts';
import type { Config } from '../src/config.ts';
import { collectReport, type ReportData } from '../src/reports/data/collect.ts';
import { reportRange } from '../src/reports/range.ts';
import { UsageError } from '../src/errors.ts';
import { addSuppression, DATE, fxConfig, fxContext, NOW, seedUniverse } from './build-fixture.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { insertDkim, insertEvents, insertHold, insertLedger, insertSent, recomputeHealth } from './report-fixture.ts';

const h = (iso: string) => new Date(iso);

describe('report data', () => {
  let store: TestStore;
  let config: Config;
  let data: ReportData;

  beforeAll(async () => {
    store = await createTestStore();
    const db = store.db;
    await seedUniverse(
      db,
      [
        ...Array.from({ length: 3 }, (_, i) => ({ dot: 3001 + i * 10, emails: [`o${i}@mesa-trucking.test`] })),
        { dot: 3101, emails: ['dispatch@roadrunner-freight.test'] },
        { dot: 3111, emails: ['ops@tenant.test'] },
        { dot: 3121, emails: ['gone@mesa-trucking.test'] },
      ],
      { 'roadrunner-freight.test': { provider: 'google' }, 'tenant.test': { provider: 'microsoft365' } },
    );
    await addSuppression(db, 'address', 'gone@mesa-trucking.test');
    // Cap 20 on 11-25 (warmup day 1), 30 from 11-26 (day 2); hard ceiling 40.
    config = fxConfig({ warmup: { start: '2026-11-24', hardCeiling: 40, ramp: [{ fromDay: 0, hourly: 2, daily: 20 }, { fromDay: 2, hourly: 3, daily: 30 }] } });

    await insertLedger(db, '2026-11-25', 'mcs150', 'pushed', 12);
    await insertLedger(db, '2026-11-25', 'new-carrier', 'pushed', 4);
    await insertLedger(db, '2026-11-25', 'new-carrier', 'failed', 1);
    await insertLedger(db, '2026-11-26', 'mcs150', 'pushed', 25);
    await insertLedger(db, '2026-11-26', 'new-carrier', 'pushed', 6);
    await insertLedger(db, '2026-11-26', 'new-carrier', 'reserved', 1);
    await insertLedger(db, '2026-11-28', 'mcs150', 'reserved', 2);
    // Outside the range: never counted.
    await insertLedger(db, '2026-11-24', 'mcs150', 'pushed', 9);

    await insertSent(db, '2026-11-25', { google: 10, microsoft365: 4, other: 3 });
    await insertSent(db, '2026-11-26', { google: 8, outlook_consumer: 2 });
    // Scrubbed before the per-provider counts existed (sql/0012).
    await insertSent(db, '2026-11-27', { other: 45 }, { legacy: true });
    const said = (t: string) => `host mx.example[192.0.2.1] said: ${t} (in reply to RCPT TO command)`;
    await insertEvents(db, [
      { day: '2026-11-25', status: 'deferred', class: 'rate_limited', dsn: '4.7.28', domain: 'gmail.com', relayProvider: 'google', reason: said('421-4.7.28 unusual rate'), count: 2 },
      { day: '2026-11-25', status: 'bounced', class: 'recipient_invalid', dsn: '5.1.1', domain: 'gmail.com', relayProvider: 'google', reason: said('550 5.1.1 no such user') },
      // No relay provider: AT&T's domain is Yahoo family by the list.
      { day: '2026-11-25', status: 'bounced', class: 'policy_auth', dsn: '5.7.1', domain: 'att.net', reason: said('553 5.7.1 [BL21] Connections will not be accepted') },
      // No relay (the connection failed): the domain's MX provider.
      { day: '2026-11-26', status: 'deferred', class: 'transient_network', dsn: '4.4.1', domain: 'tenant.test', reason: 'connect to tenant-test.mail.protection.outlook.com[52.101.1.1]:25: Connection timed out' },
      { day: '2026-11-26', status: 'expired', class: 'expired', dsn: '4.4.1', domain: 'gmail.com', relayProvider: 'google', reason: 'delivery temporarily suspended' },
      // The firm's own mail: never in the report's figures.
      { day: '2026-11-26', status: 'bounced', class: 'recipient_invalid', dsn: '5.1.1', domain: 'firm-logistics.example', reason: said('550 5.1.1 nope'), own: true, count: 5 },
    ]);
    await insertDkim(db, '2026-11-25', { trucking: [20, 20] });
    await insertDkim(db, '2026-11-26', { trucking: [15, 15], healthcare: [10, 5] });
    await insertDkim(db, '2026-11-27', { trucking: [5, 5] }, { legacy: true });
    await recomputeHealth(db, ['2026-11-25', '2026-11-26', '2026-11-27']);

    await insertHold(db, { scope: 'provider', provider: 'google', reason: 'reputation_block', detail: 'gmail 5.7.1', startsAt: h('2026-11-25T15:00:00Z'), until: h('2026-11-28T15:00:00Z'), liftedAt: h('2026-11-26T18:00:00Z') });
    await insertHold(db, { scope: 'provider', provider: 'microsoft365', reason: 'rate_limited', detail: 'S3150', startsAt: h('2026-11-27T10:00:00Z'), until: h('2026-11-30T10:00:00Z') });
    await insertHold(db, { scope: 'global', provider: null, reason: 'dkim_coverage', detail: '5 of 10 healthcare messages signed', startsAt: h('2026-11-26T20:00:00Z'), until: h('2026-12-03T20:00:00Z') });
    await insertHold(db, { scope: 'provider', provider: 'google', reason: 'content_spam', detail: 'over before the range', startsAt: h('2026-11-15T10:00:00Z'), until: h('2026-11-20T10:00:00Z') });
    // A small mail server's own signal holds its domain (sql/0014): ended before the report's instant.
    await insertHold(db, { scope: 'domain', provider: null, domain: 'small-fleet.test', mxHost: 'mx.small-fleet.test', reason: 'reputation_block', detail: '550 too many invalid recipients', startsAt: h('2026-11-26T16:00:00Z'), until: h('2026-11-27T16:00:00Z') });

    data = await collectReport(fxContext(store, config), { days: 4 });
  });
  afterAll(async () => {
    await store.close();
  });

  it('covers the N days ending on the clock\'s day, and describes the clock\'s instant', () => {
    expect(data.range).toMatchObject({ from: '2026-11-25', to: DATE, days: ['2026-11-25', '2026-11-26', '2026-11-27', DATE] });
    expect(data.range.asOf).toEqual(NOW);
    // A past date describes the end of that day; a future one is refused.
    const past = reportRange({ date: '2026-11-26', days: 2 }, NOW, 'America/Chicago');
    expect(past).toMatchObject({ from: '2026-11-25', to: '2026-11-26' });
    expect(past.asOf.toISOString()).toBe('2026-11-27T05:59:59.999Z');
    expect(() => reportRange({ date: '2026-11-29', days: 2 }, NOW, 'America/Chicago')).toThrow(UsageError);
    expect(() => reportRange({ days: 0 }, NOW, 'America/Chicago')).toThrow(UsageError);
  });

  it('the ramp: cap, pushes by segment, what Postfix finished, and the days over the cap or the ceiling', () => {
    expect(data.ramp.map((d) => [d.date, d.warmupDay, d.cap, d.pushed, d.reserved, d.refused])).toEqual([
      ['2026-11-25', 1, 20, { mcs150: 12, 'new-carrier': 4 }, 0, 1],
      ['2026-11-26', 2, 30, { mcs150: 25, 'new-carrier': 7 }, 1, 0],
      ['2026-11-27', 3, 30, { mcs150: 0, 'new-carrier': 0 }, 0, 0],
      [DATE, 4, 30, { mcs150: 2, 'new-carrier': 0 }, 2, 0],
    ]);
    expect(data.ramp.map((d) => [d.sent, d.deferred, d.bounced, d.expired, d.finished])).toEqual([
      [17, 2, 2, 0, 19],
      [10, 1, 0, 1, 11],
      [45, 0, 0, 0, 45],
      [0, 0, 0, 0, 0],
    ]);
    // 32 pushed against 30 on 11-26; 45 sent against 30 (and the ceiling of 40) on 11-27.
    expect(data.ramp.map((d) => [d.overCap, d.overCeiling])).toEqual([[false, false], [true, false], [true, true], [false, false]]);
    expect(data.ramp.every((d) => d.ceiling === 40)).toBe(true);
  });

  it('per provider: successes and failures by group, the rate, a day without per-provider counts, and the Yahoo family', () => {
    const p = data.providers;
    expect(p.groups).toEqual(['google', 'microsoft365', 'outlook_consumer', 'yahoo', 'other']);
    const [d25, d26, d27, d28] = p.days;
    expect(d25!.groups.google).toEqual({ sent: 10, deferred: 2, bounced: 1, expired: 0, attempts: 13, rate: 10 / 13 });
    expect(d25!.groups.microsoft365).toMatchObject({ sent: 4, attempts: 4, rate: 1 });
    expect(d25!.groups.yahoo).toMatchObject({ sent: 0, bounced: 1, attempts: 1, rate: 0 });
    expect(d25!.groups.other).toMatchObject({ sent: 3, attempts: 3, rate: 1 });
    expect(d25!.groups.outlook_consumer).toMatchObject({ attempts: 0, rate: null });
    expect(d26!.groups.google).toMatchObject({ sent: 8, expired: 1, attempts: 9, rate: 8 / 9 });
    // The timed-out connection has no relay: its domain's MX says Microsoft 365.
    expect(d26!.groups.microsoft365).toMatchObject({ sent: 0, deferred: 1, rate: 0 });
    expect(d26!.groups.outlook_consumer).toMatchObject({ sent: 2, rate: 1 });
    // 45 sent, but not per provider: unknown, not 0%.
    expect(d27!.counted).toBe(false);
    expect(Object.values(d27!.groups).map((g) => g.rate)).toEqual([null, null, null, null, null]);
    expect(d28!.counted).toBe(true);
    expect(p.yahooAttempts).toBe(1);
  });

  it('holds in the range as bands: lifted, ended, still in force, global and by domain; older ones left out', () => {
    expect(data.holds.map((b) => [b.scope, b.provider ?? b.domain, b.reason, b.fromDay, b.toDay, b.lifted, b.endedAt?.toISOString() ?? null])).toEqual([
      ['provider', 'google', 'reputation_block', '2026-11-25', '2026-11-26', true, '2026-11-26T18:00:00.000Z'],
      ['domain', 'small-fleet.test', 'reputation_block', '2026-11-26', '2026-11-27', false, '2026-11-27T16:00:00.000Z'],
      ['global', null, 'dkim_coverage', '2026-11-26', DATE, false, null],
      ['provider', 'microsoft365', 'rate_limited', '2026-11-27', DATE, false, null],
    ]);
    expect(data.holds[1]!.mxHost).toBe('mx.small-fleet.test');
  });

  it('DKIM coverage per day and per stream, the days below the minimum and those too small to judge', () => {
    const d = data.dkim;
    expect(d).toMatchObject({ minimum: 0.95, minMessages: 20, streams: ['healthcare', 'trucking'] });
    expect(d.days.map((x) => [x.date, x.messages, x.signed, x.coverage, x.below, x.tooFew])).toEqual([
      ['2026-11-25', 20, 20, 1, false, false],
      ['2026-11-26', 25, 20, 0.8, true, false],
      ['2026-11-27', 5, 5, 1, false, true],
      [DATE, 0, 0, null, false, false],
    ]);
    expect(d.days[1]!.streams).toEqual({ healthcare: { messages: 10, signed: 5, coverage: 0.5 }, trucking: { messages: 15, signed: 15, coverage: 1 } });
    // Scrubbed before the per-stream counts: the total only.
    expect(d.days[2]!.streams).toEqual({});
  });

  it('top deferral and bounce reasons of the last day and of the period, with what the server said', () => {
    const r = data.reasons;
    expect(r.lastDay).toBe('2026-11-26');
    expect(r.lastDayRows).toEqual([{ status: 'deferred', class: 'transient_network', dsn: '4.4.1', provider: 'other', count: 1, said: expect.stringContaining('Connection timed out') }]);
    expect(r.periodRows.map((x) => [x.status, x.class, x.dsn, x.provider, x.count, x.said])).toEqual([
      ['deferred', 'rate_limited', '4.7.28', 'google', 2, '421-4.7.28 unusual rate (in reply to RCPT TO command)'],
      ['deferred', 'transient_network', '4.4.1', 'other', 1, 'connect to tenant-test.mail.protection.outlook.com[52.101.1.1]:25: Connection timed out'],
      ['bounced', 'policy_auth', '5.7.1', 'other', 1, '553 5.7.1 [BL21] Connections will not be accepted (in reply to RCPT TO command)'],
      ['bounced', 'recipient_invalid', '5.1.1', 'google', 1, '550 5.1.1 no such user (in reply to RCPT TO command)'],
    ]);
  });

  it('the audience ahead: 14 days of the ramp with the eligible addresses, and why today\'s candidates are excluded', () => {
    if ('error' in data.audience) throw new Error(data.audience.error);
    const a = data.audience;
    expect(a.days).toHaveLength(14);
    expect(a.days.slice(0, 2).map((d) => [d.date, d.warmupDay, d.daily])).toEqual([[DATE, 4, 30], ['2026-11-29', 5, 30]]);
    // 3 mesa addresses and the Google one (its hold was lifted); Microsoft 365 is on hold, one address suppressed.
    expect(a.days[0]!.eligible).toEqual({ mcs150: 4, 'new-carrier': 0 });
    expect(a.candidates).toBe(6);
    expect(a.excluded).toEqual([{ code: 'provider_hold', count: 1 }, { code: 'suppressed_address', count: 1 }]);
    expect(a.daysOfAudienceLeft).toBe(1);
  });

  it("the header: the date's warmup day and cap, its use, the holds in force, and the build's gates", () => {
    const hd = data.header;
    expect(hd).toMatchObject({ date: DATE, asOf: NOW.toISOString(), warmup: { start: '2026-11-24', day: 4, dailyCap: 30, hourlyCap: 3 }, used: 2 });
    expect(hd.holds.map((x) => [x.scope, x.provider, x.reason])).toEqual([
      ['global', null, 'dkim_coverage'],
      ['provider', 'microsoft365', 'rate_limited'],
    ]);
    expect(hd.gates.wouldRun).toBe(false);
    expect(hd.gates.checks.map((c) => [c.gate, c.ok])).toEqual([['warmup', true], ['global_hold', false], ['listmonk', false], ['cap', true]]);
    expect(hd.gates.checks[1]!.detail).toMatch(/refusing to push: a global hold is active/);
    expect(hd.gates.checks[2]!.detail).toMatch(/LISTMONK_URL/);
    expect(hd.gates.checks[3]!.detail).toBe(`2 of 30 used for ${DATE} (2 reserved, waiting to be pushed); 28 left`);
  });

  it('a full cap with nothing left to push is the cap gate refusing, as build would', async () => {
    await insertLedger(store.db, DATE, 'new-carrier', 'pushed', 28);
    // 30 of 30 used, 2 of them reserved: a build would still push those.
    const before = await buildGates(store.db, config, DATE, NOW);
    expect(before.checks.find((c) => c.gate === 'cap')).toMatchObject({ ok: true });
    await sql`update push_ledger set status = 'pushed' where send_date = ${DATE}::date and status = 'reserved'`.execute(store.db);
    const after = await buildGates(store.db, config, DATE, NOW);
    expect(after.checks.find((c) => c.gate === 'cap')).toMatchObject({ ok: false, detail: expect.stringMatching(/^cap reached for 2026-11-28: 30 of 30 pushed/) });
  });

  it('without a warmup start: no cap on the ramp, no plan, the warmup gate refusing with what to do', async () => {
    const noStart = { ...config, warmup: { ...config.warmup, start: undefined } };
    const d = await collectReport(fxContext(store, noStart), { days: 2 });
    expect(d.ramp.map((x) => [x.cap, x.warmupDay, x.overCap])).toEqual([[null, null, false], [null, null, false]]);
    expect(d.audience).toEqual({ error: expect.stringMatching(/AUDIENCE_WARMUP_START/) });
    expect(d.header.warmup).toEqual({ error: expect.stringMatching(/AUDIENCE_WARMUP_START/) });
    expect(d.header.gates.checks.map((c) => c.gate)).toEqual(['warmup', 'global_hold', 'listmonk']);
  });
});
