/**
 * `audience sync-listmonk` against the double of each Listmonk version: the filter where the version
 * has one (v3+ subscription_status with list_id; query= for blocklistings, refused without
 * subscribers:sql_query from v5), every member of each list where it has none (v2); scope ours/all;
 * a re-run changes nothing; a 5xx half way keeps what was read and fails the run.
 */
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listmonkSync } from '../src/optouts/stage.ts';
import { ExternalServiceError } from '../src/errors.ts';
import { doubleClient, fxConfig, fxContext, startDouble } from './build-fixture.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { DEFAULT_USER, PIPELINE_PERMS, type ListmonkDouble } from './listmonk-double/index.ts';

interface Seeded {
  ours: number[];
  foreign: number;
}

/** Two lists of ours, one someone else's, and subscribers in every state an opt-out can take. */
function seed(lm: ListmonkDouble): Seeded {
  const m = lm.model;
  const mcs = m.addList({ name: 'audience mcs150 2026-11-28' }).id;
  const fresh = m.addList({ name: 'audience new-carrier 2026-11-29' }).id;
  const news = m.addList({ name: 'Newsletter' }).id;
  const sub = (email: string, lists: [number, 'confirmed' | 'unsubscribed'][], blocklisted = false) => {
    const s = m.addSubscriber({ email, name: email });
    for (const [l, st] of lists) m.subscribe(s.id, l, st);
    if (blocklisted) m.blocklist(s.id);
    return s;
  };
  sub('unsub@a.test', [[mcs, 'unsubscribed'], [news, 'confirmed']]);
  sub('blocked@a.test', [[mcs, 'confirmed']], true);
  sub('kept@a.test', [[mcs, 'confirmed'], [fresh, 'confirmed']]);
  sub('twice@a.test', [[mcs, 'unsubscribed'], [fresh, 'unsubscribed']]);
  sub('foreign@a.test', [[news, 'unsubscribed'], [mcs, 'confirmed']]);
  sub('nowhere@a.test', [], true);
  sub('later@a.test', [[fresh, 'unsubscribed']]);
  return { ours: [mcs, fresh], foreign: news };
}

async function optOuts(store: TestStore) {
  return (
    await sql<{ address: string; kind: string; list_id: number | null; source: string }>`
      select address, kind, list_id, source from opt_outs where lifted_at is null order by address, kind, list_id`.execute(store.db)
  ).rows;
}

const VERSIONS = [
  // [version, strategy, blocklistings read everywhere by the default pipeline user (no sql_query)]
  ['v2.0.0', 'list-members', true],
  ['v2.5.1', 'list-members', true],
  ['v3.0.0', 'subscription-filter', true],
  ['v4.1.0', 'subscription-filter', true],
  ['v5.1.0', 'subscription-filter', false],
  ['v6.2.0', 'subscription-filter', false],
] as const;

