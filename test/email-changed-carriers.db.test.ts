/**
 * The refresh's list of changed carriers is taken by the normalize only when the ledger certifies
 * it complete (src/email/changed-carriers.ts): every way the ledger can say "something else may be
 * left to normalize" makes the normalize find its carriers by the full join instead.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { offerChangedCarriers, takeChangedCarriers } from '../src/email/changed-carriers.ts';
import { NORMALIZER_VERSION } from '../src/email/version.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

type Run = { stage: 'ingest-census' | 'normalize'; status?: string; start: number; end: number | null; version?: number };

describe('takeChangedCarriers: the ledger decides whether the merge named every carrier to normalize', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(async () => {
    await sql`truncate runs restart identity`.execute(store.db);
  });

  // Minutes after a fixed hour: each run's times, in ledger (id) order.
  const at = (minute: number) => new Date(Date.UTC(2031, 0, 1, 12, minute));
  async function ledger(runs: Run[]): Promise<number> {
    let id = 0;
    for (const r of runs) {
      const counts = r.stage === 'normalize' ? { normalizerVersion: r.version ?? NORMALIZER_VERSION } : {};
      const row = await store.db
        .insertInto('runs')
        .values({ stage: r.stage, status: (r.status ?? 'ok') as 'ok', started_at: at(r.start), finished_at: r.end === null ? null : at(r.end), counts: JSON.stringify(counts) })
        .returning('id')
        .executeTakeFirstOrThrow();
      id = Number(row.id);
    }
    return id;
  }
  async function taken(runs: Run[], offeredRun?: number): Promise<boolean> {
    const last = await ledger(runs);
    offerChangedCarriers(store, { censusRunId: offeredRun ?? last, carriers: [{ dot_number: 7, email_raw: 'a@example.com' }] });
    return (await takeChangedCarriers(store)) !== null;
  }
  const census = (start: number, end: number | null, status = 'ok'): Run => ({ stage: 'ingest-census', status, start, end });
  const normalize = (start: number, end: number | null, status = 'ok', version = NORMALIZER_VERSION): Run => ({ stage: 'normalize', status, start, end, version });

  it('takes it after a whole normalize of everything the census run before it loaded', async () => {
    expect(await taken([census(0, 1), normalize(2, 3), census(4, 5)])).toBe(true);
    // Once: a second normalize in the same process finds its carriers itself.
    expect(await takeChangedCarriers(store)).toBeNull();
  });

  it('takes it with a pinned clock (every time equal), the ids giving the order', async () => {
    expect(await taken([census(0, 0), normalize(0, 0), census(0, 0)])).toBe(true);
  });

  it('refuses it when the census run did not commit, or another came after it', async () => {
    expect(await taken([census(0, 1), normalize(2, 3), census(4, 5, 'failed')])).toBe(false);
    await sql`truncate runs restart identity`.execute(store.db);
    expect(await taken([census(0, 1), normalize(2, 3), census(4, 5), census(6, 7, 'refused')], 3)).toBe(false);
  });

  it('refuses it when the normalize before did not finish whole, or never ran', async () => {
    for (const status of ['failed', 'abandoned', 'running']) {
      await sql`truncate runs restart identity`.execute(store.db);
      expect(await taken([census(0, 1), normalize(2, status === 'running' ? null : 3, status), census(4, 5)]), status).toBe(false);
    }
    await sql`truncate runs restart identity`.execute(store.db);
    expect(await taken([census(0, 1), census(4, 5)])).toBe(false);
    // A census loaded with --no-normalize between the last normalize and this one.
    await sql`truncate runs restart identity`.execute(store.db);
    expect(await taken([census(0, 1), normalize(2, 3), census(4, 5), census(6, 7)])).toBe(false);
  });

  it('refuses it after a normalize by another normalizer version', async () => {
    expect(await taken([census(0, 1), normalize(2, 3, 'ok', NORMALIZER_VERSION - 1), census(4, 5)])).toBe(false);
  });

  it('refuses it when the normalize overlapped a census run (the two stages take different locks)', async () => {
    // Started before the census run before it committed: it may not have seen that run's carriers.
    expect(await taken([census(0, 3), normalize(2, 4), census(5, 6)])).toBe(false);
    // Still running when this census run began.
    await sql`truncate runs restart identity`.execute(store.db);
    expect(await taken([census(0, 1), normalize(2, 6), census(5, 7)])).toBe(false);
  });
});
