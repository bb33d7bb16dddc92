/**
 * The stage contract and its one runner. A stage is a name, an options schema, a body
 * `run(ctx, run, opts) -> summary` and a text rendering; runStage owns everything around the body
 * that every stage used to do its own way: the run ledger (withRun: the stage's lock, abandoning
 * crashed runs, start, finish, failure), the wall time, the redaction of what the ledger records,
 * and the --json envelope `{ command, ok, runId, startedAt, seconds, ...the stage's keys }`.
 *
 * A job is a list of stages run in order (runJob), each its own ledger run: a stage never calls
 * another stage.
 */
import type { z } from 'zod';
import type { StageContext } from './context.ts';
import { isAudienceError, UsageError } from './errors.ts';
import { redactArgs, withRun, type RunHandle } from './runs.ts';

/** [old key, new key], dotted for a nested key ('totals.carriers_with_address'). */
export type Rename = readonly [old: string, renamed: string];

export interface Stage<O, S extends object, P = O, L extends object = object> {
  /** The ledger's stage name ('ingest-census', 'normalize', 'scrub-bounces', 'check-mx', 'build'). */
  readonly name: string;
  /** The --json `command` as typed ('ingest census'); default `name`. */
  readonly command?: string;
  /** Default `stage:${name}`. */
  readonly lock?: string;
  /** The options, flags already parsed into typed values; runStage validates them (exit 2 when wrong). */
  readonly options: z.ZodType<O>;
  /** Writers apply pending migrations; readers and the push refuse with exit 3 (`audience migrate`). */
  readonly migrations: 'apply' | 'require';
  /** Read-only reports write no runs row: run() receives null. */
  readonly ledger: boolean;
  /**
   * Checks and setup that must refuse before a run exists (a gate, an output file that could not be
   * written): a refusal here writes no runs row. Returns what args/run/failed receive.
   */
  prepare?(ctx: StageContext, opts: O): Promise<P> | P;
  /** What the ledger records of the options (redacted by runStage). */
  args(opts: P): Record<string, unknown>;
  run(ctx: StageContext, run: RunHandle | null, opts: P): Promise<S>;
  /** Clean-up when anything after prepare fails (the run, or the lock held by another run); then the error goes on. */
  failed?(opts: P, error: unknown): Promise<void>;
  /** The human text of a finished run (without --json). */
  render(summary: Envelope<S, L>): string;
  /**
   * Keys renamed to camelCase. The envelope keeps each old key beside its new one for one release
   * (a cron job may read it); CHANGELOG.md lists them.
   */
  readonly renames?: readonly Rename[];
}

export interface EnvelopeKeys {
  command: string;
  ok: boolean;
  /** The ledger row; null for a stage that writes none. */
  runId: number | null;
  /** ISO 8601, from the injected clock. */
  startedAt: string;
  /** Wall time of the whole stage, as runStage measured it. */
  seconds: number;
}

/**
 * What a stage run returns and --json prints. L types the old keys kept for one release; any other
 * key reads as unknown.
 */
export type Envelope<S extends object, L extends object = object> = EnvelopeKeys & WithoutEnvelopeKeys<S> & L & { readonly [key: string]: unknown };
// Not Omit<>: over a summary type with an index signature, Omit drops the named keys too. A
// summary's own `command` literal stays (it narrows the envelope's string).
type WithoutEnvelopeKeys<S> = { [K in keyof S as K extends Exclude<keyof EnvelopeKeys, 'command'> ? never : K]: S[K] };

// A stage whose option, summary and prepared types are not known at the call site (jobs, registries).
export type AnyStage = Stage<any, any, any, any>;

const secondsSince = (t0: number) => Math.round(performance.now() - t0) / 1000;

