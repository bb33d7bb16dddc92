import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fixedClock } from '../src/clock.ts';
import { FindingsError, InputError, SafetyGateError, UsageError } from '../src/errors.ts';
import { runJob, runStage, step, type Stage } from '../src/stage.ts';
import { testContext } from './email-helpers.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

// Far in the future on purpose: the runner must take its times from the injected clock, never the machine's.
const NOW = new Date('2091-03-04T05:06:07.000Z');

interface Opts {
  n: number;
  listmonk?: { url: string; apiToken: string };
}
const opts = z.object({ n: z.number().int().positive(), listmonk: z.object({ url: z.string(), apiToken: z.string() }).optional() });

type Summary = { doubled: number; totals: { carriersSeen: number } };

function testStage(name: string, body: Stage<Opts, Summary>['run'], extra: Partial<Stage<Opts, Summary>> = {}): Stage<Opts, Summary> {
  return {
    name,
    options: opts,
    migrations: 'apply',
    ledger: true,
    args: (o) => ({ n: o.n, listmonk: o.listmonk ?? null }),
    run: body,
    render: (s) => `doubled ${s.doubled}`,
    renames: [
      ['doubled_value', 'doubled'],
      ['totals.carriers_seen', 'totals.carriersSeen'],
    ],
    ...extra,
  };
}

