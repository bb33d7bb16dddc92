/**
 * npm run bench:demo — `npm run demo` as a new user waits for it, process start to exit, on the
 * embedded database and the sample data, next to the reference measured in the same run: the same
 * nine commands each in its own process (`node bin/audience.mjs ...`, what the demo ran before its
 * steps shared one open database), on the same fresh data dir.
 *
 * Each figure is the median of BENCH_RUNS (default 3) runs, alternating demo and reference, each
 * from a fresh data dir, with its peak RSS. The machine's load average is printed with them: on a
 * shared machine compare the two columns of one run, not runs of different days.
 * Target: the demo at most 10 s (issue #15), with the build fresh (npm ci has run `prepare`).
 * Exits 1 when the target is missed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without types
import { isBuildFresh } from '../scripts/build.mjs';
// @ts-expect-error: a plain .mjs script without types
import { demoSteps, writeDemoData } from '../scripts/demo-data.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const TARGET_S = 10;

interface Timed {
  seconds: number;
  rssMb: number;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AUDIENCE_') && !k.startsWith('LISTMONK_') && k !== 'DATABASE_URL') env[k] = v;
  return { ...env, ...extra };
}

/** Runs a command under /usr/bin/time; its wall time from spawn to exit and its peak RSS. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', cmd, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${err.slice(-2000)}`));
      resolve({ seconds, rssMb: Number(/MAXRSS_KB=(\d+)/.exec(err)?.[1] ?? NaN) / 1024 });
    });
  });
}

async function demo(): Promise<Timed> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'audience-bench-demo-'));
  try {
    return await timed(process.execPath, [path.join(ROOT, 'scripts/demo.mjs')], cleanEnv({ DEMO_DIR: dir, NO_COLOR: '1' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same steps, one process each. */
async function perProcess(): Promise<Timed> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'audience-bench-demo-ref-'));
  try {
    const data = writeDemoData(path.join(dir, 'samples'), new Date(), 'America/Chicago') as { census: string; maillog: string; snapshot: string; warmupStart: string };
    const out = path.join(dir, 'out');
    const env = cleanEnv({ AUDIENCE_DATA_DIR: path.join(dir, 'db'), AUDIENCE_CONFIG: 'data-samples/audience.config.json', AUDIENCE_WARMUP_START: data.warmupStart, NO_COLOR: '1' });
    const steps = demoSteps(data, out) as string[][];
    let seconds = 0;
    let rssMb = 0;
    for (const s of steps) {
      const t = await timed(process.execPath, [path.join(ROOT, 'bin/audience.mjs'), ...s], env);
      seconds += t.seconds;
      rssMb = Math.max(rssMb, t.rssMb);
    }
    return { seconds, rssMb };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  if (!isBuildFresh()) console.log('note: dist/ is older than the sources: both run through tsx (run `npm run build` first for the figures users see)');
  const d: Timed[] = [];
  const r: Timed[] = [];
  const loads: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    loads.push(os.loadavg()[0]!.toFixed(2));
    d.push(await demo());
    r.push(await perProcess());
    console.log(`run ${i + 1}: demo ${d[i]!.seconds.toFixed(2)} s (${d[i]!.rssMb.toFixed(0)} MB); one process per command ${r[i]!.seconds.toFixed(2)} s (${r[i]!.rssMb.toFixed(0)} MB)`);
  }
  const dm = median(d.map((x) => x.seconds));
  const rm = median(r.map((x) => x.seconds));
  console.log(
    [
      `npm run demo (whole, median of ${RUNS}): ${dm.toFixed(2)} s, peak RSS ${median(d.map((x) => x.rssMb)).toFixed(0)} MB   target <= ${TARGET_S} s ${dm <= TARGET_S ? 'OK' : 'MISSED'}`,
      `reference, the same 9 commands one process each: ${rm.toFixed(2)} s, peak RSS ${median(r.map((x) => x.rssMb)).toFixed(0)} MB (${(rm / dm).toFixed(1)}x the demo)`,
      `load average (1 min) at each run's start: ${loads.join(', ')}; ${os.cpus().length} CPU(s)`,
    ].join('\n'),
  );
  if (dm > TARGET_S) process.exitCode = 1;
}

await main();
