import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, SafetyGateError } from '../src/errors.ts';
import { finishRun, lastRuns, withRun } from '../src/runs.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

describe('run ledger', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  const runsOf = (stage: string) => store.db.selectFrom('runs').selectAll().where('stage', '=', stage).orderBy('id').execute();

  it('records a successful run with its counts, and redacts secrets from args', async () => {
    const out = await withRun(store, 'ledger-ok', { file: 'a.txt', apiToken: 'sekret' }, async () => ({ read: 3 }));
    expect(out).toEqual({ read: 3 });
    const [r] = await runsOf('ledger-ok');
    expect(r).toMatchObject({ status: 'ok', counts: { read: 3 }, error: null, args: { file: 'a.txt', apiToken: '***' } });
    expect(r!.finished_at).toBeInstanceOf(Date);
  });

  it('records failures and refusals with the message, and rethrows', async () => {
    await expect(withRun(store, 'ledger-fail', {}, async () => Promise.reject(new InputError('bad file: fix it')))).rejects.toThrow('bad file');
    await expect(withRun(store, 'ledger-fail', {}, async () => Promise.reject(new SafetyGateError('cap', 'cap reached')))).rejects.toThrow('cap reached');
    const rows = await runsOf('ledger-fail');
    expect(rows.map((r) => [r.status, r.error])).toEqual([
      ['failed', 'bad file: fix it'],
      ['refused', 'cap reached'],
    ]);
  });

  it('marks a run left "running" by a crashed process as abandoned when the stage runs again', async () => {
    await store.db.insertInto('runs').values({ stage: 'ledger-crash', status: 'running', pid: 999999 }).execute();
    await withRun(store, 'ledger-crash', {}, async () => ({}));
    expect((await runsOf('ledger-crash')).map((r) => r.status)).toEqual(['abandoned', 'ok']);
  });

  it('keeps the status a stage wrote itself inside its transaction', async () => {
    await withRun(store, 'ledger-trx', {}, async (run) => {
      await store.db.transaction().execute((trx) => finishRun(trx, run, 'ok', { merged: 7 }, null));
      return { merged: 999 };
    });
    const [r] = await runsOf('ledger-trx');
    expect(r!.counts).toEqual({ merged: 7 });
  });

  it('serializes two runs of one stage: the second starts after the first ends', async () => {
    const events: string[] = [];
    const slow = (name: string) =>
      withRun(store, 'ledger-lock', {}, async () => {
        events.push(`${name}:start`);
        await new Promise((r) => setTimeout(r, 150));
        events.push(`${name}:end`);
        return {};
      });
    await Promise.all([slow('a'), slow('b')]);
    // Either may take the lock first (a loaded machine decides); what matters is that they never overlap.
    const first = events[0]!.split(':')[0]!;
    const second = first === 'a' ? 'b' : 'a';
    expect(events).toEqual([`${first}:start`, `${first}:end`, `${second}:start`, `${second}:end`]);
  });

  it('lists the last run of each stage', async () => {
    const rows = await lastRuns(store.db);
    const byStage = Object.fromEntries(rows.map((r) => [r.stage, r.status]));
    expect(byStage['ledger-fail']).toBe('refused');
    expect(byStage['ledger-crash']).toBe('ok');
  });
});
