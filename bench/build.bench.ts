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
import { segmentBuild } from '../pipelines/segment-build.ts';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { openStore } from '../src/db/store.ts';
import { createListmonkClient } from '../src/listmonk/index.ts';
import { DEFAULT_USER } from '../test/listmonk-double/index.ts';

const CARRIERS = Number(process.env.BENCH_CARRIERS ?? 2_000_000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const DATE = '2026-11-28';


/**
 * A census-shaped universe: 95% active, 76% with an address; a quarter at gmail.com, some Yahoo
 * family and consumer Outlook, the rest on 200k company domains with MX verdicts (google,
 * microsoft365, other; 3% dead, 2% unknown); MCS-150 dates spread over four years so about a third
 * are overdue; 1 in 400 addresses suppressed. Pseudo-random but deterministic (hash of the row).
 */
const GENERATE = (n: number) => `
insert into carriers (dot_number, legal_name, status, mcs150_date, add_date, phy_state, power_units,
                      source_format, source_file, source_line, first_run_id, changed_run_id)
select 1000000 + g, 'CARRIER ' || g || ' LLC', case when g % 20 = 0 then 'inactive' else 'active' end,
       case when g % 13 = 0 then null else date '${DATE}' - ((g::bigint * 2654435761) % 1500)::int end,
       date '${DATE}' - ((g::bigint * 40503) % 9000)::int,
       'TX', (g % 40) + 1, 'bench', 'bench', g, 0, 0
from generate_series(1, ${n}) g;

insert into emails (id, address, local_part, domain, valid, carrier_count, normalizer_version)
overriding system value
select g, 'd' || g || '@' || dom, 'd' || g, dom, true, 1, 1
from (select g, case when g % 100 < 25 then 'gmail.com'
                     when g % 100 < 32 then 'yahoo.com'
                     when g % 100 < 35 then 'aol.com'
                     when g % 100 < 40 then 'hotmail.com'
                     else 'carrier' || ((g::bigint * 7919) % 200000) || '.test' end as dom
      from generate_series(1, ${n}) g where g % 25 < 19) s;
select setval(pg_get_serial_sequence('emails', 'id'), ${n} + 1);

insert into carrier_emails (dot_number, email_id, position)
select 1000000 + id, id, 1 from emails;

insert into mx_domains (domain, verdict, reason, provider, mx_hosts, mx_preferences, checked_at, expires_at, source)
select 'carrier' || i || '.test',
       case when i % 100 < 3 then 'dead' when i % 100 < 5 then 'unknown' else 'deliverable' end,
       case when i % 100 < 3 then 'nxdomain' when i % 100 < 5 then 'timeout' else 'mx' end,
       case when i % 100 < 5 then null when i % 100 < 20 then 'google' when i % 100 < 35 then 'microsoft365' else 'other' end,
       '{}'::text[], '{}'::int[], now(), now() + interval '7 days', 'import'
from generate_series(0, 199999) i
union all
select d, 'deliverable', 'mx', null, '{}'::text[], '{}'::int[], now(), now() + interval '7 days', 'import'
from unnest(array['gmail.com', 'yahoo.com', 'aol.com', 'hotmail.com']) d;

insert into suppressions (kind, value, reason, source, evidence, first_seen, last_seen)
select 'address', address, 'recipient_invalid', 'scrub', '{}'::jsonb, now(), now() from emails where id % 400 = 7;

analyze;
`;

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
      `dry run: ${dry.segments.map((s) => `${s.name} eligible ${s.eligible.toLocaleString('en-US')}`).join(', ')}; selection ${dry.seconds.select.toFixed(2)} s (lock ${dry.seconds.lock.toFixed(3)} s), counts ${dry.seconds.count.toFixed(2)} s (whole run ${((performance.now() - t) / 1000).toFixed(2)} s)`,
    );

    const lm = createListmonkClient({ ...config.listmonk, url: double.url, apiUser: DEFAULT_USER.username, apiToken: DEFAULT_USER.token }, { now: () => now });
    t = performance.now();
    const s = await segmentBuild(ctx, { listmonk: lm });
    const whole = (performance.now() - t) / 1000;
    const pushed = s.segments.reduce((n, g) => n + g.pushed, 0);
    const bound = config.listmonk.concurrency / (LATENCY_MS / 1000);
    const rate = pushed / s.seconds.push;
    console.log(`build: warmup day ${s.warmupDay}, cap ${s.dailyCap}; ${s.segments.map((g) => `${g.name} ${g.pushed}`).join(', ')} pushed`);
    console.log(`excluded: ${Object.entries(s.excluded).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}`);
    console.log(
      `selection: ${s.seconds.select.toFixed(2)} s (target < 3 s: ranking, rules on the best-ranked window, cap decision and ledger insert), of which ${s.seconds.lock.toFixed(3)} s hold the reservation lock; ` +
        `judging every candidate for the summary counts: ${s.seconds.count.toFixed(2)} s; whole build ${whole.toFixed(2)} s`,
    );
    console.log(
      `push: ${pushed} addresses in ${s.seconds.push.toFixed(2)} s = ${rate.toFixed(1)}/s; bound ${config.listmonk.concurrency} / ${LATENCY_MS} ms = ${bound.toFixed(0)}/s; ${((rate / bound) * 100).toFixed(1)}% of the bound (target ≥ 90%)`,
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
