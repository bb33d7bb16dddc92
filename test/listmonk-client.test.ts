/**
 * The Listmonk client's transport against the double: auth per version, retries only on
 * 5xx/network/timeout, typed 4xx errors carrying status and body, the concurrency bound, and
 * that the token never leaks into logs or errors.
 */
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { listmonkConfigSchema } from '../src/listmonk/config.ts';
import { ListmonkApiError, ListmonkAuthError, ListmonkUnavailableError } from '../src/listmonk/errors.ts';
import { createListmonkClient } from '../src/listmonk/index.ts';
import { ConfigError } from '../src/errors.ts';
import { clientFor } from './listmonk-double/client-for.ts';
import { DEFAULT_USER, ListmonkDouble } from './listmonk-double/index.ts';

let d: ListmonkDouble;
afterEach(async () => d?.stop());
const start = async (o: Parameters<typeof ListmonkDouble.start>[0] = {}) => (d = await ListmonkDouble.start(o));
const authHeaders = () => d.requests.map((r) => String(r.headers.authorization ?? ''));

describe('Listmonk client: auth and version', () => {
  it('v4+: detects the version with `token user:token` and uses it for every call; never sends a Cookie', async () => {
    await start({ version: 'v6.2.0' });
    const { lm } = clientFor(d);
    expect(await lm.version()).toMatchObject({ major: 6, minor: 2 });
    await lm.ensureList('x');
    expect(new Set(authHeaders())).toEqual(new Set([`token audience:${DEFAULT_USER.token}`]));
    expect(d.requests.some((r) => r.headers.cookie !== undefined)).toBe(false);
  });

  it('v2/v3: falls back to Basic after the 401 of the token scheme, and keeps Basic', async () => {
    await start({ version: 'v3.0.0', admin: { username: 'admin', password: 'pw' } });
    const { lm } = clientFor(d, { apiUser: 'admin', apiToken: 'pw' });
    expect((await lm.version()).major).toBe(3);
    await lm.ensureList('x');
    const basic = 'Basic ' + Buffer.from('admin:pw').toString('base64');
    // config (token → 401), config (Basic), find, create, visibility check
    expect(d.requests.map((r) => r.status)).toEqual([401, 200, 200, 200, 200]);
    expect(authHeaders().slice(1)).toEqual(Array(4).fill(basic));
  });

  it('a pinned version skips detection and picks the scheme', async () => {
    await start({ version: 'v2.5.1', admin: { username: 'admin', password: 'pw' } });
    const { lm } = clientFor(d, { apiUser: 'admin', apiToken: 'pw', version: 'v2' });
    await lm.getAllLists();
    expect(d.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /api/lists 200']);
  });

  it('wrong credentials are a ListmonkAuthError that says what to set, on v4+ (403) and v3 (401)', async () => {
    await start();
    const e = await clientFor(d, { apiToken: 'wrong-token' }).lm.ensureList('x').catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkAuthError);
    expect(e.status).toBe(403);
    expect(e.message).toMatch(/LISTMONK_API_TOKEN/);
    await d.stop();
    await start({ version: 'v3.0.0', admin: { username: 'admin', password: 'pw' } });
    const e3 = await clientFor(d, { apiUser: 'admin', apiToken: 'nope' }).lm.version().catch((x) => x);
    expect(e3).toBeInstanceOf(ListmonkAuthError);
    expect(e3.status).toBe(401);
  });

  it('refuses to start without URL, user and token, and refuses credentials in the URL', () => {
    expect(() => createListmonkClient(listmonkConfigSchema.parse({}))).toThrow(ConfigError);
    expect(() => createListmonkClient(listmonkConfigSchema.parse({ url: 'http://x' }))).toThrow(/LISTMONK_API_USER, LISTMONK_API_TOKEN/);
    expect(listmonkConfigSchema.safeParse({ url: 'http://u:p@host' }).success).toBe(false);
  });
});

