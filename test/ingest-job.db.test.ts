import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCensusIngest } from '../pipelines/ingest.ts';
import { censusContext, dataSample } from './census/context.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

describe('ingest census job', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  it('normalizes the e-mail fields it loaded, and a re-run of the same file changes nothing anywhere', async () => {
    const ctx = censusContext(store);
    const first = await runCensusIngest(ctx, { files: [dataSample('FMCSA_CENSUS1_2026Nov.txt')], snapshot: false });
    expect(first.inserted).toBeGreaterThan(0);
    expect(first.normalize).not.toBeNull();
    expect(first.normalize!.carriers_normalized).toBe(first.inserted);
    const linked = await store.db.selectFrom('carrier_emails').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(linked.n)).toBeGreaterThan(0);

    const again = await runCensusIngest(ctx, { files: [dataSample('FMCSA_CENSUS1_2026Nov.txt')], snapshot: false });
    expect([again.inserted, again.updated]).toEqual([0, 0]);
    expect(again.normalize!.changes).toBe(0);

    const stages = await store.db.selectFrom('runs').select(['stage', 'status']).orderBy('id').execute();
    expect(stages).toEqual([
      { stage: 'ingest-census', status: 'ok' },
      { stage: 'normalize', status: 'ok' },
      { stage: 'ingest-census', status: 'ok' },
      { stage: 'normalize', status: 'ok' },
    ]);
  });

  it('--no-normalize loads only, and says so', async () => {
    const r = await runCensusIngest(censusContext(store), { files: [dataSample('kjg3-diqy_socrata_export.csv')], snapshot: false, normalize: false, allowOlder: true });
    expect(r.normalize).toBeNull();
  });
});
