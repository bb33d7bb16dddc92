/**
 * npm run bench:build — the main job at full scale: 2M carriers in PostgreSQL (generated with
 * set-based SQL), a build of a 3,000-address day pushed to the Listmonk double (in its own process,
 * like the real server) with 20 ms latency per request. Prints the selection time (segments, the
 * rules on the best-ranked addresses, the cap decision and the ledger insert) and the part of it
 * that holds the reservation lock, the summary's full counts (every candidate judged, after commit),
 * the whole build, and push throughput against the concurrency bound
 * (concurrency / latency: what a client that never idles could reach).
 *
 * Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; a scratch database is created
 * beside it and dropped), BENCH_CARRIERS (default 2,000,000), BENCH_LATENCY_MS (default 20).
 * Targets: selection < 3 s, push ≥ 90% of the bound.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { scratchDatabase } from './scratch-db.ts';
import { BENCH_DATE, GENERATE } from './carrier-universe.ts';
import { segmentBuild } from '../src/push/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { openStore } from '../src/db/store.ts';
import { createListmonkClient } from '../src/listmonk/index.ts';
import { DEFAULT_USER } from '../test/listmonk-double/index.ts';

const CARRIERS = Number(process.env.BENCH_CARRIERS ?? 2_000_000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const DATE = BENCH_DATE;



/** Starts the double in a child process (bench/listmonk-double-server.ts) and returns its URL. */
async function startDouble() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'listmonk-double-server.ts')], {
    env: { ...process.env, BENCH_LATENCY_MS: String(LATENCY_MS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { url: (JSON.parse(line) as { url: string }).url, stop: () => child.kill('SIGTERM') };
}

const sink = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

async function main() {
  // BENCH_KEEP_DB=name keeps (and on later runs reuses) the generated database, to iterate on the build.
  const keep = process.env.BENCH_KEEP_DB;
  const scratch = await scratchDatabase(keep ?? `audience_bench_build_${process.pid}`, { reuse: keep !== undefined });
  const { url, existed: exists } = scratch;
  const double = await startDouble();
  const store = await openStore({ url, dataDir: '' });
  try {
    await migrate(store);
    let t = performance.now();
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    await client.connect();
    try {
      if (!exists) {
        await client.query(GENERATE(CARRIERS));
        console.log(`generated ${CARRIERS.toLocaleString('en-US')} carriers (set-based SQL) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      } else console.log(`reusing database ${keep}`);
      // Every run starts from an empty ledger: the day's cap is fully available.
      await client.query('truncate push_ledger, build_lists, listmonk_blocklist_sync');
    } finally {
      await client.end();
    }

    const config = loadConfig({ env: {}, cwd: '/nonexistent', overrides: { timezone: 'America/Chicago', warmup: { start: '2026-11-01' } } });
    const now = new Date(`${DATE}T12:00:00Z`);
    const ctx = { config, store, out: createOutput({ json: true, quiet: true, stdout: sink(), stderr: sink() }), now: () => now };

    t = performance.now();
    const dry = await segmentBuild(ctx, { dryRun: true });
    console.log(
      `dry run: ${dry.segments.map((s) => `${s.name} eligible ${s.eligible.toLocaleString('en-US')}`).join(', ')}; selection ${dry.timings.select.toFixed(2)} s (lock ${dry.timings.lock.toFixed(3)} s), counts ${dry.timings.count.toFixed(2)} s (whole run ${((performance.now() - t) / 1000).toFixed(2)} s)`,
    );

    const lm = createListmonkClient({ ...config.listmonk, url: double.url, apiUser: DEFAULT_USER.username, apiToken: DEFAULT_USER.token }, { now: () => now });
    t = performance.now();
    const s = await segmentBuild(ctx, { listmonk: lm });
    const whole = (performance.now() - t) / 1000;
    const pushed = s.segments.reduce((n, g) => n + g.pushed, 0);
    const bound = config.listmonk.concurrency / (LATENCY_MS / 1000);
    const rate = pushed / s.timings.push;
    console.log(`build: warmup day ${s.warmupDay}, cap ${s.dailyCap}; ${s.segments.map((g) => `${g.name} ${g.pushed}`).join(', ')} pushed`);
    console.log(`excluded: ${Object.entries(s.excluded).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}`);
    console.log(
      `selection: ${s.timings.select.toFixed(2)} s (target < 3 s: ranking, rules on the best-ranked window, cap decision and ledger insert), of which ${s.timings.lock.toFixed(3)} s hold the reservation lock; ` +
        `judging every candidate for the summary counts: ${s.timings.count.toFixed(2)} s; whole build ${whole.toFixed(2)} s`,
    );
    console.log(
      `push: ${pushed} addresses in ${s.timings.push.toFixed(2)} s = ${rate.toFixed(1)}/s; bound ${config.listmonk.concurrency} / ${LATENCY_MS} ms = ${bound.toFixed(0)}/s; ${((rate / bound) * 100).toFixed(1)}% of the bound (target ≥ 90%)`,
    );
    const subs = (await (await fetch(`${double.url}/api/subscribers?per_page=1`, { headers: { Authorization: `token ${DEFAULT_USER.username}:${DEFAULT_USER.token}` } })).json()) as { data: { total: number } };
    console.log(`Listmonk double (own process, ${LATENCY_MS} ms per request): ${subs.data.total} subscribers`);
  } finally {
    await store.close();
    double.stop();
    await scratch.drop();
  }
}

await main();
