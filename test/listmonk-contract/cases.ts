/**
 * Listmonk's behaviour (not ours), as one list of cases run against the double and against a real
 * Listmonk (test/listmonk-contract.test.ts). Where the two disagree the real server is right: the
 * double and the client follow it, and CHANGELOG.md says what changed. Each case makes its own
 * lists and subscribers with unique names, so cases share one server.
 */
import { expect } from 'vitest';
import { STOPPED_BY_AUDIT_TAG } from '../../src/listmonk/campaigns.ts';
import { ListmonkPermissionError } from '../../src/listmonk/errors.ts';
import type { OptOutSighting } from '../../src/listmonk/optouts.ts';
import type { ContractTarget } from './target.ts';
import { unique } from './target.ts';

export interface ContractCase {
  name: string;
  run(t: ContractTarget): Promise<void>;
}

const email = (tag: string) => `${tag.replace(/\s+/g, '.').toLowerCase()}@contract.test`;

async function list(t: ContractTarget, name = unique('contract list')): Promise<{ id: number; uuid: string; name: string }> {
  const r = await t.call('POST', '/api/lists', { json: { name, type: 'private', optin: 'single' } });
  expect(r.status).toBe(200);
  return r.body.data;
}

async function subscriber(t: ContractTarget, lists: number[], addr = email(unique('sub'))): Promise<{ id: number; uuid: string; email: string }> {
  const r = await t.call('POST', '/api/subscribers', { json: { email: addr, name: '', status: 'enabled', lists, preconfirm_subscriptions: true } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data;
}

async function getSub(t: ContractTarget, id: number) {
  const r = await t.call('GET', `/api/subscribers/${id}`);
  expect(r.status).toBe(200);
  return r.body.data as { status: string; lists: { id: number; subscription_status: string }[]; name: string; attribs: Record<string, unknown> };
}

const statusOn = (s: { lists: { id: number; subscription_status: string }[] }, listId: number) => s.lists.find((l) => l.id === listId)?.subscription_status;

async function waitImport(t: ContractTarget, name: string): Promise<{ status: string; imported: number; total: number }> {
  for (let i = 0; i < 300; i++) {
    const st = (await t.call('GET', '/api/import/subscribers')).body.data;
    if (st.name === name && (st.status === 'finished' || st.status === 'failed')) return st;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('import did not finish');
}

function importForm(csv: string, fileName: string, params: Record<string, unknown>): FormData {
  const form = new FormData();
  form.append('params', JSON.stringify(params));
  form.append('file', new Blob([csv], { type: 'text/csv' }), fileName);
  return form;
}

export const CASES: ContractCase[] = [
  {
    name: 'lists: create answers the list (private, single opt-in, tags with spaces dashed); get by id; a missing id is 400, not 404',
    async run(t) {
      const name = unique('  contract list ');
      const r = await t.call('POST', '/api/lists', { json: { name, tags: ['audience', 'two words'] } });
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({ name, type: 'private', optin: 'single', status: 'active', tags: ['audience', 'two-words'] });
      const got = await t.call('GET', `/api/lists/${r.body.data.id}`);
      expect(got.status).toBe(200);
      expect(got.body.data).toMatchObject({ id: r.body.data.id, name });
      const missing = await t.call('GET', '/api/lists/999999');
      expect(missing.status).toBe(400);
      expect(typeof missing.body.message).toBe('string');
      const all = await t.call('GET', '/api/lists?minimal=true&per_page=all');
      expect(all.body.data.results.some((l: { id: number }) => l.id === r.body.data.id)).toBe(true);
      const c = t.client();
      expect(await c.ensureList(name)).toEqual({ id: r.body.data.id, name, created: false });
    },
  },
  {
    name: 'subscribers: create lowercases the address and derives a name; a duplicate is 409 and changes nothing',
    async run(t) {
      const l1 = await list(t);
      const l2 = await list(t);
      const addr = email(unique('Dup'));
      const created = await t.call('POST', '/api/subscribers', { json: { email: `  ${addr.toUpperCase()} `, lists: [l1.id], preconfirm_subscriptions: true } });
      expect(created.status).toBe(200);
      expect(created.body.data.email).toBe(addr);
      expect(created.body.data.name.length).toBeGreaterThan(0);
      expect(statusOn(created.body.data, l1.id)).toBe('confirmed');
      const dup = await t.call('POST', '/api/subscribers', { json: { email: addr, name: 'Other', lists: [l2.id] } });
      expect(dup.status).toBe(409);
      const after = await getSub(t, created.body.data.id);
      expect(statusOn(after, l2.id)).toBeUndefined();
      expect(after.name).toBe(created.body.data.name);
      const missing = await t.call('GET', '/api/subscribers/99999999');
      expect(missing.status).toBe(400);
    },
  },
  {
    name: 'subscribers: PUT /subscribers/lists adds with a status; the client reports created, added, already_member',
    async run(t) {
      const l1 = await list(t);
      const l2 = await list(t);
      const s = await subscriber(t, [l1.id]);
      const put = await t.call('PUT', '/api/subscribers/lists', { json: { ids: [s.id], action: 'add', target_list_ids: [l2.id], status: 'confirmed' } });
      expect(put.status).toBe(200);
      expect(put.body.data).toBe(true);
      expect(statusOn(await getSub(t, s.id), l2.id)).toBe('confirmed');
      const noIds = await t.call('PUT', '/api/subscribers/lists', { json: { ids: [], action: 'add', target_list_ids: [l2.id] } });
      expect(noIds.status).toBe(400);

      const l3 = await list(t);
      const fresh = email(unique('fresh'));
      const outcomes = await t.client().addSubscribersToList(l3.id, [{ email: fresh }, { email: s.email }]);
      expect(outcomes.map((o) => o.status)).toEqual(['created', 'added']);
      const again = await t.client().addSubscribersToList(l3.id, [{ email: fresh }, { email: s.email }]);
      expect(again.map((o) => o.status)).toEqual(['already_member', 'already_member']);
    },
  },
  {
    name: 'permissions: lists the API user may not manage are dropped silently; none left is 403; the client says which permission',
    async run(t) {
      const mine = await list(t);
      const other = await list(t);
      const limited = await t.apiUser(['subscribers:get_all', 'subscribers:manage'], { [mine.id]: ['get', 'manage'] });
      const r = await t.call('POST', '/api/subscribers', { auth: limited.auth, json: { email: email(unique('perm')), lists: [mine.id, other.id], preconfirm_subscriptions: true } });
      expect(r.status).toBe(200);
      expect(r.body.data.lists.map((l: { id: number }) => l.id)).toEqual([mine.id]);
      const none = await t.call('POST', '/api/subscribers', { auth: limited.auth, json: { email: email(unique('perm')), lists: [other.id] } });
      expect(none.status).toBe(403);
      const c = t.client({ apiUser: limited.user, apiToken: limited.token });
      await expect(c.addSubscribersToList(other.id, [{ email: email(unique('perm')) }])).rejects.toBeInstanceOf(ListmonkPermissionError);
      const visible = await t.call('GET', '/api/lists?minimal=true&per_page=all', { auth: limited.auth });
      expect(visible.body.data.results.map((l: { id: number }) => l.id)).toEqual([mine.id]);
    },
  },
  {
    name: 'import: none → importing → finished; invalid rows skipped; existing subscribers kept unless overwrite; DELETE resets to none',
    async run(t) {
      const l = await list(t);
      const existing = await subscriber(t, [], email(unique('keep')));
      await t.call('PUT', '/api/subscribers/lists', { json: { ids: [existing.id], action: 'add', target_list_ids: [l.id], status: 'unsubscribed' } });
      const idle = await t.call('DELETE', '/api/import/subscribers');
      expect(idle.status).toBe(200);
      expect(idle.body.data.status).toBe('none');
      const fresh = email(unique('imp'));
      const csv = `email,name,attributes\n${fresh},Fresh One,"{""dot"":1}"\nnot-an-email,Bad,{}\n${existing.email},Renamed,{}\n`;
      const name = `${unique('contract').replace(' ', '-')}.csv`;
      const params = { mode: 'subscribe', delim: ',', lists: [l.id], subscription_status: 'confirmed', overwrite: false };
      const started = await t.call('POST', '/api/import/subscribers', { form: importForm(csv, name, params) });
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      expect(started.body.data).toMatchObject({ name, status: 'importing' });
      const done = await waitImport(t, name);
      expect(done.status).toBe('finished');
      expect(done.total).toBe(3);
      const logs = await t.call('GET', '/api/import/subscribers/logs');
      expect(typeof logs.body.data).toBe('string');
      const members = new Map((await t.client().getListMembers(l.id)).map((m) => [m.email, m]));
      expect(members.get(fresh)).toMatchObject({ name: 'Fresh One', attribs: { dot: 1 } });
      expect(statusOn(members.get(fresh)!, l.id)).toBe('confirmed');
      // Not overwritten: the name stays, and the unsubscribed subscription stays unsubscribed.
      expect((await getSub(t, existing.id)).name).not.toBe('Renamed');
      expect(statusOn(members.get(existing.email)!, l.id)).toBe('unsubscribed');
      const reset = await t.call('DELETE', '/api/import/subscribers');
      expect(reset.body.data.status).toBe('none');
      // Anything not named .csv is opened as a ZIP.
      const zipped = await t.call('POST', '/api/import/subscribers', { form: importForm(csv, 'not-a-zip.txt', params) });
      if (zipped.status === 200) expect((await waitImport(t, 'not-a-zip.txt')).status).toBe('failed');
      else expect(zipped.status).toBeGreaterThanOrEqual(400);
      await t.call('DELETE', '/api/import/subscribers');

      // The client's import reports what the list shows.
      const l2 = await list(t);
      const outcomes = await t.client().importSubscribersToList(l2.id, [{ email: fresh }, { email: existing.email }]);
      expect(outcomes.map((o) => o.status)).toEqual(['added', 'added']);
    },
  },
  {
    name: 'import: overwrite renames existing subscribers but keeps subscription statuses unless asked (v6 split)',
    async run(t) {
      const l = await list(t);
      const s = await subscriber(t, [], email(unique('ow')));
      await t.call('PUT', '/api/subscribers/lists', { json: { ids: [s.id], action: 'add', target_list_ids: [l.id], status: 'unsubscribed' } });
      const name = `${unique('ow').replace(' ', '-')}.csv`;
      const csv = `email,name\n${s.email},New Name\n`;
      const r = await t.call('POST', '/api/import/subscribers', {
        form: importForm(csv, name, { mode: 'subscribe', delim: ',', lists: [l.id], subscription_status: 'confirmed', overwrite_userinfo: true, overwrite_subscription_status: false }),
      });
      expect(r.status).toBe(200);
      expect((await waitImport(t, name)).status).toBe('finished');
      await t.call('DELETE', '/api/import/subscribers');
      const after = await getSub(t, s.id);
      expect(after.name).toBe('New Name');
      expect(statusOn(after, l.id)).toBe('unsubscribed');
    },
  },
  {
    name: 'blocklist: PUT /subscribers/blocklist blocklists and unsubscribes every list; the client blocklists by address',
    async run(t) {
      const l1 = await list(t);
      const l2 = await list(t);
      const s = await subscriber(t, [l1.id, l2.id]);
      const r = await t.call('PUT', '/api/subscribers/blocklist', { json: { ids: [s.id] } });
      expect(r.status).toBe(200);
      const after = await getSub(t, s.id);
      expect(after.status).toBe('blocklisted');
      expect([statusOn(after, l1.id), statusOn(after, l2.id)]).toEqual(['unsubscribed', 'unsubscribed']);
      const empty = await t.call('PUT', '/api/subscribers/blocklist', { json: { ids: [] } });
      expect(empty.status).toBe(400);
      const other = await subscriber(t, [l1.id]);
      const res = await t.client().blocklistEmails([other.email, s.email, email(unique('nobody'))]);
      expect(res.blocklisted).toEqual([other.email]);
      expect(res.alreadyBlocklisted).toEqual([s.email]);
      expect(res.unknown.length).toBe(1);
      // A blocklisted subscriber pushed to a list is reported, not re-enabled.
      const l3 = await list(t);
      expect((await t.client().addSubscribersToList(l3.id, [{ email: s.email }]))[0]!.status).toBe('blocklisted');
    },
  },
  {
    name: 'unsubscribe from one list: PUT /subscribers/lists action unsubscribe leaves the subscriber and its other lists alone; idempotent',
    async run(t) {
      const l1 = await list(t);
      const l2 = await list(t);
      const s = await subscriber(t, [l1.id, l2.id]);
      const keep = await subscriber(t, [l2.id]);
      await t.client().unsubscribeFromList(l2.id, [s.id]);
      const after = await getSub(t, s.id);
      expect(after.status).toBe('enabled');
      expect([statusOn(after, l1.id), statusOn(after, l2.id)]).toEqual(['confirmed', 'unsubscribed']);
      expect(statusOn(await getSub(t, keep.id), l2.id)).toBe('confirmed');
      // Again: nothing changes, no error (a re-run after a lost answer).
      await t.client().unsubscribeFromList(l2.id, [s.id]);
      expect(statusOn(await getSub(t, s.id), l2.id)).toBe('unsubscribed');
      // No ids is Listmonk's 400; the client sends nothing then.
      expect((await t.call('PUT', '/api/subscribers/lists', { json: { ids: [], action: 'unsubscribe', target_list_ids: [l2.id] } })).status).toBe(400);
      await t.client().unsubscribeFromList(l2.id, []);
    },
  },
  {
    name: 'opt-out read-back: subscription_status filters only with list_id; one row per matching subscription; sql query needs its permission',
    async run(t) {
      const l1 = await list(t);
      const l2 = await list(t);
      const unsub = await subscriber(t, [l1.id, l2.id]);
      const blocked = await subscriber(t, [l1.id, l2.id]);
      const kept = await subscriber(t, [l1.id, l2.id]);
      await t.call('PUT', '/api/subscribers/lists', { json: { ids: [unsub.id], action: 'unsubscribe', target_list_ids: [l1.id] } });
      await t.call('PUT', '/api/subscribers/blocklist', { json: { ids: [blocked.id] } });

      const one = await t.call('GET', `/api/subscribers?list_id=${l1.id}&subscription_status=unsubscribed&per_page=100`);
      expect(one.status).toBe(200);
      expect(one.body.data.results.map((s: { id: number }) => s.id).sort()).toEqual([unsub.id, blocked.id].sort());
      const both = await t.call('GET', `/api/subscribers?list_id=${l1.id}&list_id=${l2.id}&subscription_status=unsubscribed&per_page=100`);
      // blocked is unsubscribed on both lists: it comes once per subscription.
      expect(both.body.data.results.map((s: { id: number }) => s.id).sort()).toEqual([unsub.id, blocked.id, blocked.id].sort());
      const ignored = await t.call('GET', `/api/subscribers?subscription_status=unsubscribed&per_page=all`);
      expect(ignored.body.data.results.some((s: { id: number }) => s.id === kept.id)).toBe(true);
      // Pages are as large as asked (no cap at 50), and the answer says what it applied.
      const big = await t.call('GET', `/api/subscribers?list_id=${l1.id}&per_page=500`);
      expect(big.body.data.per_page).toBe(500);

      const q = encodeURIComponent("subscribers.status='blocklisted'");
      const refused = await t.call('GET', `/api/subscribers?query=${q}&per_page=all`);
      expect(refused.status).toBe(403);
      const sql = await t.apiUser(['subscribers:get_all', 'subscribers:sql_query', 'lists:get_all']);
      const allowed = await t.call('GET', `/api/subscribers?query=${q}&per_page=all`, { auth: sql.auth });
      expect(allowed.status).toBe(200);
      const ids = allowed.body.data.results.map((s: { id: number }) => s.id);
      expect(ids).toContain(blocked.id);
      expect(ids).not.toContain(unsub.id);

      for (const who of [undefined, sql] as const) {
        const sightings: OptOutSighting[] = [];
        const c = who ? t.client({ apiUser: who.user, apiToken: who.token }) : t.client();
        const read = await c.readOptOuts({ listIds: [l1.id, l2.id], onSightings: (s) => void sightings.push(...s), perPage: 1 });
        expect(read.blocklistedEverywhere).toBe(Boolean(who));
        const mine = sightings.filter((s) => [unsub.id, blocked.id, kept.id].includes(s.subscriberId));
        expect(mine.map((s) => [s.email, s.kind, s.listId]).sort()).toEqual(
          [
            [unsub.email, 'unsubscribed', l1.id],
            [blocked.email, 'blocklisted', null],
          ].sort(),
        );
      }
    },
  },
  {
    name: "a recipient's unsubscribe click unsubscribes the campaign's lists only",
    async run(t) {
      const l1 = await list(t);
      const l2 = await list(t);
      const s = await subscriber(t, [l1.id, l2.id]);
      const camp = await t.call('POST', '/api/campaigns', { json: { name: unique('click'), subject: 'Hi', lists: [l1.id], content_type: 'html', body: '<p>x</p>' } });
      expect(camp.status).toBe(200);
      expect(await t.unsubscribeClick(camp.body.data.uuid, s.uuid)).toBe(200);
      const after = await getSub(t, s.id);
      expect([after.status, statusOn(after, l1.id), statusOn(after, l2.id)]).toEqual(['enabled', 'unsubscribed', 'confirmed']);
    },
  },
  {
    name: 'campaigns: created as a draft with send_at and altbody, then scheduled; a past send_at is 400; the client is idempotent',
    async run(t) {
      const l = await list(t);
      const now = await t.now();
      const sendAt = new Date(now.getTime() + 3 * 86_400_000);
      sendAt.setUTCMilliseconds(0);
      const name = unique('campaign');
      const r = await t.call('POST', '/api/campaigns', {
        json: { name, subject: 'Your MCS-150', lists: [l.id], type: 'regular', content_type: 'html', body: '<p>Hello {{ .Subscriber.Name }}</p>', altbody: 'Hello', send_at: sendAt.toISOString(), messenger: 'email', tags: ['audience'] },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.data).toMatchObject({ name, status: 'draft', altbody: 'Hello', lists: [{ id: l.id, name: l.name }] });
      expect(new Date(r.body.data.send_at).getTime()).toBe(sendAt.getTime());
      const s = await t.call('PUT', `/api/campaigns/${r.body.data.id}/status`, { json: { status: 'scheduled' } });
      expect(s.status).toBe(200);
      expect(s.body.data.status).toBe('scheduled');
      expect((await t.call('GET', `/api/campaigns/${r.body.data.id}`)).body.data.status).toBe('scheduled');
      const past = await t.call('POST', '/api/campaigns', { json: { name: unique('past'), subject: 'x', lists: [l.id], body: 'x', send_at: new Date(now.getTime() - 3_600_000).toISOString() } });
      expect(past.status).toBe(400);
      const input = { name: unique('ensured'), subject: 'S', lists: [l.id], body: '<p>b</p>', altbody: 'b', send_at: sendAt };
      const first = await t.client({}, () => now).ensureScheduledCampaign(input);
      const second = await t.client({}, () => now).ensureScheduledCampaign(input);
      expect([first.created, second.created, second.campaign.id, second.campaign.status]).toEqual([true, false, first.campaign.id, 'scheduled']);
    },
  },
  {
    name: 'campaigns: only a running campaign can be paused; the client pauses idempotently',
    async run(t) {
      const l = await list(t);
      const draft = await t.call('POST', '/api/campaigns', { json: { name: unique('pause'), subject: 'P', lists: [l.id], content_type: 'html', body: '<p>p</p>' } });
      const id = draft.body.data.id;
      const notRunning = await t.call('PUT', `/api/campaigns/${id}/status`, { json: { status: 'paused' } });
      expect(notRunning.status).toBe(400);
      const running = await t.call('PUT', `/api/campaigns/${id}/status`, { json: { status: 'running' } });
      expect(running.status).toBe(200);
      const paused = await t.client().pauseCampaign(id);
      expect(paused.status).toBe('paused');
      expect((await t.client().pauseCampaign(id)).status).toBe('paused');
    },
  },
  {
    name: 'campaigns: status filter pages through scheduled ones only; scheduled → draft keeps send_at; draft → draft is 400; the client stops by status',
    async run(t) {
      const l = await list(t);
      const now = await t.now();
      const sendAt = new Date(now.getTime() + 2 * 86_400_000);
      sendAt.setUTCMilliseconds(0);
      const make = async (schedule: boolean) => {
        const r = await t.call('POST', '/api/campaigns', { json: { name: unique('stop'), subject: 'S', lists: [l.id], content_type: 'html', body: '<p>s</p>', send_at: sendAt.toISOString() } });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        if (schedule) expect((await t.call('PUT', `/api/campaigns/${r.body.data.id}/status`, { json: { status: 'scheduled' } })).status).toBe(200);
        return r.body.data.id as number;
      };
      const scheduled = [await make(true), await make(true), await make(true)];
      const draft = await make(false);
      // Pages of 2, newest first: every scheduled campaign once, nothing else.
      const listed = await t.client().listCampaigns({ statuses: ['scheduled', 'running'], perPage: 2 });
      expect(listed.every((c) => c.status === 'scheduled' || c.status === 'running')).toBe(true);
      expect(new Set(listed.map((c) => c.id)).size).toBe(listed.length);
      for (const id of scheduled) expect(listed.map((c) => c.id)).toContain(id);
      expect(listed.map((c) => c.id)).not.toContain(draft);
      const one = listed.find((c) => c.id === scheduled[0])!;
      expect(one).toMatchObject({ type: 'regular', lists: [{ id: l.id, name: l.name }] });

      const back = await t.call('PUT', `/api/campaigns/${scheduled[0]}/status`, { json: { status: 'draft' } });
      expect(back.status).toBe(200);
      const got = (await t.call('GET', `/api/campaigns/${scheduled[0]}`)).body.data;
      expect(got.status).toBe('draft');
      expect(new Date(got.send_at).getTime()).toBe(sendAt.getTime());
      expect((await t.call('PUT', `/api/campaigns/${draft}/status`, { json: { status: 'draft' } })).status).toBe(400);
      expect((await t.call('PUT', `/api/campaigns/${scheduled[1]}/status`, { json: { status: 'paused' } })).status).toBe(400);

      const c = t.client();
      expect(await c.stopCampaign(scheduled[1]!)).toMatchObject({ from: 'scheduled', action: 'unscheduled', campaign: { status: 'draft' } });
      expect(await c.stopCampaign(scheduled[1]!)).toMatchObject({ from: 'draft', action: 'not_active' });
      // The stop marks the draft (tag) keeping its send_at and lists, and a build's ensure leaves it a draft.
      const marked = (await t.call('GET', `/api/campaigns/${scheduled[1]}`)).body.data;
      expect(marked.tags).toContain(STOPPED_BY_AUDIT_TAG);
      expect(new Date(marked.send_at).getTime()).toBe(sendAt.getTime());
      expect(marked.lists.map((x: { id: number }) => x.id)).toEqual([l.id]);
      const ensured = await c.ensureScheduledCampaign({ name: marked.name, subject: 'S', lists: [l.id], body: '<p>s</p>', send_at: sendAt });
      expect(ensured).toMatchObject({ created: false, stoppedByAudit: true, campaign: { status: 'draft' } });
      expect((await c.unscheduleCampaign(scheduled[2]!)).status).toBe('draft');
      expect((await c.unscheduleCampaign(scheduled[2]!)).status).toBe('draft');
    },
  },
  {
    name: "lists: GET /lists/{id} answers the opt-in type; members are read page by page with each subscription's status",
    async run(t) {
      const r = await t.call('POST', '/api/lists', { json: { name: unique('double'), type: 'private', optin: 'double' } });
      expect(r.status).toBe(200);
      const l = r.body.data as { id: number };
      const subs = [await subscriber(t, [l.id]), await subscriber(t, [l.id]), await subscriber(t, [l.id])];
      await t.call('PUT', '/api/subscribers/lists', { json: { ids: [subs[1]!.id], action: 'add', target_list_ids: [l.id], status: 'unconfirmed' } });
      await t.call('PUT', '/api/subscribers/lists', { json: { ids: [subs[2]!.id], action: 'unsubscribe', target_list_ids: [l.id] } });
      const c = t.client();
      expect(await c.getList(l.id)).toMatchObject({ id: l.id, optin: 'double' });
      expect(await c.getList(99_999_999)).toBeNull();
      const seen = new Map<number, string | undefined>();
      const read = await c.eachListMemberPage(l.id, (rows) => void rows.forEach((s) => seen.set(s.id, s.lists.find((x) => x.id === l.id)?.subscription_status)), 2);
      expect(read.requests).toBeGreaterThanOrEqual(2);
      expect(Object.fromEntries(seen)).toEqual({ [subs[0]!.id]: 'confirmed', [subs[1]!.id]: 'unconfirmed', [subs[2]!.id]: 'unsubscribed' });
    },
  },
  {
    name: 'settings: GET masks every secret; entries sharing a uuid are refused; once retyped, a sliding-window write keeps every secret (by mask length) and is a no-op when unchanged',
    async run(t) {
      const admin = await t.apiUser(['settings:get', 'settings:manage', 'subscribers:import']);
      const c = t.client({ apiUser: admin.user, apiToken: admin.token });
      const get = async () => (await t.call('GET', '/api/settings', { auth: admin.auth })).body.data as Record<string, unknown>;
      const before = await get();
      for (const k of ['app.message_sliding_window', 'app.message_sliding_window_duration', 'app.message_sliding_window_rate']) expect(before).toHaveProperty(k);
      const smtp = before.smtp as { uuid?: string; password?: string }[];
      expect(smtp.length).toBeGreaterThan(0);
      const allMasked = (v: unknown) => v === undefined || (typeof v === 'string' && /^\u2022*$/.test(v));
      expect(smtp.every((e) => allMasked(e.password))).toBe(true);
      for (const path of V62_SECRETS) expect(allMasked(at(before, path)), path.join('.')).toBe(true);

      const uuids = smtp.map((e) => e.uuid ?? '');
      if (new Set(uuids).size < uuids.length) {
        // A fresh install's two SMTP servers have no uuid: written back, both would get the second's password.
        await expect(c.writeSlidingWindow({ enabled: true, duration: '1h', rate: 137 })).rejects.toMatchObject({ gate: 'listmonk-settings', message: expect.stringMatching(/smtp entries #1, #2 share the uuid/) });
        expect(await get()).toEqual(before);
      }

      // What the refusal asks of the operator: every password typed again, saved once.
      const typed = blankMasks(structuredClone(before));
      (typed.smtp as { password: string }[]).forEach((e, i) => (e.password = `smtp-secret-${'x'.repeat(i * 3)}${i}`));
      for (const e of (typed['bounce.mailboxes'] as { password: string }[] | undefined) ?? []) e.password = 'mailbox-secret-value';
      V62_SECRETS.forEach((path, i) => put(typed, path, `secret-${i}-${'y'.repeat(i)}`));
      const saved = await t.call('PUT', '/api/settings', { auth: admin.auth, json: typed });
      expect(saved.status, JSON.stringify(saved.body)).toBe(200);
      await restarted(t);
      const retyped = await get();
      const masks = maskLengths(retyped);
      // A typed password shows as as many dots as it has characters.
      expect(masks).toEqual(maskLengths(typed));
      expect(new Set((retyped.smtp as { uuid: string }[]).map((e) => e.uuid)).size).toBe(smtp.length);

      const want = { enabled: true, duration: '1h', rate: 137 };
      const w = await c.writeSlidingWindow(want);
      expect(w).toMatchObject({ changed: true, needsRestart: false, after: want });
      const after = await get();
      expect(maskLengths(after)).toEqual(masks);
      const strip = (d: Record<string, unknown>) => {
        const { ['app.message_sliding_window']: _a, ['app.message_sliding_window_duration']: _b, ['app.message_sliding_window_rate']: _c, ...rest } = d;
        return rest;
      };
      expect(strip(after)).toEqual(strip(retyped));
      expect((await c.writeSlidingWindow(want)).changed).toBe(false);
      expect(await c.readRestartPending()).toBe(false);
      // The server answers the pipeline user again after its restart.
      expect((await t.call('GET', '/api/lists?minimal=true&per_page=all')).status).toBe(200);
      expect((await t.client().readSettings()).slidingWindowRate).toBe(137);
    },
  },
];

/** The secrets v6.2 hides besides the list entries' passwords (cmd/settings.go GetSettings). */
const V62_SECRETS: string[][] = [
  ['upload.s3.aws_secret_access_key'],
  ['bounce.sendgrid_key'],
  ['bounce.azure', 'shared_secret'],
  ['bounce.postmark', 'password'],
  ['bounce.forwardemail', 'key'],
  ['bounce.lettermint', 'key'],
  ['security.captcha', 'hcaptcha', 'secret'],
  ['security.oidc', 'client_secret'],
];

function at(doc: Record<string, unknown>, path: string[]): unknown {
  let cur: unknown = doc;
  for (const k of path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return cur;
}

function put(doc: Record<string, unknown>, path: string[], value: string): void {
  let cur = doc;
  for (const k of path.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  cur[path[path.length - 1]!] = value;
}

/** What the admin's form does before saving: a mask means "unchanged", sent as "". */
function blankMasks<T>(v: T): T {
  if (typeof v === 'string') return (/^\u2022+$/.test(v) ? '' : v) as T;
  if (Array.isArray(v)) return v.map(blankMasks) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, blankMasks(x)])) as T;
  return v;
}

/** Every secret's mask length: a secret kept (not lost, not swapped with another's) keeps its length. */
function maskLengths(doc: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['smtp', 'bounce.mailboxes']) ((doc[k] as { password?: string }[] | undefined) ?? []).forEach((e, i) => (out[`${k}#${i}`] = [...(e.password ?? '')].length));
  for (const p of V62_SECRETS) out[p.join('.')] = [...String(at(doc, p) ?? '')].length;
  return out;
}

/** Listmonk re-execs itself about 0.5 s after a settings write: wait for it to go and come back. */
async function restarted(t: ContractTarget): Promise<void> {
  const up = () => fetch(`${t.url}/health`).then((r) => (void r.arrayBuffer(), r.status === 200), () => false);
  const started = Date.now();
  while (Date.now() - started < 4_000 && (await up())) await new Promise((r) => setTimeout(r, 50));
  while (!(await up())) {
    if (Date.now() - started > 30_000) throw new Error('Listmonk did not come back after the settings write');
    await new Promise((r) => setTimeout(r, 100));
  }
}