describe('runStage', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });
  const ctx = () => ({ ...testContext(store), now: fixedClock(NOW) });
  const runsOf = (stage: string) => store.db.selectFrom('runs').selectAll().where('stage', '=', stage).orderBy('id').execute();

  it('prints one envelope: command, ok, runId, startedAt, seconds first, then the stage keys, then old names beside renamed keys', async () => {
    const e = await runStage(ctx(), testStage('stage-envelope', async (_c, run, o) => ({ doubled: o.n * 2, totals: { carriersSeen: run!.id } })), { n: 21 });
    const [row] = await runsOf('stage-envelope');
    expect(Object.keys(e)).toEqual(['command', 'ok', 'runId', 'startedAt', 'seconds', 'doubled', 'totals', 'doubled_value']);
    expect(e).toMatchObject({ command: 'stage-envelope', ok: true, runId: row!.id, startedAt: NOW.toISOString(), doubled: 42, doubled_value: 42 });
    expect(e.totals).toEqual({ carriersSeen: row!.id, carriers_seen: row!.id });
    expect(typeof e.seconds).toBe('number');
    expect(e.seconds).toBeGreaterThanOrEqual(0);
    // The ledger keeps the stage's own summary, in the new names only.
    expect(row).toMatchObject({ status: 'ok', counts: { doubled: 42, totals: { carriersSeen: row!.id } }, error: null });
    expect(row!.started_at.toISOString()).toBe(NOW.toISOString());
  });

  it('uses the command name the user typed when the stage has one', async () => {
    const e = await runStage(ctx(), testStage('stage-named', async () => ({ doubled: 0, totals: { carriersSeen: 0 } }), { command: 'stage named' }), { n: 1 });
    expect(e.command).toBe('stage named');
  });

  it('writes one ledger row per run, and records the options redacted at any depth', async () => {
    const s = testStage('stage-once', async () => ({ doubled: 1, totals: { carriersSeen: 0 } }));
    await runStage(ctx(), s, { n: 1, listmonk: { url: 'http://lm.test', apiToken: 'sekret' } });
    await runStage(ctx(), s, { n: 2 });
    const rows = await runsOf('stage-once');
    expect(rows.map((r) => [r.status, r.args])).toEqual([
      ['ok', { n: 1, listmonk: { url: 'http://lm.test', apiToken: '***' } }],
      ['ok', { n: 2, listmonk: null }],
    ]);
    expect(JSON.stringify(rows)).not.toContain('sekret');
  });

  it('marks a run a crashed process left running as abandoned, then runs', async () => {
    await store.db.insertInto('runs').values({ stage: 'stage-crash', status: 'running', pid: 999999 }).execute();
    await runStage(ctx(), testStage('stage-crash', async () => ({ doubled: 0, totals: { carriersSeen: 0 } })), { n: 1 });
    expect((await runsOf('stage-crash')).map((r) => r.status)).toEqual(['abandoned', 'ok']);
  });

  it('rethrows a typed error unchanged (its exit code), records the failure, and envelopes the summary it carries with ok false', async () => {
    const failing = testStage('stage-fail', async () => {
      throw new FindingsError('two offending campaigns: stop them', { summary: { doubled: 7, totals: { carriersSeen: 3 } } });
    });
    const err = await runStage(ctx(), failing, { n: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FindingsError);
    expect((err as FindingsError).exitCode).toBe(1);
    const [row] = await runsOf('stage-fail');
    expect(row).toMatchObject({ status: 'failed', error: 'two offending campaigns: stop them' });
    expect((err as FindingsError).summary).toMatchObject({ command: 'stage-fail', ok: false, runId: row!.id, startedAt: NOW.toISOString(), doubled: 7, doubled_value: 7, totals: { carriersSeen: 3, carriers_seen: 3 } });

    const refused = testStage('stage-refused', async () => {
      throw new SafetyGateError('cap', 'cap reached: build tomorrow');
    });
    const gate = await runStage(ctx(), refused, { n: 1 }).catch((e: unknown) => e);
    expect(gate).toBeInstanceOf(SafetyGateError);
    expect((gate as SafetyGateError).exitCode).toBe(3);
    expect((gate as SafetyGateError).summary).toBeUndefined();
    expect((await runsOf('stage-refused')).map((r) => r.status)).toEqual(['refused']);
  });

  it('refuses in prepare without a ledger row, and calls failed() when the run fails', async () => {
    const cleaned: string[] = [];
    const gated = testStage('stage-prepare', async () => ({ doubled: 0, totals: { carriersSeen: 0 } }), {
      prepare: () => {
        throw new SafetyGateError('warmup', 'no warmup start: set AUDIENCE_WARMUP_START');
      },
    });
    await expect(runStage(ctx(), gated, { n: 1 })).rejects.toBeInstanceOf(SafetyGateError);
    expect(await runsOf('stage-prepare')).toEqual([]);

    const broken = testStage(
      'stage-cleanup',
      async () => {
        throw new InputError('not a log: pass a mail.log');
      },
      { failed: async (o: Opts, e: unknown) => void cleaned.push(`${o.n}:${(e as Error).message}`) },
    );
    await expect(runStage(ctx(), broken, { n: 5 })).rejects.toBeInstanceOf(InputError);
    expect(cleaned).toEqual(['5:not a log: pass a mail.log']);
  });

  it('validates the options first: a bad value is a usage error (exit 2) and writes nothing', async () => {
    const err = await runStage(ctx(), testStage('stage-usage', async () => ({ doubled: 0, totals: { carriersSeen: 0 } })), { n: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect(await runsOf('stage-usage')).toEqual([]);
  });

  it('runs a read-only stage without the ledger: no row, runId null', async () => {
    const before = await store.db.selectFrom('runs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const e = await runStage(ctx(), testStage('stage-report', async (_c, run) => ({ doubled: run === null ? 1 : 0, totals: { carriersSeen: 0 } }), { ledger: false }), { n: 1 });
    expect(e).toMatchObject({ command: 'stage-report', ok: true, runId: null, startedAt: NOW.toISOString(), doubled: 1 });
    const after = await store.db.selectFrom('runs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });
});

describe('runJob', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });
  const ctx = () => ({ ...testContext(store), now: fixedClock(NOW) });

  it('runs the stages in order, each its own ledger run, and stops at the first failure', async () => {
    const order: string[] = [];
    const ok = (name: string) => testStage(name, async () => (order.push(name), { doubled: 0, totals: { carriersSeen: 0 } }));
    const done = await runJob(ctx(), [step(ok('job-a'), { n: 1 }), step(ok('job-b'), { n: 1 })]);
    expect(order).toEqual(['job-a', 'job-b']);
    expect(done.map((e) => e.command)).toEqual(['job-a', 'job-b']);
    expect(new Set(done.map((e) => e.runId)).size).toBe(2);

    const fail = testStage('job-fail', async () => {
      throw new InputError('bad input: fix it');
    });
    await expect(runJob(ctx(), [step(ok('job-c'), { n: 1 }), step(fail, { n: 1 }), step(ok('job-d'), { n: 1 })])).rejects.toBeInstanceOf(InputError);
    expect(order).toEqual(['job-a', 'job-b', 'job-c']);
    const rows = await store.db.selectFrom('runs').select(['stage', 'status']).where('stage', 'in', ['job-c', 'job-fail', 'job-d']).orderBy('id').execute();
    expect(rows).toEqual([
      { stage: 'job-c', status: 'ok' },
      { stage: 'job-fail', status: 'failed' },
    ]);
  });
});
