/**
 * The glue every command uses: read the config once (flags override env and file), open the
 * store, apply or check migrations, run the pipeline, print its summary, close the store.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { startingAt, systemClock, type Clock } from '../clock.ts';
import type { Config, ConfigOverrides } from '../config.ts';
import type { StageContext } from '../context.ts';
import type { Store } from '../db/store.ts';
import { FindingsError } from '../errors.ts';
import type { Envelope, JobStep, Stage } from '../stage.ts';
import type { Output } from './output.ts';

export interface GlobalOptions {
  json: boolean;
  config?: string;
  verbose?: boolean;
  quiet?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export interface RunCommandOptions {
  /** Config values that come from this command's flags. */
  overrides?: ConfigOverrides;
  /**
   * Stages that write (ingest, scrub, check-mx) apply pending migrations themselves; readers and
   * the push (`build`, `plan`, `status`, `explain`) refuse with exit 3 and say to run `audience migrate`.
   */
  migrations: 'apply' | 'require' | ((config: Config) => 'apply' | 'require');
  /** Tests inject env and cwd; the CLI uses the process's. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Tests inject a clock; otherwise AUDIENCE_NOW (config `now`) or the machine's clock. */
  now?: Clock;
  out?: Output;
}

/**
 * Opens what a command needs (config, clock, store, migrations), runs `body` with it and prints
 * the summary it returns (`human` renders it without --json). The store is closed whatever happens.
 */
async function withCommandContext<S extends object>(cmd: Command, opts: RunCommandOptions, body: (ctx: StageContext) => Promise<S>, human?: (s: S) => string): Promise<S> {
  // Loaded here, not at the top: every command module imports this file, and `audience --help`
  // must not pay for zod, pg, Kysely and the progress bars it never uses.
  const [{ loadConfig }, { ensureMigrated }, { openStore }, { createOutput }] = await Promise.all([
    import('../config.ts'),
    import('../db/migrate.ts'),
    import('../db/store.ts'),
    import('./output.ts'),
  ]);
  const g = globalOptions(cmd);
  const out = opts.out ?? createOutput({ json: Boolean(g.json), verbose: Boolean(g.verbose), quiet: Boolean(g.quiet) });
  const config: Config = loadConfig({ env: opts.env, cwd: opts.cwd, configPath: g.config, overrides: opts.overrides });
  const now = opts.now ?? (config.now ? startingAt(config.now) : systemClock);
  if (!opts.now && config.now) out.warn(`the clock starts at ${config.now} (AUDIENCE_NOW), not at the machine's time: unset it for production runs.`);
  const { store, release } = await openCommandStore(config, openStore);
  try {
    const migrations = typeof opts.migrations === 'function' ? opts.migrations(config) : opts.migrations;
    const applied = await ensureMigrated(store, { apply: migrations === 'apply' });
    if (applied.length) out.info(`applied ${applied.length} migration(s): ${applied.join(', ')}`);
    let summary: S;
    try {
      summary = await body({ config, store, out, now });
    } catch (e) {
      // Findings are a finished run's result: people see the whole report, then the error says why
      // the exit is 1. With --json the top-level handler prints the summary's keys once, beside it.
      if (e instanceof FindingsError && e.summary && !out.json) out.result(e.summary, human as ((s: object) => string) | undefined);
      throw e;
    }
    out.result(summary, human as ((s: object) => string) | undefined);
    return summary;
  } finally {
    await release();
  }
}

/** The open stores of a withStoreSession, by database; null outside one. */
let session: Map<string, Store> | null = null;

/**
 * Runs `fn`, during which commands share one open store per database instead of each opening and
 * closing its own: several commands in one process (the demo) then pay the embedded database's
 * start once. The stores close when `fn` ends.
 */
export async function withStoreSession<T>(fn: () => Promise<T>): Promise<T> {
  if (session) return fn();
  const stores = (session = new Map());
  try {
    return await fn();
  } finally {
    session = null;
    for (const s of stores.values()) await s.close();
  }
}

/** A command's store: its own (closed by `release`), or the session's (left open). */
export async function openCommandStore(config: Config, open: typeof import('../db/store.ts').openStore): Promise<{ store: Store; release: () => Promise<void> }> {
  const opts = { url: config.database.url, dataDir: config.database.dataDir };
  if (!session) {
    const store = await open(opts);
    return { store, release: () => store.close() };
  }
  const key = opts.url ?? `pglite:${path.resolve(opts.dataDir)}`;
  let store = session.get(key);
  if (!store) session.set(key, (store = await open(opts)));
  return { store, release: async () => {} };
}

/** Runs `body` with a ready StageContext and prints the summary it returns. */
export async function runCommand<S extends object>(
  cmd: Command,
  opts: RunCommandOptions,
  body: (ctx: StageContext) => Promise<S>,
  human?: (s: S) => string,
): Promise<S> {
  return withCommandContext(cmd, opts, body, human);
}

export type StageCommandOptions = Omit<RunCommandOptions, 'migrations'>;

/**
 * A command is flags -> options -> this: the stage runs under runStage and its envelope is printed
 * (--json) or rendered (stage.render). The stage says whether migrations are applied or required.
 */
export async function runStageCommand<O, S extends object, P, L extends object>(cmd: Command, stage: Stage<O, S, P, L>, opts: O, command: StageCommandOptions = {}): Promise<Envelope<S, L>> {
  const { runStage } = await import('../stage.ts');
  return withCommandContext(cmd, { ...command, migrations: stage.migrations }, (ctx) => runStage(ctx, stage, opts), (s) => stage.render(s));
}

/**
 * A job's command: its stages run in order (runJob) and `combine` makes the one summary printed
 * (stdout holds exactly one JSON object), rendered by `human`. `steps` may depend on the
 * configuration (the nightly job reads Listmonk only where it is configured).
 */
export async function runJobCommand<T extends object>(
  cmd: Command,
  steps: readonly JobStep[] | ((config: Config) => readonly JobStep[]),
  combine: (envelopes: Array<Envelope<object>>) => T,
  human: (s: T) => string,
  command: StageCommandOptions = {},
): Promise<T> {
  const { jobMigrations, runJob } = await import('../stage.ts');
  const stepsFor = (config: Config) => (typeof steps === 'function' ? steps(config) : steps);
  return withCommandContext(cmd, { ...command, migrations: (config) => jobMigrations(stepsFor(config)) }, async (ctx) => combine(await runJob(ctx, stepsFor(ctx.config))), human);
}
