/**
 * `plan` and `status` on a known universe: the ramp ahead with each day's eligible audience from
 * the build's own engine, and status reading the ledger and the bounce scrub's tables.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../src/reports/stage.ts';
import { segmentBuild } from '../src/push/stage.ts';
import { renderStatus, status } from '../src/reports/stage.ts';
import { daysOfAudience } from '../src/reports/plan.ts';
import { SafetyGateError } from '../src/errors.ts';
import { addHold, addSuppression, DATE, doubleClient, fxConfig, fxContext, NOW, seedUniverse, startDouble } from './build-fixture.ts';
import { ListmonkDouble } from './listmonk-double/index.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

describe('plan and status', () => {
  let store: TestStore;
  let lm: ListmonkDouble;
  beforeAll(async () => {
    store = await createTestStore();
    lm = await startDouble();
    await seedUniverse(
      store.db,
      [
        ...Array.from({ length: 6 }, (_, i) => ({ dot: 1001 + i * 10, emails: [`o${i}@mesa-trucking.test`] })),
        { dot: 2001, emails: ['g@roadrunner-freight.test'] },
        { dot: 2011, emails: ['gone@mesa-trucking.test'] },
        // Added 2026-11-10: in new-carrier (30 days) until 2026-12-09 only.
        { dot: 5001, emails: ['new@cascade-moving.test'], added: '2026-11-10', mcs150: '2026-11-10' },
      ],
      { 'roadrunner-freight.test': { provider: 'google' } },
    );
    await addSuppression(store.db, 'address', 'gone@mesa-trucking.test');
    await addHold(store.db, 'provider', 'google', new Date(NOW.getTime() + 2 * 86_400_000));
  });
  afterAll(async () => {
    await lm.stop();
    await store.close();
  });

  it('plans the ramp with the eligible audience of each day', async () => {
    const config = fxConfig({ warmup: { start: '2026-11-27', ramp: [{ fromDay: 0, hourly: 1, daily: 2 }, { fromDay: 2, hourly: 1, daily: 3 }] } });
    const p = await plan(fxContext(store, config), { days: 14 });
    expect(p.from).toBe(DATE);
    expect(p.days).toHaveLength(14);
    expect(p.days.slice(0, 3).map((d) => [d.date, d.warmupDay, d.daily])).toEqual([
      ['2026-11-28', 1, 2],
      ['2026-11-29', 2, 3],
      ['2026-11-30', 3, 3],
    ]);
    // 6 mesa carriers (the suppressed one and the held google one are not eligible) + the new carrier.
    expect(p.days[0]!.eligible).toEqual({ mcs150: 6, 'new-carrier': 1 });
    expect(p.days.find((d) => d.date === '2026-12-10')!.eligible['new-carrier']).toBe(0);
    expect(p.eligibleToday).toBe(7);
    // 2 + 3 + 3 >= 7: three days of audience at this ramp.
    expect(p.daysOfAudienceLeft).toBe(3);
  });

  it('computes days of audience by walking the ramp, and refuses without a warmup start', async () => {
    const config = fxConfig({}, 500);
    expect(daysOfAudience(config, 0, 0)).toBe(0);
    expect(daysOfAudience(config, 0, 1000)).toBe(2);
    expect(daysOfAudience(config, 0, 1001)).toBe(3);
    const noStart = { ...config, warmup: { ...config.warmup, start: undefined } };
    await expect(plan(fxContext(store, noStart), { days: 3 })).rejects.toThrow(SafetyGateError);
  });

  it("status shows today's cap use, lists, holds, DKIM coverage, delivery mix, suppressions and last runs", async () => {
    const config = fxConfig({}, 4);
    await segmentBuild(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    await sql`insert into maillog_daily_health (day, sent, deferred, bounced, expired, own_domain_failed, campaign_messages, dkim_signed, by_class, stale)
      values ('2026-11-27', 90, 5, 3, 1, 2, 80, 76, '{"recipient_invalid": 2, "reputation_block": 1}', false),
             ('2026-11-10', 500, 0, 0, 0, 0, 100, 100, '{}', false)`.execute(store.db);
    const s = await status(fxContext(store, config));
    expect(s.date).toBe(DATE);
    expect(s.warmup).toEqual({ start: '2026-11-20', source: 'date 2026-11-20', day: 8, dailyCap: 4, hourlyCap: 1 });
    expect(s.today).toMatchObject({ pushed: 4, reserved: 0, failed: 0, remaining: 0 });
    expect(s.today.lists.map((l) => l.segment)).toContain('mcs150');
    expect(s.holds).toEqual([expect.objectContaining({ scope: 'provider', provider: 'google', reason: 'reputation_block' })]);
    expect(s.dkimCoverage).toEqual({ campaignMessages: 80, signed: 76, ratio: 0.95, minimum: 0.95, ok: true });
    expect(s.deliveryMix).toMatchObject({ from: '2026-11-22', to: DATE, sent: 90, bounced: 3, ownDomainFailed: 2, byClass: { recipient_invalid: 2, reputation_block: 1 } });
    expect(s.suppressions).toMatchObject({ address: 1, domain: 0 });
    expect(s.lastRuns.find((r) => r.stage === 'build')?.status).toBe('ok');
  });

  it('status shows each stream apart: volume, delivery mix and DKIM coverage, a silent mapped stream, and other mail', async () => {
    const config = fxConfig({ maillog: { campaignClients: { '172.18.0.5': 'trucking', '172.18.0.25': 'healthcare', '172.18.0.30': 'spare' }, dkimMinMessages: 20 } });
    await sql`insert into maillog_sent_counts (day, transport, stream, own_domain, sent) values
      ('2026-11-27', 'postfix/out05/smtp', 'trucking', false, 400), ('2026-11-26', 'postfix/out06/smtp', 'trucking', false, 100),
      ('2026-11-27', 'postfix/out05/smtp', 'healthcare', false, 50), ('2026-11-27', 'postfix/smtp', '', false, 7),
      ('2026-11-27', 'postfix/local', '', true, 700), ('2026-11-01', 'postfix/out05/smtp', 'healthcare', false, 999)`.execute(store.db);
    const ev = (stream: string | null, status: string, cls: string, own = false) =>
      sql`(${'2026-11-27T15:00:00Z'}::timestamptz, '2026-11-27', 'app1', 'postfix/out05/smtp', 'Q1', 'r@b.test', 'b.test', ${status}, ${cls}, 'x', ${stream}, ${own}, 1, 1, 1)`;
    await sql`insert into delivery_events (ts, day, host, transport, qid, recipient, domain, status, class, reason, stream, own_domain, file_id, line_no, run_id)
      values ${sql.join([ev('trucking', 'deferred', 'transient_network'), ev('trucking', 'bounced', 'recipient_invalid'), ev('healthcare', 'bounced', 'reputation_block'),
        ev('healthcare', 'bounced', 'reputation_block'), ev(null, 'expired', 'expired'), ev(null, 'bounced', 'recipient_invalid', true)])}`.execute(store.db);
    await sql`insert into maillog_stream_daily (day, stream, campaign_messages, dkim_signed) values
      ('2026-11-27', 'trucking', 402, 401), ('2026-11-26', 'trucking', 100, 100), ('2026-11-27', 'healthcare', 52, 0), ('2026-11-27', 'listmonk', 3, 3)`.execute(store.db);
    const s = await status(fxContext(store, config));
    expect(s.streams).toEqual([
      { stream: 'healthcare', clients: ['172.18.0.25'], sent: 50, deferred: 0, bounced: 2, expired: 0, byClass: { reputation_block: 2 }, dkim: { campaignMessages: 52, signed: 0, ratio: 0, ok: false } },
      // Header-marked campaign mail from a client missing from campaignClients; too few messages to judge.
      { stream: 'listmonk', clients: [], sent: 0, deferred: 0, bounced: 0, expired: 0, byClass: {}, dkim: { campaignMessages: 3, signed: 3, ratio: 1, ok: null } },
      { stream: 'spare', clients: ['172.18.0.30'], sent: 0, deferred: 0, bounced: 0, expired: 0, byClass: {}, dkim: { campaignMessages: 0, signed: 0, ratio: null, ok: null } },
      {
        stream: 'trucking',
        clients: ['172.18.0.5'],
        sent: 500,
        deferred: 1,
        bounced: 1,
        expired: 0,
        byClass: { transient_network: 1, recipient_invalid: 1 },
        dkim: { campaignMessages: 502, signed: 501, ratio: 0.998, ok: true },
      },
      // Mail from no campaign client; the firm's own local mail is left out, as in the delivery mix.
      { stream: null, clients: [], sent: 7, deferred: 0, bounced: 0, expired: 1, byClass: { expired: 1 }, dkim: null },
    ]);
    const text = renderStatus(s);
    expect(text).toMatch(/healthcare \(172\.18\.0\.25\): 50 sent, 0 deferred, 2 bounced, 0 expired; DKIM 0\.0% of 52 — BELOW MINIMUM/);
    expect(text).toMatch(/other mail \(no campaign client\): 7 sent/);
  });

  it('status reports a missing warmup start instead of refusing', async () => {
    const config = fxConfig();
    const s = await status(fxContext(store, { ...config, warmup: { ...config.warmup, start: undefined } }));
    expect(s.warmup).toEqual({ error: expect.stringMatching(/AUDIENCE_WARMUP_START/) });
    expect(s.today.remaining).toBeNull();
  });
});
