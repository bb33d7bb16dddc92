/**
 * The bulk import path of the client against the double: CSV upload named .csv, polling, DELETE
 * after, results read back from the list, waiting for an import that is already running, failed
 * imports, and pushSubscribers choosing by size.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ListmonkImportError } from '../src/listmonk/errors.ts';
import { toImportCsv } from '../src/listmonk/import.ts';
import { isOnList } from '../src/listmonk/subscribers.ts';
import { call } from './listmonk-double/call.ts';
import { clientFor } from './listmonk-double/client-for.ts';
import { ListmonkDouble } from './listmonk-double/index.ts';

let d: ListmonkDouble;
afterEach(async () => d?.stop());
const start = async (o: Parameters<typeof ListmonkDouble.start>[0] = {}) => (d = await ListmonkDouble.start(o));
const routes = () => d.requests.filter((r) => r.path.startsWith('/api/import')).map((r) => `${r.method} ${r.path}`);

describe('importSubscribersToList', () => {
  it('uploads a .csv, polls until finished, DELETEs the state, and reports per address from the list', async () => {
    await start();
    const { lm } = clientFor(d);
    const list = await lm.ensureList('bulk');
    const blocked = d.model.addSubscriber({ email: 'blocked@example.com', name: 'B' });
    d.model.blocklist(blocked.id);
    const old = d.model.addSubscriber({ email: 'old@example.com', name: 'Old name' });
    const subs = [
      { email: 'New@Example.com', name: 'Acme, "The" Trucking', attribs: { dot_number: 7, note: 'a\nb' } },
      { email: 'old@example.com', name: 'Other name' },
      { email: 'blocked@example.com', name: 'B' },
      { email: 'broken@@example.com', name: 'X' },
    ];
    const out = await lm.importSubscribersToList(list.id, subs);
    expect(out.map((o) => [o.email, o.status])).toEqual([
      ['New@Example.com', 'added'],
      ['old@example.com', 'added'],
      ['blocked@example.com', 'blocklisted'],
      ['broken@@example.com', 'missing'],
    ]);
    expect(d.model.findByEmail('new@example.com')).toMatchObject({ name: 'Acme, "The" Trucking', attribs: { dot_number: 7, note: 'a\nb' } });
    expect(d.model.subscribers.get(old.id)!.name).toBe('Old name'); // no overwrite by default
    expect(d.model.subscriptions.get(old.id)!.get(list.id)!.status).toBe('confirmed');
    const post = d.requests.find((r) => r.method === 'POST' && r.path === '/api/import/subscribers')!;
    expect(String(post.body)).toMatch(/filename="audience-list\d+-[^"]+\.csv"/);
    expect(String(post.body)).toContain('"subscription_status":"confirmed"');
    expect(routes().at(-1)).toBe('DELETE /api/import/subscribers');
    expect(d.importer.status.status).toBe('none');
  });

  it('waits politely while another import runs (never stops it), then imports', async () => {
    await start();
    const { lm, logs } = clientFor(d);
    const list = await lm.ensureList('bulk');
    d.importer.held = true;
    const form = new FormData();
    form.append('params', JSON.stringify({ mode: 'subscribe', delim: ',', lists: [list.id] }));
    form.append('file', new Blob(['email\nsomeone@example.com\n']), 'by-a-person.csv');
    expect((await call(d.url, 'POST', '/api/import/subscribers', { form })).status).toBe(200);

    const pending = lm.importSubscribersToList(list.id, [{ email: 'mine@example.com' }]);
    // Until the client has asked several times (a fixed sleep asked too few on a loaded machine).
    const polls = () => routes().filter((r) => r === 'GET /api/import/subscribers').length;
    for (const until = Date.now() + 10_000; polls() <= 3 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
    expect(d.importer.status).toMatchObject({ name: 'by-a-person.csv', status: 'importing' });
    expect(routes().filter((r) => r.startsWith('DELETE'))).toEqual([]);
    d.importer.releaseHold();
    const out = await pending;
    expect(out.map((o) => o.status)).toEqual(['added']);
    expect(d.model.findByEmail('someone@example.com')).toBeDefined();
    expect(logs.some((l) => /another import \(by-a-person\.csv, importing\)/.test(l))).toBe(true);
    expect(routes().filter((r) => r === 'GET /api/import/subscribers').length).toBeGreaterThan(3);
  });

  it('gives up with a ListmonkImportError when the other import outlasts importWaitMs', async () => {
    await start();
    const { lm } = clientFor(d, { importWaitMs: 100 });
    const list = await lm.ensureList('bulk');
    d.importer.held = true;
    const form = new FormData();
    form.append('params', JSON.stringify({ mode: 'subscribe', delim: ',', lists: [list.id] }));
    form.append('file', new Blob(['email\nsomeone@example.com\n']), 'slow.csv');
    await call(d.url, 'POST', '/api/import/subscribers', { form });
    const e = await lm.importSubscribersToList(list.id, [{ email: 'mine@example.com' }]).catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkImportError);
    expect(e).toMatchObject({ importStatus: 'importing', retryable: true });
    expect(d.importer.status.name).toBe('slow.csv');
  });

  it('a failed import is a ListmonkImportError with Listmonk\'s log, and the state is cleared', async () => {
    await start();
    const { lm } = clientFor(d);
    const list = await lm.ensureList('bulk');
    d.importer.failAtRow = 2;
    const e = await lm.importSubscribersToList(list.id, [{ email: 'a@example.com' }, { email: 'b@example.com' }]).catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkImportError);
    expect(e.importStatus).toBe('failed');
    expect(e.logs).toMatch(/simulated database error/);
    expect(e.message).toMatch(/simulated database error/);
    expect(d.importer.status.status).toBe('none');
  });

  it('an upload whose answer was lost is recognised by its unique name, not uploaded twice', async () => {
    await start();
    const { lm } = clientFor(d);
    const list = await lm.ensureList('bulk');
    d.faults.dropAfterHandlingNext(1, { route: /^POST \/api\/import\/subscribers$/ });
    const out = await lm.importSubscribersToList(list.id, [{ email: 'a@example.com' }, { email: 'b@example.com' }]);
    expect(out.map((o) => o.status)).toEqual(['added', 'added']);
    expect(d.requests.filter((r) => r.method === 'POST' && r.path === '/api/import/subscribers')).toHaveLength(1);
  });

  it('before v2.5 clears a finished state first, so the import can start', async () => {
    await start({ version: 'v2.4.0', admin: null });
    const { lm } = clientFor(d);
    const list = await lm.ensureList('bulk');
    d.importer.status = { name: 'yesterday.csv', total: 1, imported: 1, status: 'finished' };
    const out = await lm.importSubscribersToList(list.id, [{ email: 'a@example.com' }]);
    expect(out[0]!.status).toBe('added');
  });

  it('writes a CSV Listmonk reads: header, quoted fields, JSON attributes', () => {
    expect(toImportCsv([{ email: ' A@B.com ', name: 'x "y"', attribs: { k: 'v,w' } }])).toBe('email,name,attributes\n"a@b.com","x ""y""","{""k"":""v,w""}"\n');
  });
});

describe('pushSubscribers', () => {
  it('uses per-address calls below importThreshold and the import from it on; skipped rows get an exact outcome', async () => {
    await start();
    const { lm } = clientFor(d, { importThreshold: 5 });
    const list = await lm.ensureList('auto');
    const small = await lm.pushSubscribers(list.id, [{ email: 's1@example.com' }, { email: 's2@example.com' }]);
    expect(small.strategy).toBe('api');
    expect(d.count('POST /api/import/subscribers')).toBe(0);

    const big = Array.from({ length: 6 }, (_, i) => ({ email: `b${i}@example.com` }));
    big.push({ email: 'no-at-sign.example.com' });
    const seen: string[] = [];
    const res = await lm.pushSubscribers(list.id, big, { onOutcome: (o) => void seen.push(o.status) });
    expect(res.strategy).toBe('import');
    expect(res.outcomes.slice(0, 6).every(isOnList)).toBe(true);
    expect(res.outcomes[6]).toMatchObject({ status: 'rejected', message: 'Invalid email.' });
    expect(seen).toHaveLength(7);
    expect(d.count('POST /api/import/subscribers')).toBe(1);
  });
});
