/**
 * `audience doctor`: every check of the runbook in one command, each saying how to fix what it
 * finds. Read-only: nothing is migrated, written, created or pushed. The checks run at once, each
 * within doctor.timeoutMs (src/doctor/run-checks.ts), so a dead service makes doctor slower by one
 * time box, never hang it.
 *
 * Not a Stage: it must report an invalid configuration as its failed `config` check (runStage's
 * caller would exit 2 before it) and it opens the store itself, as a check. Its summary still has
 * the envelope's keys (toEnvelope), runId null: it writes no runs row.
 */
import { existsSync } from 'node:fs';
import { startingAt, systemClock, type Clock } from '../clock.ts';
import { configFile, loadConfig, type Config, type ConfigOverrides } from '../config.ts';
import type { Store } from '../db/store.ts';
import { pass, statusOf, type CheckEntry } from './check.ts';
import type { DoctorContext } from './context.ts';
import { databaseCheck } from './database-check.ts';
import { dkimCheck, holdsCheck, streamsCheck } from './delivery-checks.ts';
import { dnsCheck } from './dns-check.ts';
import { campaignCheck, listmonkCheck, permissionsCheck } from './listmonk-checks.ts';
import { maillogCheck } from './maillog-check.ts';
import { runChecks, type CheckSpec } from './run-checks.ts';
import { warmupCheck } from './warmup-check.ts';
import { windowCheck } from './window-check.ts';
import { AudienceError } from '../errors.ts';
import type { ListmonkClient } from '../listmonk/index.ts';
import { toEnvelope, type EnvelopeKeys } from '../stage.ts';
import { localDate } from '../warmup/calendar.ts';

/** The checks in the order they are reported; `config` comes first and gates all the others. */
export const CHECK_NAMES = ['config', 'database', 'warmup', 'maillog', 'dns', 'listmonk', 'listmonk-permissions', 'listmonk-campaign', 'sliding-window', 'dkim', 'holds', 'streams'] as const;

export interface DoctorOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  configPath?: string;
  /** From flags (--timeout, --maillog-max-age). */
  overrides?: ConfigOverrides;
  /** Tests pin it; otherwise AUDIENCE_NOW or the machine's clock. */
  now?: Clock;
  openStore?: () => Promise<Store>;
  listmonk?: (config: Config) => ListmonkClient;
}

export interface DoctorSummary extends EnvelopeKeys {
  command: 'doctor';
  /** The run's clock (the same instant as startedAt), and today in the firm's time zone (null when the configuration is invalid). */
  now: string;
  date: string | null;
  checks: CheckEntry[];
  /** Names of the checks that failed or could not run. */
  failed: string[];
  /** Names of the checks that passed with advice. */
  advice: string[];
}

