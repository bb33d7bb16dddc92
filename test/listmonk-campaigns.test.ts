/**
 * Campaigns and settings through the client, against the double: created as drafts, scheduled
 * with PUT /status, idempotent by name across re-runs and lost answers, send_at in the past
 * refused clearly, and settings only read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { ListmonkApiError, ListmonkPermissionError } from '../src/listmonk/errors.ts';
import { parseGoDuration, slidingWindowPerHour, slidingWindowWarning } from '../src/listmonk/settings.ts';
import { clientFor } from './listmonk-double/client-for.ts';
import { DEFAULT_USER, ListmonkDouble, PIPELINE_PERMS } from './listmonk-double/index.ts';

let d: ListmonkDouble;
afterEach(async () => d?.stop());
/** The clock both sides read: the client (through clientFor) and the double. */
const NOW = new Date('2026-11-28T12:00:00Z');
const start = async (o: Parameters<typeof ListmonkDouble.start>[0] = {}) => (d = await ListmonkDouble.start({ now: () => NOW, ...o }));
const inHours = (h: number) => new Date(NOW.getTime() + h * 3_600_000);

async function setup(version = 'v6.2.0') {
  await start(version.startsWith('v2') || version.startsWith('v3') ? { version, admin: null } : { version });
  const c = clientFor(d);
  const list = await c.lm.ensureList('mcs150 2026-11-28');
  const input = { name: 'mcs150 2026-11-28', subject: 'Your MCS-150 is due', lists: [list.id], body: '<p>Hello {{ .Subscriber.Name }}</p>', altbody: 'Hello', send_at: inHours(5), tags: ['mcs150'] };
  return { ...c, list, input };
}

describe('campaigns', () => {
  it('ensureScheduledCampaign creates a draft then schedules it; a re-run returns the same campaign without writing', async () => {
    const { lm, input } = await setup();
    const first = await lm.ensureScheduledCampaign(input);
    expect(first.created).toBe(true);
    expect(first.campaign.status).toBe('scheduled');
    const stored = d.model.campaigns.get(first.campaign.id)!;
    expect(stored).toMatchObject({ status: 'scheduled', content_type: 'html', altbody: 'Hello', tags: ['mcs150'], send_at: input.send_at.toISOString() });
    const again = await lm.ensureScheduledCampaign(input);
    expect(again).toMatchObject({ created: false, campaign: { id: first.campaign.id, status: 'scheduled' } });
    expect(d.count('POST /api/campaigns')).toBe(1);
    expect(d.count('PUT /api/campaigns/:id/status')).toBe(1);
  });

  it('a crash between create and schedule leaves a draft that the re-run schedules (moving send_at if it changed)', async () => {
    const { lm, input } = await setup();
    const draft = await lm.createCampaign(input);
    expect(draft.status).toBe('draft');
    const later = { ...input, send_at: inHours(7) };
    const res = await lm.ensureScheduledCampaign(later);
    expect(res).toMatchObject({ created: false, campaign: { id: draft.id } });
    expect(d.model.campaigns.get(draft.id)).toMatchObject({ status: 'scheduled', send_at: later.send_at.toISOString() });
    expect(d.model.campaigns.size).toBe(1);
  });

  it('a lost create answer and a lost schedule answer do not duplicate or fail', async () => {
    const { lm, input } = await setup();
    d.faults.dropAfterHandlingNext(1, { route: /^POST \/api\/campaigns$/ });
    d.faults.dropAfterHandlingNext(1, { route: /^PUT \/api\/campaigns\/\d+\/status$/ });
    const res = await lm.ensureScheduledCampaign(input);
    expect(res.campaign.status).toBe('scheduled');
    expect(d.model.campaigns.size).toBe(1);
  });

  it('refuses a send_at in the past before calling Listmonk, and surfaces Listmonk\'s own 400', async () => {
    const { lm, input } = await setup();
    const before = d.requests.length;
    const e = await lm.ensureScheduledCampaign({ ...input, send_at: inHours(-1 / 60) }).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/not in the future.*--send-hour/);
    expect(d.requests.length).toBe(before + 1); // only the name lookup
    // A client clock behind the server's: Listmonk's 400 comes back typed, with what to check.
    const skewed = clientFor(d, {}, { now: () => new Date(0) }).lm;
    const e2 = await skewed.createCampaign({ ...input, name: 'other', send_at: inHours(-1 / 60) }).catch((x) => x);
    expect(e2).toBeInstanceOf(ListmonkApiError);
    expect(e2).toMatchObject({ status: 400, body: { message: 'Scheduled date should be in the future.' } });
    expect(e2.message).toMatch(/send_at is in the future/);
  });

  it('leaves a campaign someone cancelled or that already runs alone, and finds by exact name across pages', async () => {
    const { lm, input, list } = await setup();
    const c = d.model.addCampaign({ ...blank(list.id), name: input.name, status: 'cancelled' });
    for (let i = 0; i < 510; i++) d.model.addCampaign({ ...blank(list.id), name: `${input.name} (copy ${i})` });
    const res = await lm.ensureScheduledCampaign(input);
    expect(res).toMatchObject({ created: false, campaign: { id: c.id, status: 'cancelled' } });
    expect(d.count('POST /api/campaigns')).toBe(0);
    const scans = d.requests.filter((r) => r.method === 'GET' && r.path === '/api/campaigns');
    expect(scans.every((r) => r.query.get('no_body') === 'true')).toBe(true);
    expect(scans.map((r) => r.query.get('page'))).toEqual(['1', '2']); // the match sits on page 2 (oldest)
  });

  it('v6.1+: without campaigns:send scheduling is a ListmonkPermissionError naming it', async () => {
    const { input } = await setup();
    d.setUser({ ...DEFAULT_USER, perms: PIPELINE_PERMS.filter((p) => p !== 'campaigns:send') });
    const e = await clientFor(d).lm.ensureScheduledCampaign(input).catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkPermissionError);
    expect(e.permission).toBe('campaigns:send');
    expect([...d.model.campaigns.values()].map((c) => c.status)).toEqual(['draft']); // the re-run schedules it
  });

  it('v4 sends send_later with a send_at update', async () => {
    const { lm, input } = await setup('v4.1.0');
    const draft = await lm.createCampaign(input);
    await lm.ensureScheduledCampaign({ ...input, send_at: inHours(9) });
    const put = d.requests.find((r) => r.method === 'PUT' && r.path === `/api/campaigns/${draft.id}`)!;
    expect(put.body).toMatchObject({ send_later: true, lists: input.lists });
    expect(d.model.campaigns.get(draft.id)!.status).toBe('scheduled');
  });
});

