/**
 * Conformance of the Listmonk test double to Listmonk's API: every documented status
 * and quirk, called raw (no client in between), so the client tests stand on a faithful server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { basicAuth, call, tokenAuth } from './listmonk-double/call.ts';
import { ListmonkDouble, PIPELINE_PERMS } from './listmonk-double/index.ts';

let d: ListmonkDouble;
afterEach(async () => d?.stop());
const start = async (o: Parameters<typeof ListmonkDouble.start>[0] = {}) => (d = await ListmonkDouble.start(o));

describe('Listmonk double: wire conventions', () => {
  it('answers 200 {data} on success, {message} errors, 400 for not found, 404 JSON for unknown /api routes, HTML 404 elsewhere, 405', async () => {
    await start();
    const ok = await call(d.url, 'GET', '/api/lists?minimal=true&per_page=all');
    expect(ok).toMatchObject({ status: 200, body: { data: [] } }); // the empty-array quirk
    expect(await call(d.url, 'GET', '/api/subscribers/999')).toMatchObject({ status: 400, body: { message: 'Subscriber not found' } });
    expect(await call(d.url, 'GET', '/api/lists/999')).toMatchObject({ status: 400 });
    expect(await call(d.url, 'GET', '/api/campaigns/999')).toMatchObject({ status: 400, body: { message: 'Campaign not found.' } });
    expect(await call(d.url, 'GET', '/api/nope')).toMatchObject({ status: 404, body: { message: '404 unknown endpoint' } });
    const html = await call(d.url, 'GET', '/webhooks/bounce');
    expect(html.status).toBe(404);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    // The docs' POST for the blocklist route is a 405: the route is PUT.
    expect(await call(d.url, 'POST', '/api/subscribers/1/blocklist')).toMatchObject({ status: 405 });
    expect(await call(d.url, 'PATCH', '/api/lists')).toMatchObject({ status: 405, body: { message: 'Method Not Allowed' } });
    expect(await call(d.url, 'GET', '/api/subscribers/abc')).toMatchObject({ status: 400, body: { message: 'Invalid ID(s)' } });
  });

  it('refuses a JSON body without a JSON content type (415) and malformed JSON (400)', async () => {
    await start();
    expect(await call(d.url, 'POST', '/api/lists', { body: '{"name":"x"}', headers: { 'Content-Type': 'text/plain' } })).toMatchObject({ status: 415, body: { message: 'Unsupported Media Type' } });
    expect(await call(d.url, 'POST', '/api/lists', { body: '{"name":', headers: { 'Content-Type': 'application/json; charset=utf-8' } })).toMatchObject({ status: 400 });
  });

  it('pages with page/per_page (default 20, no upper bound, per_page=all → per_page 0) and lowercase order only', async () => {
    await start();
    const l = d.model.addList({ name: 'L' });
    for (let i = 0; i < 45; i++) {
      const s = d.model.addSubscriber({ email: `u${String(i).padStart(2, '0')}@example.com`, name: `U${i}` });
      d.model.subscribe(s.id, l.id, 'confirmed');
    }
    const p1 = await call(d.url, 'GET', '/api/subscribers');
    expect(p1.body.data).toMatchObject({ total: 45, page: 1, per_page: 20 });
    expect(p1.body.data.results).toHaveLength(20);
    expect(p1.body.data.results[0].email).toBe('u44@example.com'); // default id desc
    const p3 = await call(d.url, 'GET', '/api/subscribers?page=3&per_page=20');
    expect(p3.body.data.results).toHaveLength(5);
    const all = await call(d.url, 'GET', '/api/subscribers?per_page=all');
    expect(all.body.data).toMatchObject({ total: 45, per_page: 0 });
    expect(all.body.data.results).toHaveLength(45);
    const big = await call(d.url, 'GET', '/api/subscribers?per_page=5000');
    expect(big.body.data.results).toHaveLength(45);
    const asc = await call(d.url, 'GET', '/api/subscribers?order_by=email&order=asc&per_page=1');
    expect(asc.body.data.results[0].email).toBe('u00@example.com');
    const upper = await call(d.url, 'GET', '/api/subscribers?order_by=email&order=ASC&per_page=1');
    expect(upper.body.data.results[0].email).toBe('u44@example.com'); // ASC silently means desc
  });

  it('answers an empty campaign page with page 0 and per_page 0, and minimal lists as a PageResults once lists exist', async () => {
    await start();
    expect((await call(d.url, 'GET', '/api/campaigns')).body.data).toEqual({ results: [], total: 0, page: 0, per_page: 0 });
    d.model.addList({ name: 'a' });
    const lists = await call(d.url, 'GET', '/api/lists?minimal=true&per_page=all');
    expect(lists.body.data).toMatchObject({ total: 1, page: 1, per_page: 1 });
    expect(lists.body.data.results[0].name).toBe('a');
  });
});

describe('Listmonk double: lists', () => {
  it('creates with defaults and normalised tags, 500 on a bad enum, untrimmed names; pages, filters by tag and counts subscribers', async () => {
    await start();
    const c = await call(d.url, 'POST', '/api/lists', { json: { name: ' spaced ', tags: ['a b', 'c'] } });
    expect(c.body.data).toMatchObject({ name: ' spaced ', type: 'private', optin: 'single', status: 'active', tags: ['a-b', 'c'], subscriber_count: 0 });
    expect((await call(d.url, 'POST', '/api/lists', { json: { name: 'x', type: 'secret' } })).status).toBe(500);
    expect(await call(d.url, 'POST', '/api/lists', { json: { name: '' } })).toMatchObject({ status: 400, body: { message: 'Invalid name' } });
    for (let i = 0; i < 25; i++) d.model.addList({ name: `n${i}`, tags: i % 2 ? ['odd'] : [] });
    const s = d.model.addSubscriber({ email: 'a@example.com', name: 'A' });
    d.model.subscribe(s.id, c.body.data.id, 'confirmed');
    const p1 = await call(d.url, 'GET', '/api/lists?order_by=name&order=asc');
    expect(p1.body.data).toMatchObject({ total: 26, page: 1, per_page: 20 });
    expect(p1.body.data.results[0]).toMatchObject({ name: ' spaced ', subscriber_count: 1, subscriber_statuses: { confirmed: 1 } });
    expect((await call(d.url, 'GET', '/api/lists?tag=odd&per_page=all')).body.data.total).toBe(12);
  });

  it('filters lists by the user\'s get permission (no guard on GET /api/lists)', async () => {
    await start({ users: [{ username: 'u', token: 't', perms: [], lists: { 2: ['get'] } }] });
    d.model.addList({ name: 'one' });
    d.model.addList({ name: 'two' });
    const r = await call(d.url, 'GET', '/api/lists?minimal=true&per_page=all', { auth: tokenAuth('u', 't') });
    expect(r.body.data.results.map((l: any) => l.name)).toEqual(['two']);
    expect(await call(d.url, 'POST', '/api/lists', { auth: tokenAuth('u', 't'), json: { name: 'x' } })).toMatchObject({ status: 403, body: { message: 'permission denied: lists:manage_all' } });
  });
});

describe('Listmonk double: auth by version', () => {
  it('v4+: token and Basic user:token work; bad credentials, unknown schemes, no header are 403 JSON; a session cookie overrides the header', async () => {
    await start({ version: 'v5.1.0' });
    expect((await call(d.url, 'GET', '/api/config')).body.data.version).toBe('v5.1.0');
    expect((await call(d.url, 'GET', '/api/config', { auth: basicAuth('audience', 'test-token-0123456789') })).status).toBe(200);
    expect(await call(d.url, 'GET', '/api/config', { auth: tokenAuth('audience', 'wrong') })).toMatchObject({ status: 403, body: { message: 'invalid API credentials' } });
    expect(await call(d.url, 'GET', '/api/config', { auth: 'Bearer abc' })).toMatchObject({ status: 403, body: { message: 'code=400, message=unknown Authorization scheme' } });
    expect(await call(d.url, 'GET', '/api/config', { auth: 'Token audience:test-token-0123456789' })).toMatchObject({ status: 403 }); // case-sensitive
    expect(await call(d.url, 'GET', '/api/config', { auth: null })).toMatchObject({ status: 403, body: { message: 'invalid session' } });
    expect(await call(d.url, 'GET', '/api/config', { headers: { Cookie: 'session=abc' } })).toMatchObject({ status: 403, body: { message: 'invalid session' } });
    expect((await call(d.url, 'GET', '/health', { auth: null })).body).toEqual({ data: true });
  });

  it('v4+: a missing permission is 403 "permission denied: <perm>"; the Super Admin bypasses it', async () => {
    await start({ version: 'v6.2.0', users: [{ username: 'ro', token: 't', perms: ['lists:get_all'] }, { username: 'root', token: 'r', superAdmin: true }] });
    expect(await call(d.url, 'POST', '/api/subscribers', { auth: tokenAuth('ro', 't'), json: { email: 'a@example.com' } })).toMatchObject({
      status: 403,
      body: { message: 'permission denied: subscribers:manage' },
    });
    expect((await call(d.url, 'POST', '/api/subscribers', { auth: tokenAuth('root', 'r'), json: { email: 'a@example.com' } })).status).toBe(200);
  });

  it('≤ v3: Basic with the config admin; 401 with WWW-Authenticate otherwise (the token scheme too); no auth when no admin', async () => {
    await start({ version: 'v3.0.0', admin: { username: 'admin', password: 'pw' } });
    expect((await call(d.url, 'GET', '/api/config', { auth: basicAuth('admin', 'pw') })).body.data.version).toBe('v3.0.0');
    const tok = await call(d.url, 'GET', '/api/config', { auth: 'token admin:pw' });
    expect(tok).toMatchObject({ status: 401, body: { message: 'Unauthorized' } });
    expect(tok.headers.get('www-authenticate')).toBe('basic realm=Restricted');
    await d.stop();
    await start({ version: 'v2.5.1', admin: null });
    expect((await call(d.url, 'GET', '/api/config', { auth: null })).status).toBe(200);
  });

  it('/api/about answers without the {data} envelope', async () => {
    await start();
    expect((await call(d.url, 'GET', '/api/about')).body).toMatchObject({ version: 'v6.2.0' });
  });
});

describe('Listmonk double: subscribers', () => {
  it('creates with trimmed lowercase e-mail, derives the name, preconfirms; 409 on a case-insensitive duplicate and changes nothing', async () => {
    await start();
    const l1 = d.model.addList({ name: 'one' });
    const l2 = d.model.addList({ name: 'two' });
    const c = await call(d.url, 'POST', '/api/subscribers', { json: { email: '  John.Doe@Example.COM ', lists: [l1.id, 999], preconfirm_subscriptions: true } });
    expect(c.status).toBe(200);
    expect(c.body.data).toMatchObject({ email: 'john.doe@example.com', name: 'John Doe', status: 'enabled' });
    expect(c.body.data.lists.map((x: any) => [x.id, x.subscription_status])).toEqual([[l1.id, 'confirmed']]); // 999 ignored
    const dup = await call(d.url, 'POST', '/api/subscribers', { json: { email: 'JOHN.DOE@example.com', lists: [l2.id] } });
    expect(dup).toMatchObject({ status: 409, body: { message: 'E-mail already exists.' } });
    expect([...d.model.subscriptions.get(c.body.data.id)!.keys()]).toEqual([l1.id]);
    expect(await call(d.url, 'POST', '/api/subscribers', { json: { email: 'Name <x@example.com>' } })).toMatchObject({ status: 400, body: { message: 'Invalid email.' } });
    expect((await call(d.url, 'POST', '/api/subscribers', { json: { email: 'y@example.com', status: 'bogus' } })).status).toBe(500);
  });

  it('v2.0–2.1 answer a duplicate with 200 and the existing row, lists untouched', async () => {
    await start({ version: 'v2.1.0', admin: null });
    const l = d.model.addList({ name: 'one' });
    const first = await call(d.url, 'POST', '/api/subscribers', { auth: null, json: { email: 'a@example.com' } });
    const again = await call(d.url, 'POST', '/api/subscribers', { auth: null, json: { email: 'a@example.com', lists: [l.id] } });
    expect(again.status).toBe(200);
    expect(again.body.data.id).toBe(first.body.data.id);
    expect(again.body.data.lists).toEqual([]);
  });

  it('drops lists the user may not manage silently, and answers 403 "Permission denied: lists" when none is left', async () => {
    await start({ users: [{ username: 'u', token: 't', perms: ['subscribers:manage', 'subscribers:get_all'], lists: { 1: ['get', 'manage'], 2: ['get'] } }] });
    d.model.addList({ name: 'managed' });
    d.model.addList({ name: 'readonly' });
    const auth = tokenAuth('u', 't');
    const r = await call(d.url, 'POST', '/api/subscribers', { auth, json: { email: 'a@example.com', lists: [1, 2] } });
    expect(r.status).toBe(200);
    expect(r.body.data.lists.map((x: any) => x.id)).toEqual([1]);
    expect(await call(d.url, 'POST', '/api/subscribers', { auth, json: { email: 'b@example.com', lists: [2] } })).toMatchObject({ status: 403, body: { message: 'Permission denied: lists' } });
    expect(d.model.findByEmail('b@example.com')).toBeUndefined();
  });

  it('PUT /api/subscribers/lists: add with status, keep status when omitted, 400s, 403 for unmanageable targets, {id} form still needs ids', async () => {
    await start();
    const l = d.model.addList({ name: 'one' });
    const s = d.model.addSubscriber({ email: 'a@example.com', name: 'A' });
    const put = (json: unknown, path = '/api/subscribers/lists') => call(d.url, 'PUT', path, { json });
    expect(await put({ ids: [s.id], action: 'add', target_list_ids: [l.id] })).toMatchObject({ status: 200, body: { data: true } });
    expect(d.model.subscriptions.get(s.id)!.get(l.id)!.status).toBe('unconfirmed');
    await put({ ids: [s.id], action: 'add', target_list_ids: [l.id], status: 'confirmed' });
    expect(d.model.subscriptions.get(s.id)!.get(l.id)!.status).toBe('confirmed');
    await put({ ids: [s.id], action: 'add', target_list_ids: [l.id] });
    expect(d.model.subscriptions.get(s.id)!.get(l.id)!.status).toBe('confirmed');
    expect(await put({ ids: [], action: 'add', target_list_ids: [l.id] })).toMatchObject({ status: 400, body: { message: 'No IDs given.' } });
    expect(await put({ ids: [s.id], action: 'add', target_list_ids: [] })).toMatchObject({ status: 400, body: { message: 'No lists given.' } });
    expect(await put({ ids: [s.id], action: 'zap', target_list_ids: [l.id] })).toMatchObject({ status: 400, body: { message: 'Invalid action.' } });
    expect(await put({ action: 'add', target_list_ids: [l.id] }, `/api/subscribers/lists/${s.id}`)).toMatchObject({ status: 400, body: { message: 'No IDs given.' } });
    d.setUser({ username: 'audience', token: 'test-token-0123456789', perms: ['subscribers:manage', 'subscribers:get_all'] });
    expect(await put({ ids: [s.id], action: 'add', target_list_ids: [l.id] })).toMatchObject({ status: 403, body: { message: 'Permission denied: lists' } });
  });

  it('looks up by SQL query (needs subscribers:sql_query from v5) or by the v5+ search regex over name OR email', async () => {
    await start();
    d.model.addSubscriber({ email: 'a.b@example.com', name: 'A' });
    d.model.addSubscriber({ email: 'axb@example.com', name: 'a.b@example.com' }); // a name that matches too
    expect(await call(d.url, 'GET', `/api/subscribers?query=${encodeURIComponent("subscribers.email='a.b@example.com'")}`)).toMatchObject({
      status: 403,
      body: { message: 'Permission denied: subscribers:sql_query' },
    });
    const unescaped = await call(d.url, 'GET', `/api/subscribers?search=${encodeURIComponent('^a.b@example.com$')}`);
    expect(unescaped.body.data.total).toBe(2); // `.` matches any char, and the name matches
    const escaped = await call(d.url, 'GET', `/api/subscribers?search=${encodeURIComponent('^a\\.b@example\\.com$')}`);
    expect(escaped.body.data.results.map((r: any) => r.email).sort()).toEqual(['a.b@example.com', 'axb@example.com']);
    d.setUser({ username: 'audience', token: 'test-token-0123456789', perms: [...PIPELINE_PERMS, 'subscribers:sql_query'] });
    const q = await call(d.url, 'GET', `/api/subscribers?query=${encodeURIComponent("subscribers.email='a.b@example.com'")}`);
    expect(q.body.data.results.map((r: any) => r.email)).toEqual(['a.b@example.com']);
  });

  it('before v5 query needs no permission and search is ignored', async () => {
    await start({ version: 'v4.1.0' });
    d.model.addSubscriber({ email: 'a@example.com', name: 'A' });
    d.model.addSubscriber({ email: 'b@example.com', name: 'B' });
    expect((await call(d.url, 'GET', `/api/subscribers?query=${encodeURIComponent("subscribers.email='a@example.com'")}`)).body.data.total).toBe(1);
    expect((await call(d.url, 'GET', `/api/subscribers?search=${encodeURIComponent('^a@example\\.com$')}`)).body.data.total).toBe(2);
  });

  it('blocklisting sets every subscription unsubscribed', async () => {
    await start();
    const l = d.model.addList({ name: 'one' });
    const s = d.model.addSubscriber({ email: 'a@example.com', name: 'A' });
    d.model.subscribe(s.id, l.id, 'confirmed');
    expect((await call(d.url, 'PUT', '/api/subscribers/blocklist', { json: { ids: [s.id] } })).body).toEqual({ data: true });
    expect(d.model.subscribers.get(s.id)!.status).toBe('blocklisted');
    expect(d.model.subscriptions.get(s.id)!.get(l.id)!.status).toBe('unsubscribed');
    expect((await call(d.url, 'PUT', '/api/subscribers/blocklist', { json: { ids: [] } })).status).toBe(400);
  });
});