export async function doctor(opts: DoctorOptions = {}): Promise<DoctorSummary> {
  const env = opts.env ?? process.env;
  const t0 = performance.now();
  let config: Config;
  try {
    config = loadConfig({ env, cwd: opts.cwd, configPath: opts.configPath, overrides: opts.overrides });
  } catch (e) {
    if (!(e instanceof AudienceError)) throw e;
    const clock = opts.now ?? systemClock;
    const entry: CheckEntry = {
      name: 'config',
      ok: false,
      status: 'fail',
      detail: e.message,
      fix: 'correct the settings named above (audience.config.json, AUDIENCE_* and LISTMONK_* variables), then run `audience doctor` again.',
      ms: Math.round(performance.now() - t0),
    };
    const skipped = CHECK_NAMES.slice(1).map(
      (name): CheckEntry => ({ name, ok: false, status: 'skip', detail: 'not checked: it needs `config`, which did not pass.', fix: 'fix `config` first (see above), then run `audience doctor` again.', ms: 0 }),
    );
    return summarize(clock(), null, [entry, ...skipped], t0);
  }

  const configMs = Math.round(performance.now() - t0);
  const clock = opts.now ?? (config.now ? startingAt(config.now) : systemClock);
  const now = clock();
  const ctx: DoctorContext = {
    config,
    now,
    today: localDate(now, config.timezone),
    timeoutMs: config.doctor.timeoutMs,
    ...(opts.openStore ? { openStore: opts.openStore } : {}),
    ...(opts.listmonk ? { listmonk: () => opts.listmonk!(config) } : {}),
  };
  const network: CheckSpec[] = [dnsCheck(ctx), listmonkCheck(ctx), permissionsCheck(ctx), campaignCheck(ctx), windowCheck(ctx)];
  const database = databaseCheck(ctx);
  // PGlite runs its queries on this thread: while it opens and reads, no answer from a name server
  // or Listmonk is read, and their time boxes would run out though the answers had come. So with
  // the embedded database, the network checks go first (a PostgreSQL server answers asynchronously).
  const embedded = !config.database.url;
  const specs: CheckSpec[] = [
    warmupCheck(ctx),
    maillogCheck(ctx),
    ...network,
    embedded ? { ...database, after: network.map((c) => c.name) } : database,
    dkimCheck(ctx),
    holdsCheck(ctx),
    streamsCheck(ctx),
  ];
  const { entries, values } = await runChecks(specs, { timeoutMs: ctx.timeoutMs });
  const store = values.get('database') as Store | undefined;
  await store?.close();
  const cfg = configCheck(config, opts, configMs);
  return summarize(now, ctx.today, [cfg, ...entries], t0);
}

function configCheck(config: Config, opts: DoctorOptions, ms: number): CheckEntry {
  const { file, explicit } = configFile({ env: opts.env ?? process.env, cwd: opts.cwd, configPath: opts.configPath });
  const read = existsSync(file) ? file : null;
  const source = read ? `${read} and the environment` : `defaults and the environment, no configuration file (${explicit ? file : 'audience.config.json'} absent)`;
  const o = config.now
    ? pass(`configuration valid: ${source}.`, { fix: `the clock is pinned by AUDIENCE_NOW (${config.now}): unset it for production runs.` })
    : pass(`configuration valid: ${source}.`);
  return { name: 'config', ok: o.ok, status: statusOf(o), detail: o.detail, fix: o.fix, ms, data: { file: read, timezone: config.timezone, now: config.now ?? null } };
}

function summarize(now: Date, date: string | null, checks: CheckEntry[], t0: number): DoctorSummary {
  const order = new Map<string, number>(CHECK_NAMES.map((n, i) => [n, i]));
  checks.sort((a, b) => (order.get(a.name) ?? 99) - (order.get(b.name) ?? 99));
  const failed = checks.filter((c) => !c.ok).map((c) => c.name);
  const own = { command: 'doctor' as const, now: now.toISOString(), date, checks, failed, advice: checks.filter((c) => c.status === 'warn').map((c) => c.name) };
  return toEnvelope({ name: 'doctor' }, own, { ok: failed.length === 0, runId: null, startedAt: now, seconds: Math.round(performance.now() - t0) / 1000 }) as unknown as DoctorSummary;
}

const MARK = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' } as const;

export function renderDoctor(s: DoctorSummary): string {
  const width = Math.max(...s.checks.map((c) => c.name.length));
  const lines = [`audience doctor, ${s.now}${s.date ? ` (${s.date})` : ''}`];
  for (const c of s.checks) {
    lines.push(`${MARK[c.status]} ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.fix && c.status !== 'skip') lines.push(`${' '.repeat(width + 7)}${c.ok ? 'advice' : 'fix'}: ${c.fix}`);
  }
  const n = (st: CheckEntry['status']) => s.checks.filter((c) => c.status === st).length;
  lines.push(`${s.checks.length} checks: ${n('pass') + n('warn')} passed${n('warn') ? ` (${n('warn')} with advice)` : ''}, ${n('fail')} failed, ${n('skip')} not run.`);
  return lines.join('\n');
}
