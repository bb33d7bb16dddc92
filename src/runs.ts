/**
 * The run ledger. Every stage runs inside withRun(): it holds the stage's lock (two runs of one stage
 * never overlap), marks runs that crashed before it as abandoned, records start, end, status,
 * counts and error. A stage that commits its work in one transaction should call finishRun() in
 * that same transaction, so the ledger can never disagree with the data.
 */
import { hostname } from 'node:os';
import { systemClock, type Clock } from './clock.ts';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './db/database.ts';
import type { RunStatus } from './db/core-tables.ts';
import type { Store } from './db/store.ts';
import { isAudienceError, SafetyGateError } from './errors.ts';

export interface RunHandle {
  readonly id: number;
  readonly stage: string;
  /** The stage's clock: the ledger's times are read from it, like everything else the run decides. */
  readonly now: Clock;
  /** What the ledger row records as started_at (the --json envelope's startedAt). */
  readonly startedAt: Date;
}

type Executor = Kysely<Database> | Transaction<Database>;
type Json = Record<string, unknown>;

export async function withRun<T extends Json>(
  store: Store,
  stage: string,
  args: Json,
  fn: (run: RunHandle) => Promise<T>,
  opts: { lockName?: string; now?: Clock } = {},
): Promise<T> {
  const now = opts.now ?? systemClock;
  const locked = await store.withLock(opts.lockName ?? `stage:${stage}`, async () => {
    await store.db
      .updateTable('runs')
      .set({ status: 'abandoned', finished_at: now(), error: 'the process ended without finishing (crash or kill); a later run redid its work' })
      .where('stage', '=', stage)
      .where('status', '=', 'running')
      .execute();
    const startedAt = now();
    const row = await store.db
      .insertInto('runs')
      .values({ stage, args: JSON.stringify(redactArgs(args)), status: 'running', pid: process.pid, host: hostname(), started_at: startedAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    const run: RunHandle = { id: row.id, stage, now, startedAt };
    try {
      const result = await fn(run);
      await finishRun(store.db, run, 'ok', result, null, { onlyIfRunning: true });
      return result;
    } catch (e) {
      const status: RunStatus = e instanceof SafetyGateError ? 'refused' : 'failed';
      const message = isAudienceError(e) ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      await finishRun(store.db, run, status, (isAudienceError(e) && e.summary) || {}, message, { onlyIfRunning: true }).catch(() => {});
      throw e;
    }
  });
  if (!locked.acquired) throw new SafetyGateError('lock', `another ${stage} run holds the lock. Wait for it to finish.`);
  return locked.value;
}

/** Closes the run row. Call it inside the transaction that commits the run's work. */
export async function finishRun(
  db: Executor,
  run: RunHandle,
  status: RunStatus,
  counts: Json,
  error: string | null,
  opts: { onlyIfRunning?: boolean } = {},
): Promise<void> {
  let q = db
    .updateTable('runs')
    .set({ status, finished_at: run.now(), counts: JSON.stringify(counts), error })
    .where('id', '=', run.id);
  if (opts.onlyIfRunning) q = q.where('status', '=', 'running');
  await q.execute();
}

const SECRET_KEY = /token|password|secret|authorization/i;
/** Secrets never reach the ledger, at any depth (a stage may record a config section whole). */
export function redactArgs(args: Json): Json {
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, SECRET_KEY.test(k) ? '***' : redactValue(v)]));
}

function redactValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactValue);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) return redactArgs(v as Json);
  return v;
}

/** The last run of each stage, newest first (for `audience status`). */
export async function lastRuns(db: Executor) {
  return db
    .selectFrom('runs')
    .distinctOn('stage')
    .select(['id', 'stage', 'status', 'started_at', 'finished_at', 'counts', 'error'])
    .orderBy('stage')
    // The ledger's own order, not started_at: a clock set back (a replay with AUDIENCE_NOW, a test)
    // would otherwise make an older run look like the last one.
    .orderBy('id', 'desc')
    .execute();
}
