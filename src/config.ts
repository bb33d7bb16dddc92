/**
 * Configuration, read once at the edge. Precedence: defaults < audience.config.json < env < flags.
 * Only this module reads process.env; everything else receives the frozen Config.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { buildConfigSchema } from './push/config.ts';
import { censusConfigSchema } from './census/config.ts';
import { doctorConfigSchema } from './doctor/config.ts';
import { emailConfigSchema } from './email/config.ts';
import { ConfigError } from './errors.ts';
import { listmonkConfigSchema } from './listmonk/config.ts';
import { maillogConfigSchema } from './maillog/config.ts';
import { mxConfigSchema } from './mx/config.ts';
import { segmentsConfigSchema } from './segments/config.ts';
import { warmupConfigSchema } from './warmup/config.ts';

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone (e.g. America/Chicago)');

export const configSchema = z.strictObject({
  database: z
    .strictObject({
      /** DATABASE_URL. Absent: embedded PostgreSQL (PGlite) in dataDir. */
      url: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres://').optional(),
      /** AUDIENCE_DATA_DIR: folder of the embedded database. */
      dataDir: z.string().min(1).default('./.audience'),
    })
    .prefault({}),
  /** AUDIENCE_TZ: the firm's calendar; "today" and send hours are in this zone. */
  timezone: timeZone.default('America/Chicago'),
  /**
   * AUDIENCE_NOW: run as if the clock read this RFC 3339 time when the command started (it then
   * ticks). For tests, demos and replays of a past day; the CLI warns whenever it is set.
   */
  now: z.iso.datetime({ offset: true }).optional(),
  census: censusConfigSchema.prefault({}),
  email: emailConfigSchema.prefault({}),
  maillog: maillogConfigSchema.prefault({}),
  mx: mxConfigSchema.prefault({}),
  warmup: warmupConfigSchema.prefault({}),
  segments: segmentsConfigSchema.prefault({}),
  build: buildConfigSchema.prefault({}),
  listmonk: listmonkConfigSchema.prefault({}),
  doctor: doctorConfigSchema.prefault({}),
});

export type Config = z.infer<typeof configSchema>;
type ConfigInput = z.input<typeof configSchema>;
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export type ConfigOverrides = DeepPartial<ConfigInput>;

/** Environment variables we read, and where each lands. Unknown AUDIENCE_* variables are errors. */
const ENV_MAP: Record<string, (v: string) => ConfigOverrides> = {
  DATABASE_URL: (v) => ({ database: { url: v } }),
  AUDIENCE_DATA_DIR: (v) => ({ database: { dataDir: v } }),
  AUDIENCE_TZ: (v) => ({ timezone: v }),
  AUDIENCE_NOW: (v) => ({ now: v }),
  AUDIENCE_MAILLOG: (v) => ({ maillog: { path: v } }),
  AUDIENCE_DNS_SERVERS: (v) => ({ mx: { dnsServers: splitList(v) } }),
  AUDIENCE_WARMUP_START: (v) => ({ warmup: { start: v } }),
  LISTMONK_URL: (v) => ({ listmonk: { url: v } }),
  LISTMONK_API_USER: (v) => ({ listmonk: { apiUser: v } }),
  LISTMONK_API_TOKEN: (v) => ({ listmonk: { apiToken: v } }),
};
/** Read by loadConfig itself, or by the test harness; not configuration values. */
const ENV_META = new Set(['AUDIENCE_CONFIG', 'AUDIENCE_TEST_BACKEND', 'AUDIENCE_LOG']);

export function splitList(v: string): string[] {
  return v
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** --config FILE; else AUDIENCE_CONFIG; else ./audience.config.json when it exists. */
  configPath?: string;
  /** From command-line flags: the highest precedence. */
  overrides?: ConfigOverrides;
}

