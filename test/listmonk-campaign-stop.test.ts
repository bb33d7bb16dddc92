/**
 * What `audit-listmonk` asks of Listmonk's campaigns, on every generation the client supports:
 * campaigns by status page by page, and stopping one by its status (running → paused, scheduled →
 * draft; the same transitions on every version, knadh/listmonk UpdateCampaignStatus), through
 * refusals when the campaign moved meanwhile, lost answers, and the v6.1 `campaigns:send` permission.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ListmonkPermissionError } from '../src/listmonk/errors.ts';
import { clientFor } from './listmonk-double/client-for.ts';
import { DEFAULT_USER, ListmonkDouble, PIPELINE_PERMS } from './listmonk-double/index.ts';
import type { CampaignRow, CampaignStatus } from './listmonk-double/model.ts';

let d: ListmonkDouble;
afterEach(async () => d?.stop());
const NOW = new Date('2026-11-28T12:00:00Z');
const inHours = (h: number) => new Date(NOW.getTime() + h * 3_600_000).toISOString();
const STATUS = /^PUT \/api\/campaigns\/\d+\/status$/;

async function start(version: string, perms = PIPELINE_PERMS) {
  d = await ListmonkDouble.start({ now: () => NOW, version, admin: null, users: [{ ...DEFAULT_USER, perms: [...perms] }] });
  return clientFor(d).lm;
}

function campaign(status: CampaignStatus, sendAt: string | null = inHours(3)): CampaignRow {
  const list = d.model.lists.get(1) ?? d.model.addList({ name: 'l' });
  const c = d.model.addCampaign({ type: 'regular', name: `c ${d.model.campaigns.size + 1}`, subject: 's', from_email: 'a@b.test', body: 'b', altbody: null, send_at: sendAt, status: 'draft', content_type: 'html', tags: [], headers: [], template_id: 1, messenger: 'email', lists: [{ id: list.id, name: list.name }] });
  if (status === 'running') d.model.start(c);
  else c.status = status;
  return c;
}

const VERSIONS = ['v2.1.0', 'v2.5.1', 'v3.0.0', 'v4.1.0', 'v5.1.0', 'v6.0.0', 'v6.2.0'];

describe.each(VERSIONS)('Listmonk %s campaigns for the audit', (version) => {
  it('lists scheduled and running campaigns over several pages, each once, with their counts', async () => {
    const lm = await start(version);
    const want = [campaign('scheduled'), campaign('running'), campaign('scheduled'), campaign('running'), campaign('scheduled')];
    for (const s of ['draft', 'paused', 'finished', 'cancelled'] as const) campaign(s);
    const got = await lm.listCampaigns({ statuses: ['scheduled', 'running'], perPage: 2 });
    expect(got.map((c) => c.id).sort((a, b) => a - b)).toEqual(want.map((c) => c.id));
    expect(d.requests.filter((r) => r.route === 'GET /api/campaigns').every((r) => r.query.getAll('status').join() === 'scheduled,running' && r.query.get('no_body') === 'true')).toBe(true);
    expect(got.find((c) => c.status === 'running')).toMatchObject({ to_send: 0, sent: 0, started_at: NOW.toISOString() });
  });

  it('stops by status: running → paused, scheduled → draft (send_at kept), anything else untouched', async () => {
    const lm = await start(version);
    const running = campaign('running');
    const scheduled = campaign('scheduled');
    const draft = campaign('draft');
    const finished = campaign('finished');
    expect(await lm.stopCampaign(running.id)).toMatchObject({ from: 'running', action: 'paused', campaign: { status: 'paused' } });
    expect(await lm.stopCampaign(scheduled.id)).toMatchObject({ from: 'scheduled', action: 'unscheduled', campaign: { status: 'draft' } });
    expect(d.model.campaigns.get(scheduled.id)).toMatchObject({ status: 'draft', send_at: inHours(3) });
    expect(await lm.stopCampaign(draft.id)).toMatchObject({ from: 'draft', action: 'not_active' });
    expect(await lm.stopCampaign(finished.id)).toMatchObject({ from: 'finished', action: 'not_active' });
    expect(d.count('PUT /api/campaigns/:id/status')).toBe(2);
  });

  it('a scheduled campaign that starts between the read and the write is paused instead; a lost answer is a success', async () => {
    const lm = await start(version);
    const moving = campaign('scheduled', inHours(0.01));
    // Its send_at comes as the PUT arrives: the scheduler starts it, so Listmonk refuses draft (400).
    const get = d.model.campaigns.get.bind(d.model.campaigns);
    let reads = 0;
    d.model.campaigns.get = (id: number) => {
      const c = get(id);
      if (c && id === moving.id && ++reads === 2) d.model.start(c);
      return c;
    };
    expect(await lm.stopCampaign(moving.id)).toMatchObject({ from: 'scheduled', action: 'paused', campaign: { status: 'paused' } });
    expect(d.requests.filter((r) => STATUS.test(`${r.method} ${r.path}`)).map((r) => [(r.body as { status: string }).status, r.status])).toEqual([
      ['draft', 400],
      ['paused', 200],
    ]);

    // The draft is written, its answer lost; the retried PUT is refused (already a draft): stopped all the same.
    const lost = campaign('scheduled');
    d.faults.dropAfterHandlingNext(1, { route: STATUS });
    expect(await lm.stopCampaign(lost.id)).toMatchObject({ from: 'scheduled', action: 'unscheduled', campaign: { status: 'draft' } });
  });
});

describe('campaigns:send (v6.1+)', () => {
  it('without it a stop is refused with the permission to grant; v6.0 needs campaigns:manage_all only', async () => {
    const perms = PIPELINE_PERMS.filter((p) => p !== 'campaigns:send');
    let lm = await start('v6.1.0', perms);
    const c = campaign('scheduled');
    await expect(lm.stopCampaign(c.id)).rejects.toMatchObject({ constructor: ListmonkPermissionError, permission: 'campaigns:send' });
    expect(d.model.campaigns.get(c.id)!.status).toBe('scheduled');
    await d.stop();
    lm = await start('v6.0.0', perms);
    expect(await lm.stopCampaign(campaign('scheduled').id)).toMatchObject({ action: 'unscheduled' });
  });
});
