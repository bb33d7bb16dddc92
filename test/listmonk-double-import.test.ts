/** Conformance of the double's importer, campaigns and settings to Listmonk's (cmd/import.go, cmd/campaigns.go, cmd/settings.go). */
import { afterEach, describe, expect, it } from 'vitest';
import { call } from './listmonk-double/call.ts';
import { COMMIT_BATCH, ListmonkDouble } from './listmonk-double/index.ts';
import { storedZip } from './listmonk-double/zip.ts';

let d: ListmonkDouble;
afterEach(async () => d?.stop());
/** The double's clock, pinned: "the future" of send_at is relative to it, not to the machine's day. */
const NOW = new Date('2026-11-28T12:00:00Z');
const start = async (o: Parameters<typeof ListmonkDouble.start>[0] = {}) => (d = await ListmonkDouble.start({ now: () => NOW, ...o }));

function importForm(csv: string | Buffer, params: Record<string, unknown>, filename = 'x.csv'): FormData {
  const f = new FormData();
  f.append('params', JSON.stringify(params));
  f.append('file', new Blob([csv]), filename);
  return f;
}
const status = async () => (await call(d.url, 'GET', '/api/import/subscribers')).body.data;
async function until(state: string[]): Promise<any> {
  for (let i = 0; i < 500; i++) {
    const s = await status();
    if (state.includes(s.status)) return s;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`import never reached ${state.join('|')}`);
}