export async function runStage<O, S extends object, P, L extends object>(ctx: StageContext, stage: Stage<O, S, P, L>, input: O): Promise<Envelope<S, L>> {
  const parsed = stage.options.safeParse(input);
  if (!parsed.success) throw new UsageError(`${stage.command ?? stage.name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ')}`);
  const opts = parsed.data;
  const t0 = performance.now();
  let startedAt = ctx.now();
  let runId: number | null = null;
  const envelope = (summary: object, ok: boolean) => toEnvelope(stage, summary, { ok, runId, startedAt, seconds: secondsSince(t0) }) as Envelope<S, L>;
  const prepared = stage.prepare ? await stage.prepare(ctx, opts) : (opts as unknown as P);
  try {
    const summary = stage.ledger
      ? await withRun(
          ctx.store,
          stage.name,
          redactArgs(stage.args(prepared)),
          (run) => {
            runId = run.id;
            startedAt = run.startedAt;
            return stage.run(ctx, run, prepared) as Promise<S & Record<string, unknown>>;
          },
          { lockName: stage.lock, now: ctx.now },
        )
      : await stage.run(ctx, null, prepared);
    return envelope(summary, true);
  } catch (e) {
    if (stage.failed) await stage.failed(prepared, e);
    // A stage that did its work and must still fail (findings, a lying resolver) carries its summary:
    // it is printed in the same envelope, with ok false; the exit code stays the error's.
    if (isAudienceError(e) && e.summary) (e as { summary: Record<string, unknown> }).summary = envelope(e.summary, false);
    throw e;
  }
}

/** The envelope keys first, then the stage's own keys, then the old names of renamed keys. */
export function toEnvelope(stage: Pick<AnyStage, 'name' | 'command' | 'renames'>, summary: object, keys: Omit<EnvelopeKeys, 'command' | 'startedAt'> & { startedAt: Date | string }): Record<string, unknown> {
  const head: EnvelopeKeys = {
    command: stage.command ?? stage.name,
    ok: keys.ok,
    runId: keys.runId,
    startedAt: typeof keys.startedAt === 'string' ? keys.startedAt : keys.startedAt.toISOString(),
    seconds: keys.seconds,
  };
  const out: Record<string, unknown> = { ...head, ...summary, ...head };
  for (const [old, renamed] of stage.renames ?? []) copyKey(out, renamed, old);
  return out;
}

/** Sets `to` beside `from` (dotted paths share their parent), cloning the parent so the summary itself is not changed. */
function copyKey(root: Record<string, unknown>, from: string, to: string): void {
  const fromPath = from.split('.');
  const toPath = to.split('.');
  let parent = root;
  for (const k of fromPath.slice(0, -1)) {
    const child = parent[k];
    if (child === null || typeof child !== 'object') return;
    parent = parent[k] = { ...(child as Record<string, unknown>) };
  }
  const key = fromPath[fromPath.length - 1]!;
  if (!(key in parent)) return;
  parent[toPath[toPath.length - 1]!] = parent[key];
}

/** `carriers_with_address` -> `carriersWithAddress`. */
export function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Renames of old snake_case keys (dotted when nested) to their camelCase names. */
export function camelRenames(oldKeys: readonly string[]): Rename[] {
  return oldKeys.map((k) => [k, k.split('.').map(camelKey).join('.')] as const);
}

/** One step of a job: a stage and its options, typed together. */
export type JobStep = readonly [AnyStage, unknown];
export function step<O, S extends object, P, L extends object>(stage: Stage<O, S, P, L>, opts: O): JobStep {
  return [stage, opts];
}

/**
 * Runs a job's stages in order, each its own ledger run; the first failure stops the job (the
 * stages before it keep their work: each is re-runnable on its own). Returns each stage's envelope.
 */
export async function runJob(ctx: StageContext, steps: readonly JobStep[]): Promise<Array<Envelope<object>>> {
  const done: Array<Envelope<object>> = [];
  for (const [stage, opts] of steps) done.push(await runStage(ctx, stage, opts));
  return done;
}

/** A job applies migrations when any of its stages does. */
export function jobMigrations(steps: readonly JobStep[]): 'apply' | 'require' {
  return steps.some(([s]) => s.migrations === 'apply') ? 'apply' : 'require';
}