/** The configuration file loadConfig reads, and whether it was named (--config, AUDIENCE_CONFIG) or is the default. */
export function configFile(opts: Pick<LoadConfigOptions, 'env' | 'cwd' | 'configPath'> = {}): { file: string; explicit: boolean } {
  const env = opts.env ?? process.env;
  const explicit = opts.configPath ?? env.AUDIENCE_CONFIG;
  const cwd = opts.cwd ?? process.cwd();
  return { file: explicit ? path.resolve(cwd, explicit) : path.join(cwd, 'audience.config.json'), explicit: Boolean(explicit) };
}

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const { file, explicit } = configFile(opts);
  let fromFile: ConfigOverrides = {};
  if (existsSync(file)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): point --config or AUDIENCE_CONFIG at a readable JSON file.`);
    }
    try {
      fromFile = JSON.parse(text) as ConfigOverrides;
    } catch (e) {
      throw new ConfigError(`${file} is not valid JSON (${(e as Error).message}). Fix the file or point AUDIENCE_CONFIG elsewhere.`);
    }
    // `null`, an array or a string would otherwise be ignored without a word.
    if (!isPlainObject(fromFile)) throw new ConfigError(`${file} must hold one JSON object ({"maillog": {...}, ...}), not ${Array.isArray(fromFile) ? 'an array' : JSON.stringify(fromFile)}.`);
  } else if (explicit) {
    throw new ConfigError(`config file ${file} does not exist. Create it, or unset AUDIENCE_CONFIG / drop --config.`);
  }

  let fromEnv: ConfigOverrides = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    const map = ENV_MAP[name];
    if (map) fromEnv = deepMerge(fromEnv, map(value));
    else if (name.startsWith('AUDIENCE_') && !ENV_META.has(name))
      throw new ConfigError(
        `unknown environment variable ${name}. Known: ${[...Object.keys(ENV_MAP), ...ENV_META].filter((n) => n.startsWith('AUDIENCE_')).join(', ')}.`,
      );
  }

  const merged = deepMerge(deepMerge(fromFile, fromEnv), opts.overrides ?? {});
  let parsed: ReturnType<typeof configSchema.safeParse>;
  try {
    parsed = configSchema.safeParse(merged);
  } catch (e) {
    // A check that throws on a value it did not expect: still the value's fault, and the user's to fix.
    throw new ConfigError(`invalid configuration (${existsSync(file) ? file + ', ' : ''}environment, flags): ${(e as Error).message}. Check the values you set.`, { cause: e });
  }
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}${hintFor(i.path)}`);
    throw new ConfigError(`invalid configuration (${existsSync(file) ? file + ', ' : ''}environment, flags):\n${lines.join('\n')}`);
  }
  return deepFreeze(parsed.data);
}

/** Where each variable of ENV_MAP lands ('listmonk.apiToken'), read from the mapping itself so the two never drift. */
const ENV_PATHS: ReadonlyArray<readonly [path: string, variable: string]> = Object.entries(ENV_MAP).map(([name, map]) => [leafPath(map('x')), name] as const);

function leafPath(o: unknown): string {
  const parts: string[] = [];
  for (let v = o; isPlainObject(v); ) {
    const [k, next] = Object.entries(v)[0]!;
    parts.push(k);
    v = next;
  }
  return parts.join('.');
}

/** " (set VARIABLE or the key in audience.config.json)" for a config key an environment variable sets. */
export function hintFor(p: readonly PropertyKey[]): string {
  const key = p.map(String).join('.');
  const envName = ENV_PATHS.find(([path]) => key === path || key.startsWith(path + '.'))?.[1];
  return envName ? ` (set ${envName} or the key in audience.config.json)` : '';
}

/** The environment variables that carry configuration values (not AUDIENCE_CONFIG and the harness's). */
export const ENV_VARIABLES: readonly string[] = Object.keys(ENV_MAP);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars from `b` replace those of `a`; undefined never overrides. */
export function deepMerge<T>(a: T, b: unknown): T {
  if (!isPlainObject(a) || !isPlainObject(b)) return (b === undefined ? a : b) as T;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k], v) : v;
  }
  return out as T;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