describe('Listmonk double: import', () => {
  it('none → importing → finished; upsert semantics; blocklisted stay blocklisted; bad rows skipped; DELETE resets', async () => {
    await start();
    const l = d.model.addList({ name: 'L' });
    const old = d.model.addSubscriber({ email: 'old@example.com', name: 'Old' });
    const bad = d.model.addSubscriber({ email: 'bad@example.com', name: 'Bad' });
    d.model.blocklist(bad.id);
    expect(await status()).toEqual({ name: '', total: 0, imported: 0, status: 'none' });
    d.importer.held = true;
    const csv = '\ufeffEmail,name,attributes\nnew@example.com,New,"{""dot"":1}"\nOLD@example.com,Renamed,{}\nbad@example.com,B,{}\nnot-an-email,X,{}\nshort\n';
    const post = await call(d.url, 'POST', '/api/import/subscribers', { form: importForm(csv, { mode: 'subscribe', delim: ',', lists: [l.id], subscription_status: 'confirmed' }) });
    expect(post).toMatchObject({ status: 200, body: { data: { name: 'x.csv', imported: 0, status: 'importing' } } });
    expect((await status()).status).toBe('importing');
    // One import at a time.
    expect(await call(d.url, 'POST', '/api/import/subscribers', { form: importForm(csv, { mode: 'subscribe', delim: ',', lists: [l.id] }) })).toMatchObject({ status: 400 });
    d.importer.releaseHold();
    const done = await until(['finished']);
    expect(done).toMatchObject({ total: 5, imported: 5 });
    expect(d.model.findByEmail('new@example.com')).toMatchObject({ name: 'New', attribs: { dot: 1 }, status: 'enabled' });
    expect(d.model.findByEmail('old@example.com')!.name).toBe('Old'); // no overwrite
    expect(d.model.subscriptions.get(old.id)!.get(l.id)!.status).toBe('confirmed');
    expect(d.model.subscribers.get(bad.id)!.status).toBe('blocklisted');
    expect(d.model.subscriptions.get(bad.id)!.get(l.id)!.status).toBe('unsubscribed');
    expect(d.model.findByEmail('not-an-email')).toBeUndefined();
    expect((await call(d.url, 'GET', '/api/import/subscribers/logs')).body.data).toMatch(/skipping line 5/);
    expect((await call(d.url, 'DELETE', '/api/import/subscribers')).body.data.status).toBe('none');
  });

  it('validates params in the handler order: lists (403), mode, status, delimiter; a non-.csv name is opened as a ZIP', async () => {
    await start();
    const l = d.model.addList({ name: 'L' });
    const post = (p: Record<string, unknown>, name?: string) => call(d.url, 'POST', '/api/import/subscribers', { form: importForm('email\na@example.com\n', p, name) });
    expect(await post({ mode: 'subscribe', delim: ',', lists: [] })).toMatchObject({ status: 403, body: { message: 'Permission denied: lists' } });
    expect(await post({ mode: 'nope', delim: ',', lists: [l.id] })).toMatchObject({ status: 400, body: { message: 'Invalid mode' } });
    expect(await post({ mode: 'subscribe', delim: ',', lists: [l.id], subscription_status: 'x' })).toMatchObject({ status: 400 });
    expect(await post({ mode: 'subscribe', delim: ',,', lists: [l.id] })).toMatchObject({ status: 400, body: { message: 'Delimiter should be a single character.' } });
    const zip = await post({ mode: 'subscribe', delim: ',', lists: [l.id] }, 'subscribers.txt');
    expect(zip.status).toBe(500);
    expect(zip.body.message).toMatch(/ZIP/);
  });

  it('reads only the first .csv inside a ZIP upload', async () => {
    await start();
    const l = d.model.addList({ name: 'L' });
    const zip = storedZip([
      { name: 'readme.txt', data: 'not csv' },
      { name: 'first.csv', data: 'email\nzipped@example.com\n' },
      { name: 'second.csv', data: 'email\nignored@example.com\n' },
    ]);
    const res = await call(d.url, 'POST', '/api/import/subscribers', { form: importForm(zip, { mode: 'subscribe', delim: ',', lists: [l.id] }, 'batch.zip') });
    expect(res.status).toBe(200);
    expect(await until(['finished'])).toMatchObject({ name: 'batch.zip', total: 1, imported: 1 });
    expect(d.model.findByEmail('zipped@example.com')).toBeDefined();
    expect(d.model.findByEmail('ignored@example.com')).toBeUndefined();
  });

  it('commits in 10k batches, fails on a database error with the batch rolled back, and a DELETE while importing stops it', async () => {
    await start();
    const l = d.model.addList({ name: 'L' });
    const rows = Array.from({ length: COMMIT_BATCH + 5 }, (_, i) => `u${i}@example.com`).join('\n');
    d.importer.failAtRow = COMMIT_BATCH + 3;
    await call(d.url, 'POST', '/api/import/subscribers', { form: importForm(`email\n${rows}\n`, { mode: 'subscribe', delim: ',', lists: [l.id] }) });
    const failed = await until(['failed']);
    expect(failed).toMatchObject({ total: COMMIT_BATCH + 5, imported: COMMIT_BATCH });
    expect(d.model.subscribers.size).toBe(COMMIT_BATCH); // the second batch rolled back
    // v2.5+: a finished/failed state does not block the next import.
    d.importer.failAtRow = null;
    d.importer.held = true;
    await call(d.url, 'POST', '/api/import/subscribers', { form: importForm('email\nz@example.com\n', { mode: 'subscribe', delim: ',', lists: [l.id] }) });
    expect((await call(d.url, 'DELETE', '/api/import/subscribers')).body.data.status).toBe('stopping');
    expect((await call(d.url, 'POST', '/api/import/subscribers', { form: importForm('email\ny@example.com\n', { mode: 'subscribe', delim: ',', lists: [l.id] }) })).status).toBe(500);
    d.importer.releaseHold();
    expect((await until(['finished'])).imported).toBe(0);
  });

  it('before v2.5 a finished import blocks the next one until DELETE', async () => {
    await start({ version: 'v2.4.0', admin: null });
    const l = d.model.addList({ name: 'L' });
    const post = () => call(d.url, 'POST', '/api/import/subscribers', { auth: null, form: importForm('email\na@example.com\n', { mode: 'subscribe', delim: ',', lists: [l.id] }) });
    expect((await post()).status).toBe(200);
    await until(['finished']);
    expect(await post()).toMatchObject({ status: 500, body: { message: 'Error starting import: an import is already running' } });
    await call(d.url, 'DELETE', '/api/import/subscribers', { auth: null });
    expect((await post()).status).toBe(200);
  });
});

