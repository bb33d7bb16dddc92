/**
 * npm run bench:analyst — the commands an analyst (or cron) waits for, timed as a user sees them:
 * the real CLI (`node bin/audience.mjs ...`) spawned from process start to exit, on a 2M-carrier
 * PostgreSQL database with MX verdicts for every domain, 90 days of ledger, delivery events,
 * suppressions, opt-outs and holds (bench/carrier-universe.ts). Prints each figure beside its target
 * and exits 1 when one is missed. `plan` is timed three times: as the day goes on, as the day's
 * first command after the nightly check-mx has rewritten MX verdicts, and as the first after a
 * census refresh has changed carriers.
 *
 * Generating that database takes minutes, so it is kept as a named database (BENCH_ANALYST_DB,
 * default audience_bench_2m, beside DATABASE_URL) and reused while its stamp matches what the
 * generator would make now; BENCH_REGENERATE=1 makes it again.
 *
 * Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_RUNS (default 3: each
 * command runs that many times after one unmeasured run; the median is held against the target,
 * min–max printed). Arguments keep only the commands whose name contains one of them
 * (`npm run bench:startup` is `help explain`).
 *
 * BENCH_REFERENCE=<git revision> (e.g. main) also times that revision's CLI, built into a scratch
 * folder with this checkout's node_modules, run for run alternating with this one, so each figure
 * stands beside its previous one measured under the same load. Each figure also gives the CPU time
 * (user + system) of the CLI process and of the database server's processes serving it (backends
 * and their parallel workers, sampled from /proc while the command runs: the server is local),
 * which the machine's other work inflates far less than the wall clock.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { BENCH_DATE, GENERATE, HISTORY } from './carrier-universe.ts';
import { BENCH_BASE_URL, withDatabase } from './scratch-db.ts';
import { serverCpuProbe } from './server-cpu.ts';
import { migrate } from '../src/db/migrate.ts';
import { openStore } from '../src/db/store.ts';

const CARRIERS = 2_000_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DB = process.env.BENCH_ANALYST_DB ?? 'audience_bench_2m';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The stamp names what the data was made from: a change to the generator makes it again.
const STAMP = createHash('sha256').update(`${CARRIERS}\n${GENERATE(CARRIERS)}\n${HISTORY}`).digest('hex').slice(0, 16);

async function prepareDatabase(): Promise<string> {
  const url = withDatabase(BENCH_BASE_URL, DB);
  const admin = new pg.Client({ connectionString: BENCH_BASE_URL });
  await admin.connect();
  try {
    const existed = (await admin.query('select 1 from pg_database where datname = $1', [DB])).rowCount === 1;
    if (existed && process.env.BENCH_REGENERATE !== '1') {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      const r = await c.query<{ stamp: string }>(`select stamp from bench_stamp`).catch(() => ({ rows: [] as { stamp: string }[] }));
      await c.end();
      if (r.rows[0]?.stamp === STAMP) {
        await migrateDatabase(url); // a migration added since the data was made applies to it as to a user's database
        console.log(`reusing database ${DB} (stamp ${STAMP})`);
        return url;
      }
    }
    if (existed) await admin.query(`drop database ${DB} with (force)`);
    await admin.query(`create database ${DB}`);
  } finally {
    await admin.end();
  }
  const t = performance.now();
  await migrateDatabase(url);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(GENERATE(CARRIERS));
    await c.query(HISTORY);
    // As autovacuum leaves a database that has been in use: hint bits and the visibility map set,
    // so index-only scans are index-only (a freshly loaded table fetches every heap page).
    await c.query('vacuum analyze');
    // Written last: a generation cut short leaves no stamp and is made again.
    await c.query(`create table bench_stamp (stamp text not null); insert into bench_stamp values ('${STAMP}')`);
  } finally {
    await c.end();
  }
  console.log(`generated ${DB}: ${CARRIERS.toLocaleString('en-US')} carriers and 90 days of history in ${((performance.now() - t) / 1000).toFixed(0)} s (kept for the next run)`);
  return url;
}

async function migrateDatabase(url: string) {
  const store = await openStore({ url, dataDir: '' });
  try {
    await migrate(store);
  } finally {
    await store.close();
  }
}

interface Case {
  name: string;
  args: string[];
  targetMs: number;
  /** With BENCH_REFERENCE, also hold the command's --json summary to the reference's. */
  compare?: boolean;
  /**
   * Before each run, the writes of a job that runs before it (checkMxWrites, censusWrites): the
   * first plan or build after them. Not timed for BENCH_REFERENCE: its copy of the database has
   * this checkout's schema (triggers included), so it would not see the write as the reference's
   * own schema does.
   */
  after?: (db: string) => Promise<void>;
}

/** A night's check-mx, as the tables see it: 300 domains' verdicts rewritten (checked again). */
async function checkMxWrites(db: string): Promise<void> {
  const c = new pg.Client({ connectionString: withDatabase(BENCH_BASE_URL, db) });
  await c.connect();
  try {
    await c.query(`update mx_domains set checked_at = checked_at + interval '1 second', expires_at = expires_at + interval '1 second'
      where domain in (select domain from mx_domains order by md5(domain || checked_at::text) limit 300)`);
  } finally {
    await c.end();
  }
}

