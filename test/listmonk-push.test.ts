/**
 * Lists and subscribers through the client, against the double: idempotent ensureList, the
 * 409 → lookup → add-to-list path, blocklisted and unsubscribed subscribers left alone, the
 * sql_query → search fallback, permission problems as typed errors, and crash-then-re-run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ListmonkApiError, ListmonkPermissionError, ListmonkUnavailableError } from '../src/listmonk/errors.ts';
import { escapePosixRegex } from '../src/listmonk/lookup.ts';
import { isOnList, type PushOutcome } from '../src/listmonk/subscribers.ts';
import { clientFor } from './listmonk-double/client-for.ts';
import { DEFAULT_USER, ListmonkDouble, PIPELINE_PERMS } from './listmonk-double/index.ts';

let d: ListmonkDouble;
afterEach(async () => d?.stop());
const start = async (o: Parameters<typeof ListmonkDouble.start>[0] = {}) => (d = await ListmonkDouble.start(o));
const members = (listId: number) => [...d.model.subscriptions].filter(([, m]) => m.has(listId)).map(([id, m]) => [d.model.subscribers.get(id)!.email, m.get(listId)!.status]);

describe('ensureList', () => {
  it('creates a private single opt-in list once; a re-run finds it by exact name', async () => {
    await start();
    d.model.addList({ name: 'mcs150 2026-11-28 (old copy)' });
    const { lm } = clientFor(d);
    const a = await lm.ensureList('mcs150 2026-11-28', { tags: ['mcs150', '2026 11 28'], description: 'segment' });
    expect(a).toMatchObject({ name: 'mcs150 2026-11-28', created: true });
    expect(d.model.lists.get(a.id)).toMatchObject({ type: 'private', optin: 'single', tags: ['mcs150', '2026-11-28'] });
    const b = await lm.ensureList('mcs150 2026-11-28');
    expect(b).toEqual({ id: a.id, name: a.name, created: false });
    expect(d.count('POST /api/lists')).toBe(1);
  });

  it('a create whose answer was lost is found on the next attempt, not created twice', async () => {
    await start();
    const { lm } = clientFor(d);
    d.faults.dropAfterHandlingNext(1, { route: /^POST \/api\/lists$/ });
    const l = await lm.ensureList('lost answer');
    expect(l.created).toBe(false);
    expect([...d.model.lists.values()].filter((x) => x.name === 'lost answer')).toHaveLength(1);
  });

  it('refuses when the API user can create lists but not see them (a re-run would duplicate)', async () => {
    await start({ users: [{ ...DEFAULT_USER, perms: PIPELINE_PERMS.filter((p) => p !== 'lists:get_all') }] });
    const e = await clientFor(d).lm.ensureList('invisible').catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkPermissionError);
    expect(e.permission).toBe('lists:get_all');
  });
});

describe('addSubscribersToList', () => {
  it('creates new subscribers confirmed on the list; a re-run reports already_member without writing', async () => {
    await start();
    const { lm } = clientFor(d);
    const list = await lm.ensureList('L');
    const subs = [
      { email: 'A@Example.com', name: 'Acme Trucking', attribs: { dot_number: 1 } },
      { email: 'b@example.com', name: 'Bee Freight', attribs: { dot_number: 2 } },
    ];
    const seen: PushOutcome[] = [];
    const first = await lm.addSubscribersToList(list.id, subs, { onOutcome: (o) => void seen.push(o) });
    expect(first.map((o) => [o.email, o.status])).toEqual([
      ['A@Example.com', 'created'],
      ['b@example.com', 'created'],
    ]);
    expect(seen).toHaveLength(2);
    expect(d.model.findByEmail('a@example.com')).toMatchObject({ name: 'Acme Trucking', attribs: { dot_number: 1 } });
    expect(members(list.id)).toEqual([
      ['a@example.com', 'confirmed'],
      ['b@example.com', 'confirmed'],
    ]);
    const writes = d.faults.subscriberWrites;
    const again = await lm.addSubscribersToList(list.id, subs);
    expect(again.map((o) => o.status)).toEqual(['already_member', 'already_member']);
    expect(again.every(isOnList)).toBe(true);
    expect(d.faults.subscriberWrites).toBe(writes);
    expect(d.model.subscribers.size).toBe(2);
  });

  it('409 → lookup → PUT /api/subscribers/lists for a subscriber on another list; blocklisted and unsubscribed are reported, never re-enabled', async () => {
    await start();
    const { lm } = clientFor(d);
    const other = d.model.addList({ name: 'older list' });
    const list = await lm.ensureList('today');
    const onOther = d.model.addSubscriber({ email: 'old@example.com', name: 'Old' });
    d.model.subscribe(onOther.id, other.id, 'confirmed');
    const blocked = d.model.addSubscriber({ email: 'blocked@example.com', name: 'B' });
    d.model.blocklist(blocked.id);
    const gone = d.model.addSubscriber({ email: 'gone@example.com', name: 'G' });
    d.model.subscribe(gone.id, list.id, 'unsubscribed');
    const out = await lm.addSubscribersToList(list.id, [{ email: 'old@example.com' }, { email: 'blocked@example.com' }, { email: 'gone@example.com' }, { email: 'not an address' }]);
    expect(out.map((o) => o.status)).toEqual(['added', 'blocklisted', 'unsubscribed', 'rejected']);
    expect(out[3]!.message).toBe('Invalid email.');
    expect(d.model.subscriptions.get(onOther.id)!.get(list.id)!.status).toBe('confirmed');
    expect(d.model.subscribers.get(blocked.id)!.status).toBe('blocklisted');
    expect(d.model.subscriptions.get(blocked.id)!.has(list.id)).toBe(false);
    expect(d.model.subscriptions.get(gone.id)!.get(list.id)!.status).toBe('unsubscribed');
    expect(d.count('PUT /api/subscribers/lists')).toBe(1);
  });

  it('v5+ without subscribers:sql_query switches once to the search= regex and matches exactly', async () => {
    await start({ version: 'v5.1.0' });
    const { lm, logs } = clientFor(d);
    const list = await lm.ensureList('L');
    d.model.addSubscriber({ email: 'axb@example.com', name: 'a.b@example.com' }); // a regex/name decoy
    d.model.addSubscriber({ email: 'a.b@example.com', name: 'Real' });
    d.model.addSubscriber({ email: 'c+d@example.com', name: 'C' });
    const out = await lm.addSubscribersToList(list.id, [{ email: 'a.b@example.com' }, { email: 'c+d@example.com' }], {});
    expect(out.map((o) => [o.status, d.model.subscribers.get(o.subscriberId!)!.email])).toEqual([
      ['added', 'a.b@example.com'],
      ['added', 'c+d@example.com'],
    ]);
    const lookups = d.requests.filter((r) => r.method === 'GET' && r.path === '/api/subscribers');
    expect(lookups.filter((r) => r.query.has('query')).length).toBeLessThanOrEqual(2); // refused once per in-flight lookup, then search only
    expect(lookups.filter((r) => r.query.has('search')).length).toBe(2);
    expect(logs.some((l) => /search= instead/.test(l))).toBe(true);
    expect(escapePosixRegex('a.b+c(d)[e]{f}|g^$*?\\')).toBe('a\\.b\\+c\\(d\\)\\[e\\]\\{f\\}\\|g\\^\\$\\*\\?\\\\');
  });

  it('v4 looks up with query= (not yet permission-checked); v2.1 answers a duplicate with 200 and is handled', async () => {
    await start({ version: 'v4.1.0' });
    let c = clientFor(d);
    let list = await c.lm.ensureList('L');
    d.model.addSubscriber({ email: 'x@example.com', name: 'X' });
    expect((await c.lm.addSubscribersToList(list.id, [{ email: 'x@example.com' }]))[0]!.status).toBe('added');
    expect(d.requests.some((r) => r.query.has('search'))).toBe(false);
    await d.stop();

    await start({ version: 'v2.1.0', admin: null });
    c = clientFor(d);
    list = await c.lm.ensureList('L');
    d.model.addSubscriber({ email: 'x@example.com', name: 'X' });
    const out = await c.lm.addSubscribersToList(list.id, [{ email: 'x@example.com' }, { email: 'new@example.com' }]);
    expect(out.map((o) => o.status)).toEqual(['added', 'created']);
    expect(members(list.id).map(([e]) => e).sort()).toEqual(['new@example.com', 'x@example.com']);
  });

  it('a list the API user may not manage is a ListmonkPermissionError naming the permission; nothing else is started', async () => {
    await start();
    const { lm } = clientFor(d);
    const list = await lm.ensureList('L');
    d.setUser({ ...DEFAULT_USER, perms: PIPELINE_PERMS.filter((p) => p !== 'lists:manage_all'), lists: { [list.id]: ['get'] } });
    const subs = Array.from({ length: 10 }, (_, i) => ({ email: `p${i}@example.com` }));
    const e = await clientFor(d, { concurrency: 1 }).lm.addSubscribersToList(list.id, subs).catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkPermissionError);
    expect(e).toMatchObject({ status: 403, permission: 'lists:manage_all' });
    expect(e.message).toMatch(/lists:manage_all/);
    expect(d.count('POST /api/subscribers')).toBe(1);
  });

  it('detects a list silently missing from the answer (deleted list: 200 with lists []) as a typed error', async () => {
    await start();
    const { lm } = clientFor(d);
    const list = await lm.ensureList('L');
    d.model.deleteList(list.id);
    const e = await lm.addSubscribersToList(list.id, [{ email: 'a@example.com' }]).catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkApiError);
    expect(e.status).toBe(400);
    expect(e.message).toMatch(new RegExp(`List ${list.id} does not exist`));
  });

  it('a crash mid-push, then a re-run, ends with every address on the list once and no duplicates', async () => {
    await start();
    const { lm } = clientFor(d, { retries: 1 });
    const list = await lm.ensureList('crash');
    const subs = Array.from({ length: 30 }, (_, i) => ({ email: `k${i}@example.com`, name: `K${i}` }));
    d.faults.crashAfterSubscriberWrites(12);
    const confirmed: PushOutcome[] = [];
    const e = await lm.addSubscribersToList(list.id, subs, { onOutcome: (o) => void confirmed.push(o) }).catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkUnavailableError);
    expect(d.model.subscribers.size).toBe(12); // the 12th write committed, its answer lost
    expect(confirmed.length).toBeLessThan(12);

    d.restart();
    const out = await lm.addSubscribersToList(list.id, subs);
    expect(out.every(isOnList)).toBe(true);
    expect(out.filter((o) => o.status === 'created')).toHaveLength(18);
    expect(d.model.subscribers.size).toBe(30);
    expect(members(list.id)).toHaveLength(30);
    expect(new Set(members(list.id).map(([, s]) => s))).toEqual(new Set(['confirmed']));
  });

  it('reports every address it sent that failed: one with neither an outcome nor a failure never reached Listmonk', async () => {
    await start();
    const { lm } = clientFor(d, { retries: 1 });
    const list = await lm.ensureList('crash');
    const subs = Array.from({ length: 30 }, (_, i) => ({ email: `k${i}@example.com` }));
    d.faults.crashAfterSubscriberWrites(12);
    const confirmed = new Set<string>();
    const failed = new Map<string, unknown>();
    const e = await lm
      .addSubscribersToList(list.id, subs, { onOutcome: (o) => void confirmed.add(o.email), onFailure: (email, err) => void failed.set(email, err) })
      .catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkUnavailableError);
    expect([...confirmed].filter((x) => failed.has(x))).toEqual([]);
    expect(failed.size).toBeGreaterThan(0);
    expect([...failed.values()].every((x) => x instanceof ListmonkUnavailableError)).toBe(true);
    const unreported = subs.map((s) => s.email).filter((x) => !confirmed.has(x) && !failed.has(x));
    expect(unreported.length).toBeGreaterThan(0);
    expect(unreported.filter((x) => d.model.findByEmail(x))).toEqual([]);
    // The write whose answer was lost is a failure, not an outcome: Listmonk may have it.
    expect([...d.model.subscribers.values()].every((s) => confirmed.has(s.email) || failed.has(s.email))).toBe(true);
  });

  it('survives 5xx on a fraction of requests without duplicates', async () => {
    await start();
    const { lm } = clientFor(d, { retries: 6 });
    const list = await lm.ensureList('flaky');
    d.faults.failFraction(0.3, 500, { route: /\/api\/subscribers/ }, 7);
    const subs = Array.from({ length: 40 }, (_, i) => ({ email: `f${i}@example.com` }));
    const out = await lm.addSubscribersToList(list.id, subs);
    expect(out.every(isOnList)).toBe(true);
    expect(d.model.subscribers.size).toBe(40);
    expect(d.requests.some((r) => r.status === 500)).toBe(true);
  });
});
