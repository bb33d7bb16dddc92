/**
 * npm run bench:analyst — the commands an analyst (or cron) waits for, timed as a user sees them:
 * the real CLI (`node bin/audience.mjs ...`) spawned from process start to exit, on a 2M-carrier
 * PostgreSQL database with MX verdicts for every domain, 90 days of ledger, delivery events,
 * suppressions, opt-outs and holds (bench/carrier-universe.ts). Prints each figure beside its target
 * and exits 1 when one is missed.
 *
 * Generating that database takes minutes, so it is kept as a named database (BENCH_ANALYST_DB,
 * default audience_bench_2m, beside DATABASE_URL) and reused while its stamp matches what the
 * generator would make now; BENCH_REGENERATE=1 makes it again.
 *
 * Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_RUNS (default 3: each
 * command runs that many times after one unmeasured run; the median is held against the target,
 * min–max printed). Arguments keep only the commands whose name contains one of them
 * (`npm run bench:startup` is `help explain`).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { BENCH_DATE, GENERATE, HISTORY } from './carrier-universe.ts';
import { BENCH_BASE_URL, withDatabase } from './scratch-db.ts';
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
}

function time(args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'audience.mjs'), ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`audience ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return ms;
}

async function main() {
  if (!existsSync(path.join(root, 'dist', 'build-stamp.json'))) console.log('no dist/ build: the CLI runs its sources through tsx (run `npm run build` first for the figures a user gets)');
  const url = await prepareDatabase();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const address = (await c.query<{ address: string }>(`select address from emails where domain like 'carrier%' order by id limit 1 offset 5000`)).rows[0]!.address;
  await c.end();

  // The environment a user's shell would give: only what the product reads.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: url, AUDIENCE_NOW: `${BENCH_DATE}T12:00:00Z`, AUDIENCE_WARMUP_START: '2026-08-01', AUDIENCE_TZ: 'America/Chicago' };
  const cases: Case[] = [
    { name: 'audience --help', args: ['--help'], targetMs: 150 },
    { name: `audience explain ${address}`, args: ['explain', address], targetMs: 300 },
    { name: 'audience status', args: ['status'], targetMs: 1000 },
    { name: 'audience plan --days 14', args: ['plan', '--days', '14'], targetMs: 3000 },
    { name: 'audience build --dry-run', args: ['build', '--dry-run'], targetMs: 3000 },
  ];
  const only = process.argv.slice(2);
  let missed = 0;
  for (const k of cases.filter((k) => !only.length || only.some((o) => k.name.includes(o)))) {
    time(k.args, env); // warm the page cache and the server's buffers, as a second run of the day would be
    const ms = Array.from({ length: RUNS }, () => time(k.args, env)).sort((a, b) => a - b);
    const median = ms[Math.floor(ms.length / 2)]!;
    const ok = median <= k.targetMs;
    if (!ok) missed++;
    const fmt = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
    console.log(`${k.name.padEnd(44)} median ${fmt(median).padStart(8)} (${fmt(ms[0]!)}–${fmt(ms.at(-1)!)}, ${RUNS} runs)  target ≤ ${fmt(k.targetMs)}  ${ok ? 'ok' : 'MISSED'}`);
  }
  console.log(`load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (missed) {
    console.log(`${missed} target(s) missed`);
    process.exitCode = 1;
  }
}

await main();
