/**
 * The glue every command uses: read the config once (flags override env and file), open the
 * store, apply or check migrations, run the pipeline, print its summary, close the store.
 */
import type { Command } from 'commander';
import { startingAt, systemClock, type Clock } from '../clock.ts';
import type { Config, ConfigOverrides } from '../config.ts';
import type { StageContext } from '../context.ts';
import { FindingsError } from '../errors.ts';
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
  migrations: 'apply' | 'require';
  /** Tests inject env and cwd; the CLI uses the process's. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Tests inject a clock; otherwise AUDIENCE_NOW (config `now`) or the machine's clock. */
  now?: Clock;
  out?: Output;
}

/** Runs `body` with a ready StageContext and prints the summary it returns. */
export async function runCommand<S extends object>(
  cmd: Command,
  opts: RunCommandOptions,
  body: (ctx: StageContext) => Promise<S>,
  human?: (s: S) => string,
): Promise<S> {
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
  const store = await openStore({ url: config.database.url, dataDir: config.database.dataDir });
  try {
    const applied = await ensureMigrated(store, { apply: opts.migrations === 'apply' });
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
    await store.close();
  }
}