/**
 * A census refresh, as the tables the kept verdicts are built from see it: 1,000 carriers written
 * (their values unchanged, so every run plans the same audience).
 */
async function censusWrites(db: string): Promise<void> {
  const c = new pg.Client({ connectionString: withDatabase(BENCH_BASE_URL, db) });
  await c.connect();
  try {
    await c.query(`update carriers set updated_at = updated_at + interval '1 second'
      where dot_number in (select dot_number from carriers order by md5(dot_number::text || updated_at::text) limit 1000)`);
  } finally {
    await c.end();
  }
}

/** The command's --json summary (stdout), run once untimed. */
function runJson(cliRoot: string, args: string[], env: NodeJS.ProcessEnv): unknown {
  const r = spawnSync(process.execPath, [path.join(cliRoot, 'bin', 'audience.mjs'), ...args, '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`audience ${args.join(' ')} --json (${cliRoot}) exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout);
}

/** Two summaries are the same but for what names the run itself: its id, start, duration, timings. */
function sameSummary(a: unknown, b: unknown): boolean {
  const strip = (v: unknown) => JSON.stringify(v, (k, x) => (['runId', 'startedAt', 'seconds', 'timings'].includes(k) ? undefined : x));
  return strip(a) === strip(b);
}

interface Timing {
  ms: number;
  /** CPU of the CLI process (user + system). */
  clientMs: number;
  /** CPU of the database server's processes for the bench database, or null without /proc. */
  serverMs: number | null;
}

/**
 * Runs the CLI at `root` once, process start to exit, sampling the server's processes for the
 * database every 20 ms (a process's last few ms after the final sample are missed).
 */
async function time(cliRoot: string, args: string[], env: NodeJS.ProcessEnv, db: string): Promise<Timing> {
  const server = await serverCpuProbe(db);
  const usageFile = path.join(os.tmpdir(), `audience-bench-${process.pid}.usage`);
  const viaTime = existsSync('/usr/bin/time');
  const cmd = viaTime ? '/usr/bin/time' : process.execPath;
  const argv = viaTime ? ['-f', '%U %S', '-o', usageFile, process.execPath, path.join(cliRoot, 'bin', 'audience.mjs'), ...args] : [path.join(cliRoot, 'bin', 'audience.mjs'), ...args];
  const t = performance.now();
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const sampler = setInterval(() => server?.poll(), 20);
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const ms = performance.now() - t;
  clearInterval(sampler);
  if (status !== 0) throw new Error(`audience ${args.join(' ')} (${cliRoot}) exited ${status}: ${stderr.slice(-2000)}`);
  let clientMs = NaN;
  if (viaTime) {
    const [u, sys] = readFileSync(usageFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
    clientMs = (u! + sys!) * 1000;
    rmSync(usageFile, { force: true });
  }
  const serverMs = server ? server.totalS() * 1000 : null;
  return { ms, clientMs, serverMs };
}

/**
 * The database the reference CLI runs on: a copy of DB (made again each run, so the two hold the
 * same data), without the ledger rows of migrations the reference does not know, which it would
 * refuse to run against ("the database has migrations this version of audience does not know").
 * What those migrations created stays, unused by the reference. With no such migration, DB itself.
 */
async function referenceDatabase(refRoot: string): Promise<string> {
  const known = new Set(readdirSync(path.join(refRoot, 'sql')).flatMap((f) => (/^\d{4}_[a-z0-9_]+\.sql$/.test(f) ? [Number(f.slice(0, 4))] : [])));
  const url = withDatabase(BENCH_BASE_URL, DB);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const unknown = (await c.query<{ id: number }>('select id from audience_migrations')).rows.filter((r) => !known.has(Number(r.id)));
  await c.end();
  if (!unknown.length) return DB;
  const copy = `${DB}_ref`;
  const admin = new pg.Client({ connectionString: BENCH_BASE_URL });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${copy} with (force)`);
    await admin.query(`create database ${copy} template ${DB}`);
  } finally {
    await admin.end();
  }
  const r = new pg.Client({ connectionString: withDatabase(BENCH_BASE_URL, copy) });
  await r.connect();
  await r.query('delete from audience_migrations where id = any($1::int[])', [unknown.map((u) => u.id)]);
  await r.end();
  console.log(`reference database: ${copy}, a copy of ${DB} without migration(s) ${unknown.map((u) => u.id).join(', ')} in its ledger`);
  return copy;
}

/** The CLI of git revision `rev`, built into a scratch folder beside this checkout's node_modules. */
function referenceBuild(rev: string): { root: string; drop: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'audience-reference-'));
  execFileSync('sh', ['-c', `git -C "${root}" archive "${rev}" | tar -x -C "${dir}"`], { stdio: 'inherit' });
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync(process.execPath, [path.join(dir, 'scripts', 'build.mjs')], { cwd: dir, stdio: 'ignore' });
  const sha = execFileSync('git', ['-C', root, 'rev-parse', '--short', rev], { encoding: 'utf8' }).trim();
  console.log(`reference: ${rev} (${sha}) built in ${dir}`);
  return { root: dir, drop: () => rmSync(dir, { recursive: true, force: true }) };
}

const fmt = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function describe(ts: Timing[]): string {
  const ms = ts.map((t) => t.ms).sort((a, b) => a - b);
  const cpu = `cpu ${fmt(median(ts.map((t) => t.clientMs)))} client` + (ts[0]!.serverMs === null ? '' : ` + ${fmt(median(ts.map((t) => t.serverMs!)))} server`);
  return `median ${fmt(median(ms)).padStart(8)} (${fmt(ms[0]!)}–${fmt(ms.at(-1)!)}, ${cpu})`;
}

async function main() {
  if (!existsSync(path.join(root, 'dist', 'build-stamp.json'))) console.log('no dist/ build: the CLI runs its sources through tsx (run `npm run build` first for the figures a user gets)');
  const url = await prepareDatabase();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const address = (await c.query<{ address: string }>(`select address from emails where domain like 'carrier%' order by id limit 1 offset 5000`)).rows[0]!.address;
  await c.end();
  const reference = process.env.BENCH_REFERENCE ? referenceBuild(process.env.BENCH_REFERENCE) : null;
  const refDb = reference ? await referenceDatabase(reference.root) : DB;

  // The environment a user's shell would give: only what the product reads.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: url, AUDIENCE_NOW: `${BENCH_DATE}T12:00:00Z`, AUDIENCE_WARMUP_START: '2026-08-01', AUDIENCE_TZ: 'America/Chicago' };
  const refEnv: NodeJS.ProcessEnv = { ...env, DATABASE_URL: withDatabase(BENCH_BASE_URL, refDb) };
  const cases: Case[] = [
    { name: 'audience --help', args: ['--help'], targetMs: 150 },
    { name: `audience explain ${address}`, args: ['explain', address], targetMs: 300 },
    { name: 'audience status', args: ['status'], targetMs: 1000 },
    { name: 'audience plan --days 14', args: ['plan', '--days', '14'], targetMs: 3000, compare: true },
    { name: 'audience build --dry-run', args: ['build', '--dry-run'], targetMs: 3000, compare: true },
    { name: 'audience plan --days 14, the first after a check-mx', args: ['plan', '--days', '14'], targetMs: 3000, after: checkMxWrites },
    { name: 'audience plan --days 14, the first after a census refresh', args: ['plan', '--days', '14'], targetMs: 3000, after: censusWrites },
  ];
  const only = process.argv.slice(2);
  let missed = 0;
  try {
    for (const k of cases.filter((k) => !only.length || only.some((o) => k.name.includes(o)))) {
      const withReference = reference && !k.after ? reference : null;
      const ourRun = async () => {
        await k.after?.(DB);
        return time(root, k.args, env, DB);
      };
      // Warm the page cache and the server's buffers, as a second run of the day would be.
      await ourRun();
      if (withReference) await time(withReference.root, k.args, refEnv, refDb);
      const ours: Timing[] = [];
      const theirs: Timing[] = [];
      for (let i = 0; i < RUNS; i++) {
        const load = os.loadavg()[0]!;
        ours.push(await ourRun());
        if (withReference) theirs.push(await time(withReference.root, k.args, refEnv, refDb));
        if (i === 0) console.log(`${k.name}: load average (1 min) ${load.toFixed(2)} at the first run`);
      }
      const ok = median(ours.map((t) => t.ms)) <= k.targetMs;
      if (!ok) missed++;
      // A faster command must say the same: its --json summary is held to the reference's.
      if (reference && k.compare) {
        const same = sameSummary(runJson(root, k.args, env), runJson(reference.root, k.args, refEnv));
        if (!same) missed++;
        console.log(`  --json summary ${same ? 'the same as' : 'DIFFERENT from'} ${process.env.BENCH_REFERENCE}'s`);
      }
      console.log(`  this checkout  ${describe(ours)}  target ≤ ${fmt(k.targetMs)}  ${ok ? 'ok' : 'MISSED'}`);
      if (withReference) console.log(`  ${process.env.BENCH_REFERENCE!.padEnd(13)}  ${describe(theirs)}`);
      else if (reference) console.log(`  ${process.env.BENCH_REFERENCE!.padEnd(13)}  not timed: its database copy has this checkout's triggers`);
    }
  } finally {
    reference?.drop();
    if (refDb !== DB) {
      const admin = new pg.Client({ connectionString: BENCH_BASE_URL });
      await admin.connect();
      await admin.query(`drop database if exists ${refDb} with (force)`).finally(() => admin.end());
    }
  }
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} CPUs)`);
  if (missed) {
    console.log(`${missed} target(s) missed`);
    process.exitCode = 1;
  }
}

await main();
