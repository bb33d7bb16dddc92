/**
 * `audience audit-listmonk [--pause]` against the Listmonk double and the project's rules on both
 * backends: who each scheduled or running campaign would mail (blocklisted, unsubscribed and, on
 * double opt-in lists, unconfirmed members are not mailed), which of them the rules exclude now
 * (census addresses by every rule, unknown ones on the address alone), the day's total against the
 * warmup cap, what is offending, and that only --pause changes anything. Clock pinned at NOW; every
 * date is computed from it.
 */
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listmonkAudit } from '../src/audit/stage.ts';
import { renderAudit, type AuditSummary } from '../src/audit/summary.ts';
import { ConfigError, FindingsError } from '../src/errors.ts';
import { STOPPED_BY_AUDIT_TAG } from '../src/listmonk/campaigns.ts';
import { recordOptOuts } from '../src/optouts/record.ts';
import { addDays, localDate, zonedTime } from '../src/warmup/calendar.ts';
import { addHold, addSuppression, doubleClient, fxConfig, fxContext, NOW, seedUniverse, startDouble } from './build-fixture.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { DEFAULT_USER, PIPELINE_PERMS, type ListmonkDouble } from './listmonk-double/index.ts';
import type { CampaignRow, CampaignStatus, ListRow, SubscriptionStatus } from './listmonk-double/model.ts';

const TZ = 'America/Chicago';
const TODAY = localDate(NOW, TZ);
const at = (days: number, hour: number) => zonedTime(addDays(TODAY, days), hour, TZ).toISOString();
const HOUR = 3_600_000;

const CLEAN = Array.from({ length: 8 }, (_, i) => `clean${i}@good.test`);
const KNOWN = [
  ...CLEAN,
  'y@yahoo.com',
  'bounced@good.test',
  'opted@good.test',
  'postmaster@good.test',
  'hosted@yhost.test',
  'held@gco.test',
  'a@suppdom.test',
  'dead@deaddom.test',
  'unconfirmed@deaddom.test',
  'blocked@yahoo.com',
  'gone@yahoo.com',
];

async function seedRules(store: TestStore): Promise<void> {
  await seedUniverse(
    store.db,
    KNOWN.map((e, i) => ({ dot: 1000 + i, emails: [e] })),
    { 'deaddom.test': { verdict: 'dead' }, 'yhost.test': { provider: 'yahoo' }, 'gco.test': { provider: 'google' } },
  );
  await addSuppression(store.db, 'address', 'bounced@good.test');
  await addSuppression(store.db, 'domain', 'suppdom.test');
  await addHold(store.db, 'provider', 'google', new Date(NOW.getTime() + 48 * HOUR));
  await recordOptOuts(store.db, [{ email: 'opted@good.test', subscriberId: 99, kind: 'unsubscribed', listId: 77, listName: 'audience mcs150 earlier' }], { source: 'sync', runId: 0, now: NOW });
}

class Fx {
  constructor(readonly lm: ListmonkDouble) {}
  list(name: string, optin: 'single' | 'double' = 'single', members: [string, SubscriptionStatus?, 'blocklisted'?][] = []): ListRow {
    const m = this.lm.model;
    const l = m.addList({ name, optin });
    for (const [email, status, blocklisted] of members) {
      const s = m.findByEmail(email) ?? m.addSubscriber({ email, name: email });
      m.subscribe(s.id, l.id, status ?? 'confirmed');
      if (blocklisted) m.blocklist(s.id);
    }
    return l;
  }
  campaign(name: string, lists: ListRow[], status: CampaignStatus, sendAt: string | null, extra: Partial<CampaignRow> = {}): CampaignRow {
    const c = this.lm.model.addCampaign({
      type: 'regular',
      name,
      subject: 's',
      from_email: 'f@firm.test',
      body: 'b',
      altbody: null,
      send_at: sendAt,
      status: status === 'running' ? 'draft' : status,
      content_type: 'html',
      tags: [],
      headers: [],
      template_id: 1,
      messenger: 'email',
      lists: lists.map((l) => ({ id: l.id, name: l.name })),
      ...extra,
    });
    if (status === 'running') this.lm.model.start(c);
    return c;
  }
}