describe('Listmonk double: campaigns and settings', () => {
  const future = () => new Date(NOW.getTime() + 3_600_000).toISOString();

  it('creates drafts only, falls back to richtext, refuses a past send_at, unknown lists and empty names', async () => {
    await start();
    const l = d.model.addList({ name: 'L' });
    const base = { name: 'C', subject: 'S', lists: [l.id], body: '<p>hi</p>', send_at: future() };
    const c = await call(d.url, 'POST', '/api/campaigns', { json: { ...base, content_type: 'weird', status: 'scheduled' } });
    expect(c.body.data).toMatchObject({ status: 'draft', content_type: 'richtext', lists: [{ id: l.id, name: 'L' }], template_id: 1 });
    expect(await call(d.url, 'POST', '/api/campaigns', { json: { ...base, send_at: '2020-01-01T00:00:00Z' } })).toMatchObject({
      status: 400,
      body: { message: 'Scheduled date should be in the future.' },
    });
    expect((await call(d.url, 'POST', '/api/campaigns', { json: { ...base, send_at: '' } })).status).toBe(400);
    expect(await call(d.url, 'POST', '/api/campaigns', { json: { ...base, lists: [999] } })).toMatchObject({ status: 400, body: { message: 'Invalid list IDs.' } });
    expect((await call(d.url, 'POST', '/api/campaigns', { json: { ...base, name: '' } })).status).toBe(400);
  });

  it('follows the status transition table', async () => {
    await start();
    const l = d.model.addList({ name: 'L' });
    const mk = async (send_at: string | null) => (await call(d.url, 'POST', '/api/campaigns', { json: { name: 'C', subject: 'S', lists: [l.id], body: 'b', send_at } })).body.data.id as number;
    const st = (id: number, status: string) => call(d.url, 'PUT', `/api/campaigns/${id}/status`, { json: { status } });
    const noDate = await mk(null);
    expect(await st(noDate, 'scheduled')).toMatchObject({ status: 400, body: { message: 'Campaign needs a date to be scheduled.' } });
    const id = await mk(future());
    expect(await st(id, 'paused')).toMatchObject({ status: 400 });
    expect((await st(id, 'scheduled')).body.data.status).toBe('scheduled');
    expect(await st(id, 'scheduled')).toMatchObject({ status: 400, body: { message: 'Only draft or paused campaigns can be scheduled.' } });
    expect((await st(id, 'draft')).body.data.status).toBe('draft');
    expect((await st(id, 'running')).status).toBe(200);
    expect(d.model.campaigns.get(id)!.status).toBe('scheduled'); // running with send_at becomes scheduled
    expect(await st(id, 'cancelled')).toMatchObject({ status: 400 });
    expect(await call(d.url, 'PUT', `/api/campaigns/${id}`, { json: { name: 'D' } })).toMatchObject({ status: 400, body: { message: 'Invalid list IDs.' } });
  });

  it('PUT /api/campaigns/{id}: partial update with lists always required; only draft/paused/scheduled; v5+ clearing send_at unschedules', async () => {
    await start();
    const l = d.model.addList({ name: 'L' });
    const id = (await call(d.url, 'POST', '/api/campaigns', { json: { name: 'C', subject: 'S', lists: [l.id], body: 'b', send_at: future() } })).body.data.id;
    await call(d.url, 'PUT', `/api/campaigns/${id}/status`, { json: { status: 'scheduled' } });
    const upd = await call(d.url, 'PUT', `/api/campaigns/${id}`, { json: { lists: [l.id], subject: 'New' } });
    expect(upd.body.data).toMatchObject({ name: 'C', subject: 'New', status: 'scheduled' });
    expect((await call(d.url, 'PUT', `/api/campaigns/${id}`, { json: { lists: [l.id], send_at: null } })).body.data.status).toBe('draft');
    d.model.campaigns.get(id)!.status = 'running';
    expect(await call(d.url, 'PUT', `/api/campaigns/${id}`, { json: { lists: [l.id] } })).toMatchObject({ status: 400, body: { message: 'Cannot update a running or a finished campaign.' } });
  });

  it('v6.1+ needs campaigns:send to change status; GET /api/settings masks secrets; PUT /api/settings is recorded', async () => {
    await start({ users: [{ username: 'u', token: 't', perms: ['campaigns:manage_all', 'campaigns:get_all', 'lists:get_all', 'settings:get'] }] });
    const l = d.model.addList({ name: 'L' });
    const auth = 'token u:t';
    const c = await call(d.url, 'POST', '/api/campaigns', { auth, json: { name: 'C', subject: 'S', lists: [l.id], body: 'b', send_at: future() } });
    expect(await call(d.url, 'PUT', `/api/campaigns/${c.body.data.id}/status`, { auth, json: { status: 'scheduled' } })).toMatchObject({
      status: 403,
      body: { message: 'permission denied: campaigns:send' },
    });
    const s = await call(d.url, 'GET', '/api/settings', { auth });
    expect(s.body.data['app.message_sliding_window']).toBe(false);
    expect(s.body.data.smtp[0].password).toMatch(/^•+$/);
    expect(d.settingsLog.puts).toBe(0);
  });
});