describe('Listmonk client: retries and errors', () => {
  it('retries 5xx with backoff and succeeds', async () => {
    await start();
    const delays: number[] = [];
    const { lm } = clientFor(d, { retryBaseMs: 100, retryMaxMs: 250 }, { sleep: async (ms) => void delays.push(ms), random: () => 1 });
    await lm.version();
    d.faults.failNext(3, 503);
    expect(await lm.getAllLists()).toEqual([]);
    expect(d.requests.filter((r) => r.path === '/api/lists').map((r) => r.status)).toEqual([503, 503, 503, 200]);
    expect(delays).toEqual([100, 200, 250]); // doubling, capped at retryMaxMs
  });

  it('jitters each delay within [50%, 100%] of the exponential ceiling', async () => {
    await start();
    const delays: number[] = [];
    const { lm } = clientFor(d, { retryBaseMs: 1000, retryMaxMs: 60_000, retries: 3 }, { sleep: async (ms) => void delays.push(ms), random: () => 0 });
    await lm.version();
    d.faults.failNext(3, 500);
    await lm.getAllLists();
    expect(delays).toEqual([500, 1000, 2000]);
  });

  it('gives up after `retries` extra attempts with a retryable ListmonkApiError carrying status and body', async () => {
    await start();
    const { lm } = clientFor(d, { retries: 2 });
    await lm.version();
    d.faults.failNext(10, 502);
    const e = await lm.getAllLists().catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkApiError);
    expect(e).toMatchObject({ status: 502, retryable: true, body: { message: 'injected 502' } });
    expect(d.requests.filter((r) => r.path === '/api/lists')).toHaveLength(3);
  });

  it('never retries a 4xx; the error carries status, body and path', async () => {
    await start();
    const { lm } = clientFor(d);
    const e = await lm.getCampaign(4242).catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkApiError);
    expect(e).toMatchObject({ status: 400, body: { message: 'Campaign not found.' }, method: 'GET', path: '/api/campaigns/4242', retryable: false });
    expect(d.count('GET /api/campaigns/:id')).toBe(1);
  });

  it('retries a timed-out request (the server hangs) and a refused connection, then reports ListmonkUnavailableError', async () => {
    await start();
    const { lm } = clientFor(d, { timeoutMs: 150 });
    await lm.version();
    d.faults.hangNext(1, { route: /^GET \/api\/lists$/ });
    expect(await lm.getAllLists()).toEqual([]);
    expect(d.requests.filter((r) => r.path === '/api/lists').map((r) => r.status)).toEqual(['hung', 200]);

    const url = d.url;
    await d.stop();
    const dead = createListmonkClient(listmonkConfigSchema.parse({ url, apiUser: 'a', apiToken: 'secret-dead-token', retries: 2, retryBaseMs: 1, retryMaxMs: 2 }));
    const e = await dead.version().catch((x) => x);
    expect(e).toBeInstanceOf(ListmonkUnavailableError);
    expect(e).toMatchObject({ attempts: 3, retryable: true });
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(inspect(e, { depth: 10 })).not.toContain('secret-dead-token'); // nor in the cause chain
    d = await ListmonkDouble.start(); // for afterEach
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    await start();
    d.faults.latencyMs = 25;
    const { lm } = clientFor(d, { concurrency: 3 });
    const list = await lm.ensureList('c');
    const subs = Array.from({ length: 24 }, (_, i) => ({ email: `c${i}@example.com` }));
    await lm.addSubscribersToList(list.id, subs);
    expect(d.maxInFlight).toBe(3);
  });

  it('never puts the token in logs or error messages', async () => {
    await start();
    const secret = DEFAULT_USER.token;
    const { lm, logs } = clientFor(d, { retries: 1 });
    const errors: unknown[] = [];
    await lm.getCampaign(1).catch((e) => errors.push(e));
    d.faults.failNext(5, 500);
    await lm.getAllLists().catch((e) => errors.push(e));
    await clientFor(d, { apiToken: secret + 'x' }).lm.ensureList('x').catch((e) => errors.push(e));
    expect(errors).toHaveLength(3);
    expect(logs.length).toBeGreaterThan(3);
    for (const text of [...logs, ...errors.map((e) => inspect(e, { depth: 5 })), ...errors.map((e) => JSON.stringify(e))]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(`audience:${secret}`).toString('base64'));
    }
  });
});