function blank(listId: number) {
  return {
    type: 'regular',
    subject: 's',
    from_email: 'x@example.com',
    body: 'b',
    altbody: null,
    send_at: null,
    status: 'draft' as const,
    content_type: 'html',
    tags: [],
    headers: [],
    template_id: 1,
    messenger: 'email',
    lists: [{ id: listId, name: 'L' }],
  };
}

describe('settings (read-only)', () => {
  it('reads the throttling keys and warns when the window is off or faster than the hourly cap; never PUTs', async () => {
    await start();
    const { lm } = clientFor(d);
    const off = await lm.readSettings();
    expect(off).toMatchObject({ slidingWindow: false, slidingWindowDuration: '1h', slidingWindowRate: 10000, concurrency: 10, messageRate: 10 });
    expect(slidingWindowWarning(off, 150)).toMatch(/sliding window is off/);
    Object.assign(d.model.settings, { 'app.message_sliding_window': true, 'app.message_sliding_window_duration': '30m', 'app.message_sliding_window_rate': 100 });
    const on = await lm.readSettings();
    expect(slidingWindowPerHour(on)).toBe(200);
    expect(slidingWindowWarning(on, 150)).toMatch(/100 per 30m \(200\/h\), above the warmup day's hourly cap of 150\/h/);
    expect(slidingWindowWarning(on, 250)).toBeNull();
    expect(d.settingsLog.puts).toBe(0);
    expect(d.requests.some((r) => r.method === 'PUT' && r.path.startsWith('/api/settings'))).toBe(false);
  });

  it('parses Go durations', () => {
    expect(parseGoDuration('1h')).toBe(3600);
    expect(parseGoDuration('1h30m')).toBe(5400);
    expect(parseGoDuration('90s')).toBe(90);
    expect(parseGoDuration('1.5h')).toBe(5400);
    expect(parseGoDuration('soon')).toBeNull();
    expect(parseGoDuration('1x')).toBeNull();
  });
});