describe('sync-listmonk', () => {
  let store: TestStore;
  let lm: ListmonkDouble | null = null;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(async () => {
    await sql`truncate opt_outs, build_lists, runs restart identity`.execute(store.db);
  });
  afterEach(async () => {
    await lm?.stop();
    lm = null;
  });

  for (const [version, strategy, everywhere] of VERSIONS)
    it(`${version}: reads unsubscribes of our lists (${strategy}) and blocklistings${everywhere ? ' everywhere' : ' on those lists'}; a re-run changes nothing`, async () => {
      lm = await startDouble({ version, admin: null });
      const { ours } = seed(lm);
      const config = fxConfig({ listmonk: { version: 'auto' } });
      const first = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
      expect(first).toMatchObject({ command: 'sync-listmonk', scope: 'ours', lists: 2, strategy, blocklistedEverywhere: everywhere });
      const expected = [
        { address: 'blocked@a.test', kind: 'blocklisted', list_id: null, source: 'sync' },
        { address: 'later@a.test', kind: 'unsubscribed', list_id: ours[1]!, source: 'sync' },
        ...(everywhere ? [{ address: 'nowhere@a.test', kind: 'blocklisted', list_id: null, source: 'sync' }] : []),
        { address: 'twice@a.test', kind: 'unsubscribed', list_id: ours[0]!, source: 'sync' },
        { address: 'twice@a.test', kind: 'unsubscribed', list_id: ours[1]!, source: 'sync' },
        { address: 'unsub@a.test', kind: 'unsubscribed', list_id: ours[0]!, source: 'sync' },
      ];
      expect(await optOuts(store)).toEqual(expected);
      expect(first.newOptOuts).toBe(expected.length);
      expect(first.optedOut).toBe(everywhere ? 5 : 4);

      // What was asked of Listmonk is what this version understands.
      const reads = lm.requests.filter((r) => r.route === 'GET /api/subscribers');
      if (strategy === 'list-members') expect(reads.every((r) => !r.query.has('subscription_status'))).toBe(true);
      else expect(reads.some((r) => r.query.get('subscription_status') === 'unsubscribed' && r.query.getAll('list_id').length === 2)).toBe(true);
      if (version.startsWith('v2.0')) expect(reads.filter((r) => r.query.has('list_id')).every((r) => r.query.getAll('list_id').length === 1)).toBe(true);
      if (!everywhere) expect(reads.find((r) => r.query.has('query'))?.status).toBe(403);

      const again = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
      expect(again.newOptOuts).toBe(0);
      expect(await optOuts(store)).toEqual(expected);
    });

  it('v6.2.0 with subscribers:sql_query reads blocklistings on no list too', async () => {
    lm = await startDouble({ users: [{ ...DEFAULT_USER, perms: [...PIPELINE_PERMS, 'subscribers:sql_query'] }] });
    seed(lm);
    const config = fxConfig();
    const s = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(s.blocklistedEverywhere).toBe(true);
    expect((await optOuts(store)).map((o) => o.address)).toContain('nowhere@a.test');
  });

  it("optOutScope 'all' counts unsubscribes from every list; 'ours' also counts lists a build recorded under another name", async () => {
    lm = await startDouble();
    const { foreign } = seed(lm);
    const all = fxConfig({ listmonk: { optOutScope: 'all' } });
    const s = await listmonkSync(fxContext(store, all), { listmonk: doubleClient(lm, all) });
    expect(s.lists).toBe(3);
    expect(await optOuts(store)).toContainEqual({ address: 'foreign@a.test', kind: 'unsubscribed', list_id: foreign, source: 'sync' });

    await sql`truncate opt_outs`.execute(store.db);
    await sql`insert into build_lists (send_date, segment, list_id, list_name) values ('2026-11-01', 'mcs150', ${foreign}, 'Newsletter')`.execute(store.db);
    const ours = fxConfig();
    expect((await listmonkSync(fxContext(store, ours), { listmonk: doubleClient(lm, ours) })).lists).toBe(3);
  });

  it('a 5xx half way keeps the opt-outs read before it, fails the run, and the next sync completes the view', async () => {
    lm = await startDouble({ version: 'v2.5.1', admin: null });
    seed(lm);
    const config = fxConfig({ listmonk: { retries: 1 } });
    // The blocklisted query and the first list's members answer; the second list's read fails.
    lm.faults.failNext(2, 503, { route: /^GET \/api\/subscribers$/, after: 2 });
    const err = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect((err as Error).message).toMatch(/did not finish: the \d+ opt-out\(s\) read before the failure are recorded/);
    const partial = await optOuts(store);
    expect(partial.map((o) => o.address)).toContain('blocked@a.test');
    expect(partial.some((o) => o.list_id !== null && o.address === 'twice@a.test')).toBe(true);
    expect(partial.map((o) => o.address)).not.toContain('later@a.test');
    const run = (await sql<{ status: string }>`select status from runs where stage = 'sync-listmonk' order by id desc limit 1`.execute(store.db)).rows[0]!;
    expect(run.status).toBe('failed');

    const next = await listmonkSync(fxContext(store, config), { listmonk: doubleClient(lm, config) });
    expect(next.optedOut).toBe(5);
    expect((await optOuts(store)).length).toBe(6);
  });
});