async function audit(store: TestStore, lm: ListmonkDouble, o: { pause?: boolean; dailyCap?: number; start?: string } = {}): Promise<{ summary: AuditSummary; error: FindingsError | null }> {
  const config = fxConfig({ listmonk: { version: 'auto' }, ...(o.start ? { warmup: { start: o.start, ramp: [{ fromDay: 0, hourly: 10, daily: o.dailyCap ?? 100 }] } } : {}) }, o.dailyCap ?? 100);
  try {
    const summary = await listmonkAudit(fxContext(store, config), { pause: Boolean(o.pause), listmonk: doubleClient(lm, config) });
    return { summary, error: null };
  } catch (e) {
    if (!(e instanceof FindingsError)) throw e;
    return { summary: e.summary as AuditSummary, error: e };
  }
}

const writes = (lm: ListmonkDouble) => lm.requests.filter((r) => r.method !== 'GET');

describe('audit-listmonk', () => {
  let store: TestStore;
  let lm: ListmonkDouble | null = null;
  beforeAll(async () => {
    store = await createTestStore();
    await seedRules(store);
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(async () => {
    await sql`truncate build_lists, runs restart identity`.execute(store.db);
  });
  afterEach(async () => {
    await lm?.stop();
    lm = null;
  });

  it('judges every recipient with the build rules, ours or not, and changes nothing without --pause (exit 1: offending)', async () => {
    lm = await startDouble({ admin: null });
    const fx = new Fx(lm);
    const mcs = fx.list('audience mcs150 ' + addDays(TODAY, 1), 'single', [
      ['clean0@good.test'],
      ['y@yahoo.com'],
      ['bounced@good.test', 'unconfirmed'],
      ['opted@good.test'],
      ['postmaster@good.test'],
      ['blocked@yahoo.com', 'confirmed', 'blocklisted'],
      ['gone@yahoo.com', 'unsubscribed'],
    ]);
    const news = fx.list('Newsletter', 'double', [
      ['hosted@yhost.test'],
      ['stranger@aol.com'],
      ['held@gco.test'],
      ['a@suppdom.test'],
      ['dead@deaddom.test'],
      ['unconfirmed@deaddom.test', 'unconfirmed'],
    ]);
    const other = fx.list('Other', 'single', [['clean1@good.test'], ['someone@unchecked.test'], ['Clean0@Good.test']]);
    const ours = fx.campaign('audience mcs150 ' + addDays(TODAY, 1), [mcs], 'scheduled', at(1, 9));
    const foreign = fx.campaign('November newsletter', [news], 'scheduled', at(0, 14));
    const clean = fx.campaign('Other news', [other, mcs], 'scheduled', at(2, 10), { type: 'optin' });
    fx.campaign('a draft', [news], 'draft', at(1, 9));
    await sql`insert into build_lists (send_date, segment, list_id, list_name, campaign_id) values (${addDays(TODAY, 1)}::date, 'mcs150', ${mcs.id}, ${mcs.name}, ${ours.id})`.execute(store.db);

    const { summary: s, error } = await audit(store, lm);
    expect(error?.exitCode).toBe(1);
    expect(error?.message).toMatch(/2 offending campaign\(s\) in Listmonk: .*Nothing was changed; run `audience audit-listmonk --pause`/);
    expect(s.campaigns.map((c) => c.id)).toEqual([foreign.id, ours.id, clean.id]);
    const byId = new Map(s.campaigns.map((c) => [c.id, c]));

    // Ours: blocklisted and unsubscribed members are not mailed; an unconfirmed one on a single opt-in list is.
    expect(byId.get(ours.id)).toMatchObject({
      status: 'scheduled',
      sendDay: addDays(TODAY, 1),
      madeByAudience: true,
      segment: 'mcs150',
      recipients: 5,
      volume: 5,
      unknownToUs: 0,
      excluded: 3,
      excludedBy: { yahoo_family: 1, suppressed_address: 1, opted_out: 1 },
      otherReasons: { role_account: 1 },
      offending: true,
      why: ['excluded_members'],
      action: null,
      lists: [{ id: mcs.id, optin: 'single', members: 7, subscribers: 7, recipients: 5, missing: false }],
    });
    expect(byId.get(ours.id)!.samples.map((x) => [x.email, x.reasons.map((r) => r.code)])).toEqual([
      ['bounced@good.test', ['suppressed_address']],
      ['opted@good.test', ['opted_out']],
      ['y@yahoo.com', ['yahoo_family']],
    ]);
    expect(byId.get(ours.id)!.samples[1]!.reasons[0]!.detail).toMatch(/unsubscribed in Listmonk from list "audience mcs150 earlier"/);

    // Not ours, double opt-in: the unconfirmed member is not mailed; an address we never saw is judged on itself.
    expect(byId.get(foreign.id)).toMatchObject({
      madeByAudience: false,
      sendDay: TODAY,
      recipients: 5,
      unknownToUs: 1,
      excluded: 5,
      excludedBy: { yahoo_family: 2, mx_dead: 1, suppressed_domain: 1, provider_hold: 1 },
      why: ['excluded_members'],
    });
    expect(byId.get(foreign.id)!.samples.find((x) => x.email === 'stranger@aol.com')).toMatchObject({ knownToUs: false, reasons: [{ code: 'yahoo_family' }] });

    // An optin campaign mails only unconfirmed members of double opt-in lists: none here.
    expect(byId.get(clean.id)).toMatchObject({ recipients: 0, excluded: 0, offending: false, why: [] });
    expect(s.days).toEqual([
      { date: TODAY, warmupDay: 8, dailyCap: 100, campaigns: 1, campaignsVolume: 5, sentToday: 0, total: 5, overCap: false },
      { date: addDays(TODAY, 1), warmupDay: 9, dailyCap: 100, campaigns: 1, campaignsVolume: 5, sentToday: 0, total: 5, overCap: false },
      { date: addDays(TODAY, 2), warmupDay: 10, dailyCap: 100, campaigns: 1, campaignsVolume: 0, sentToday: 0, total: 0, overCap: false },
    ]);
    expect(s).toMatchObject({ command: 'audit-listmonk', date: TODAY, pause: false, offending: 2, stopped: [], notStopped: [], offendingCodes: ['yahoo_family', 'suppressed_address', 'suppressed_domain', 'opted_out', 'mx_dead', 'provider_hold'] });

    // Nothing was written to Listmonk; the run is in the ledger with its findings.
    expect(writes(lm)).toEqual([]);
    expect([...lm.model.campaigns.values()].map((c) => c.status)).toEqual(['scheduled', 'scheduled', 'scheduled', 'draft']);
    const run = await store.db.selectFrom('runs').selectAll().where('stage', '=', 'audit-listmonk').executeTakeFirstOrThrow();
    expect(run).toMatchObject({ status: 'failed', error: error!.message });
    expect(run.counts).toMatchObject({ offending: 2, stopped: [] });
  });

  it('a mailing of mostly unknown or unchecked addresses is not offending: mx_unknown and role mailboxes are shown, not counted (exit 0)', async () => {
    lm = await startDouble();
    const fx = new Fx(lm);
    const l = fx.list('Other', 'single', [['clean1@good.test'], ['someone@unchecked.test'], ['postmaster@good.test']]);
    const c = fx.campaign('Other news', [l], 'scheduled', at(2, 10));
    const { summary: s, error } = await audit(store, lm);
    expect(error).toBeNull();
    expect(s.campaigns).toMatchObject([{ id: c.id, recipients: 3, unknownToUs: 1, excluded: 0, excludedBy: {}, otherReasons: { mx_unknown: 1, role_account: 1 }, offending: false }]);
    expect((await store.db.selectFrom('runs').select('status').where('stage', '=', 'audit-listmonk').executeTakeFirstOrThrow()).status).toBe('ok');
  });

  it("sums each send day over its campaigns (a running one's remainder, what stopped ones sent today) against that day's cap", async () => {
    lm = await startDouble();
    const fx = new Fx(lm);
    const three = fx.list('three', 'single', CLEAN.slice(0, 3).map((e) => [e]));
    const two = fx.list('two', 'single', CLEAN.slice(3, 5).map((e) => [e]));
    const six = fx.list('six', 'single', CLEAN.slice(0, 6).map((e) => [e]));
    const runningToday = fx.campaign('running today', [three], 'running', null);
    const sinceYesterday = fx.campaign('running since yesterday', [six], 'running', null, {});
    Object.assign(sinceYesterday, { to_send: 10, sent: 8, started_at: new Date(NOW.getTime() - 20 * HOUR).toISOString() });
    fx.campaign('finished this morning', [three], 'finished', null, { sent: 3, started_at: new Date(NOW.getTime() - 2 * HOUR).toISOString() });
    fx.campaign('finished yesterday', [six], 'finished', null, { sent: 6, started_at: new Date(NOW.getTime() - 30 * HOUR).toISOString() });
    const t1 = fx.campaign('tomorrow a', [three], 'scheduled', at(1, 9));
    const t2 = fx.campaign('tomorrow b', [two], 'scheduled', at(1, 15));
    const big = fx.campaign('in two days', [six], 'scheduled', at(2, 9));
    // A send_at already past: the scheduler starts it now, so it is today's.
    const late = fx.campaign('late', [two], 'scheduled', new Date(NOW.getTime() - 60_000).toISOString());

    const { summary: s, error } = await audit(store, lm, { dailyCap: 5 });
    expect(s.days).toEqual([
      { date: TODAY, warmupDay: 8, dailyCap: 5, campaigns: 3, campaignsVolume: 3 + 2 + 2, sentToday: 3, total: 10, overCap: true },
      { date: addDays(TODAY, 1), warmupDay: 9, dailyCap: 5, campaigns: 2, campaignsVolume: 5, sentToday: 0, total: 5, overCap: false },
      { date: addDays(TODAY, 2), warmupDay: 10, dailyCap: 5, campaigns: 1, campaignsVolume: 6, sentToday: 0, total: 6, overCap: true },
    ]);
    expect(s.sentToday).toEqual({ campaigns: 1, sent: 3 });
    const offending = s.campaigns.filter((c) => c.offending).map((c) => c.id).sort((a, b) => a - b);
    expect(offending).toEqual([runningToday.id, sinceYesterday.id, big.id, late.id].sort((a, b) => a - b));
    expect(s.campaigns.find((c) => c.id === big.id)!.why).toEqual(['day_over_cap']);
    expect(s.campaigns.filter((c) => [t1.id, t2.id].includes(c.id)).every((c) => !c.offending)).toBe(true);
    expect(error?.message).toMatch(/4 offending campaign\(s\)/);
  });

  it('a day before the warmup start has a cap of 0: any campaign on it is offending', async () => {
    lm = await startDouble();
    const fx = new Fx(lm);
    const c = fx.campaign('too early', [fx.list('one', 'single', [['clean0@good.test']])], 'scheduled', at(1, 9));
    const { summary: s } = await audit(store, lm, { start: addDays(TODAY, 3), dailyCap: 50 });
    expect(s.days).toEqual([{ date: addDays(TODAY, 1), warmupDay: -2, dailyCap: 0, campaigns: 1, campaignsVolume: 1, sentToday: 0, total: 1, overCap: true }]);
    expect(s.campaigns).toMatchObject([{ id: c.id, offending: true, why: ['day_over_cap'] }]);
  });

  it('a global (DKIM) hold makes every scheduled campaign offending, clean or not; --pause stops them', async () => {
    lm = await startDouble();
    const fx = new Fx(lm);
    const c = fx.campaign('clean tomorrow', [fx.list('one', 'single', [['clean0@good.test']])], 'scheduled', at(1, 9));
    await addHold(store.db, 'global', null, new Date(NOW.getTime() + 48 * HOUR));
    try {
      const { summary: s, error } = await audit(store, lm, { pause: true });
      expect(s.globalHold).toMatchObject({ reason: 'dkim_coverage' });
      expect(s.campaigns).toMatchObject([{ id: c.id, offending: true, why: ['global_hold'], action: 'unscheduled' }]);
      expect(lm.model.campaigns.get(c.id)!.status).toBe('draft');
      expect(error).not.toBeNull();
      expect(renderAudit(s)).toContain('GLOBAL HOLD (dkim_coverage)');
    } finally {
      await sql`delete from holds where scope = 'global'`.execute(store.db);
    }
  });

  for (const version of ['v2.1.0', 'v3.0.0', 'v4.1.0', 'v5.1.0', 'v6.2.0'])
    it(`${version}: --pause pauses the running offender, takes the scheduled one back to draft, leaves the clean one; a re-run is clean`, async () => {
      lm = await startDouble({ version, admin: null });
      const fx = new Fx(lm);
      const dirty = fx.list('dirty', 'single', [['clean0@good.test'], ['y@yahoo.com']]);
      const ok = fx.list('ok', 'single', [['clean1@good.test']]);
      const running = fx.campaign('running dirty', [dirty], 'running', null);
      const scheduled = fx.campaign('scheduled dirty', [dirty], 'scheduled', at(1, 9));
      const clean = fx.campaign('scheduled clean', [ok], 'scheduled', at(1, 10));

      const { summary: s, error } = await audit(store, lm, { pause: true });
      expect(error?.exitCode).toBe(1);
      expect(error?.message).toMatch(new RegExp(`Stopped: #${running.id}, #${scheduled.id}|Stopped: #${scheduled.id}, #${running.id}`));
      expect(Object.fromEntries(s.campaigns.map((c) => [c.id, c.action]))).toEqual({ [running.id]: 'paused', [scheduled.id]: 'unscheduled', [clean.id]: null });
      expect([...lm.model.campaigns.values()].map((c) => [c.id, c.status])).toEqual([
        [running.id, 'paused'],
        [scheduled.id, 'draft'],
        [clean.id, 'scheduled'],
      ]);
      // The scheduled one, now a draft, is marked so that a build re-run of its date leaves it alone;
      // its send_at and lists are kept.
      expect(writes(lm).map((r) => `${r.method} ${r.path}`).sort()).toEqual(
        [`PUT /api/campaigns/${running.id}/status`, `PUT /api/campaigns/${scheduled.id}/status`, `PUT /api/campaigns/${scheduled.id}`].sort(),
      );
      const held = lm.model.campaigns.get(scheduled.id)!;
      expect(held.tags).toContain(STOPPED_BY_AUDIT_TAG);
      expect(new Date(held.send_at!).getTime()).toBe(new Date(at(1, 9)).getTime());
      expect(held.lists.map((l) => l.id)).toEqual([dirty.id]);
      expect(lm.model.campaigns.get(running.id)!.tags).not.toContain(STOPPED_BY_AUDIT_TAG);
      expect(s.stopped.sort()).toEqual([running.id, scheduled.id].sort());

      const again = await audit(store, lm, { pause: true });
      expect(again.error).toBeNull();
      expect(again.summary.campaigns.map((c) => c.id)).toEqual([clean.id]);
      expect(writes(lm)).toHaveLength(3);

      // What a build re-run of that date asks for: its campaign by name, ensured scheduled. The
      // audit's draft stays a draft, and the answer says why.
      const lmc = doubleClient(lm, fxConfig());
      const ensured = await lmc.ensureScheduledCampaign({ name: held.name, subject: 's', lists: [dirty.id], body: 'b', content_type: 'html', send_at: new Date(at(1, 9)) });
      expect(ensured).toMatchObject({ created: false, stoppedByAudit: true });
      expect(lm.model.campaigns.get(scheduled.id)!.status).toBe('draft');
      expect(writes(lm)).toHaveLength(3);
    });

  it('a stop Listmonk refuses is reported per campaign and the others are still stopped', async () => {
    lm = await startDouble({ users: [{ ...DEFAULT_USER, perms: PIPELINE_PERMS.filter((p) => p !== 'campaigns:send') }] });
    const fx = new Fx(lm);
    const c = fx.campaign('dirty', [fx.list('dirty', 'single', [['y@yahoo.com']])], 'scheduled', at(1, 9));
    const { summary: s, error } = await audit(store, lm, { pause: true });
    expect(s.campaigns[0]).toMatchObject({ id: c.id, action: 'failed', actionError: expect.stringMatching(/campaigns:send/) });
    expect(s.notStopped).toEqual([c.id]);
    expect(error?.message).toMatch(/NOT stopped: #\d+ .*campaigns:send/);
    expect(lm.model.campaigns.get(c.id)!.status).toBe('scheduled');
  });

  it('wrong credentials and missing read permissions are configuration (exit 2)', async () => {
    lm = await startDouble({ users: [{ ...DEFAULT_USER, perms: PIPELINE_PERMS.filter((p) => p !== 'lists:get_all' && p !== 'lists:manage_all') }] });
    const fx = new Fx(lm);
    fx.campaign('dirty', [fx.list('dirty', 'single', [['y@yahoo.com']])], 'scheduled', at(1, 9));
    const denied = await audit(store, lm).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ConfigError);
    expect(denied).toMatchObject({ exitCode: 2, message: expect.stringMatching(/grant it to the user's role/) });
    lm.setUser({ ...DEFAULT_USER, token: 'not-the-token' });
    await expect(audit(store, lm)).rejects.toMatchObject({ exitCode: 2, phase: 'config' });
  });
});
