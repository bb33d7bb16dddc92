/**
 * What the census benchmarks (ingest.bench.ts, refresh.bench.ts) measure, each as a whole process:
 * `psql \copy` of a file into an unlogged table of text columns (the floor), and `audience ingest
 * census` under /usr/bin/time (wall time and peak RSS) against a database named by URL.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_BASE_URL, scratchDatabase } from './scratch-db.ts';
import { serverCpuProbe } from './server-cpu.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/audience.mjs');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
  });
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** How often the server's CPU is read while an ingest runs. */
const SERVER_POLL_MS = 50;

/** `npm run build`: the CLI then runs the built dist/, as after `npm ci`, not the sources through tsx. */
export async function build(): Promise<void> {
  const r = await run(process.execPath, [path.join(ROOT, 'scripts/build.mjs')]);
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
}

/** The environment of a CLI run against `url`: no AUDIENCE_* setting of the caller leaks in. */
export function cliEnv(url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url };
  for (const k of Object.keys(env)) if (k.startsWith('AUDIENCE_')) delete env[k];
  return env;
}

/** A fresh scratch database with the migrations applied (by the CLI, as a user would). */
export async function migrated(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const db = await scratchDatabase(name);
  const mig = await run(process.execPath, [BIN, 'migrate', '--json'], cliEnv(db.url));
  if (mig.code !== 0) {
    await db.drop();
    throw new Error(`migrate failed: ${mig.stderr}`);
  }
  return db;
}

/** Seconds `psql \copy` takes to load `clean` (no bad rows) into a fresh unlogged table of text columns. */
export async function copyFloor(header: string[], encoding: 'WIN1252' | 'UTF8', clean: string): Promise<number> {
  const psql = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', BENCH_BASE_URL];
  const table = `copy_floor_${process.pid}`;
  const cols = header.map((c) => `"${c.toLowerCase()}" text`).join(', ');
  const prep = await run('psql', [...psql, '-c', `drop table if exists ${table}`, '-c', `create unlogged table ${table} (${cols})`]);
  if (prep.code !== 0) throw new Error(prep.stderr);
  try {
    const copy = await run('psql', [...psql, '-c', `\\copy ${table} from '${clean}' with (format csv, header true, encoding '${encoding}')`]);
    if (copy.code !== 0) throw new Error(`\\copy failed: ${copy.stderr}`);
    return copy.seconds;
  } finally {
    await run('psql', [...psql, '-c', `drop table if exists ${table}`]);
  }
}

/** The whole `audience --json ingest census FILES...` (normalize included) of the checkout at `root`, with its peak RSS. */
export async function ingestWhole(
  url: string,
  files: string[],
  extra: string[] = [],
  root: string = ROOT,
): Promise<{ seconds: number; rssMb: number; cpuSeconds: number; serverCpuSeconds: number; summary: Record<string, unknown>; stderr: string }> {
  const bin = path.join(root, 'bin/audience.mjs');
  // The server's share, from /proc (reads only: no query competes with the command for the cores).
  const server = await serverCpuProbe(new URL(url).pathname.slice(1));
  const polling = setInterval(() => server?.poll(), SERVER_POLL_MS);
  let r: Ran;
  try {
    r = await run('/usr/bin/time', ['-f', 'MAXRSS_KB=%M CPU_S=%U+%S', process.execPath, bin, '--json', 'ingest', 'census', ...extra, ...files], cliEnv(url));
  } finally {
    clearInterval(polling);
  }
  server?.poll();
  const serverCpuSeconds = server ? server.totalS() : NaN;
  if (r.code !== 0) throw new Error(`ingest failed (${r.code}): ${r.stderr.slice(-4000)}`);
  const rssMb = Number(/MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024;
  // The CLI process's own user+sys time (the PostgreSQL server's work is not in it).
  const cpu = /CPU_S=([\d.]+)\+([\d.]+)/.exec(r.stderr);
  const cpuSeconds = cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN;
  return { seconds: r.seconds, rssMb, cpuSeconds, serverCpuSeconds, summary: JSON.parse(r.stdout) as Record<string, unknown>, stderr: r.stderr };
}

/**
 * Runs a benchmark's body when its module is the program (not when another bench imports it):
 * the build first, then the body; exit 1 when it says a target is missed, or fails.
 */
export function benchMain(moduleUrl: string, body: () => Promise<boolean>): void {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  build()
    .then(body)
    .then((ok) => {
      if (ok) return;
      console.log('a target is missed');
      process.exitCode = 1;
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    });
}
