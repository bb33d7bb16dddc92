/**
 * npm run bench:scrub — the bounce scrub on a realistic 1.6M-line bulk-sender mail.log, next to
 * pflogsumm (Debian package `pflogsumm`) on the same file when it is installed.
 *
 * Each measurement runs in its own process, so each peak RSS is its own:
 *   scrub (pg)     — the headline: `scrub-bounces` as users run it (a worker thread reads and
 *                    parses while the main thread links, then
 *                    writes events/sent counts/checkpoints/open messages per batch, then suppressions,
 *                    holds and health) into PostgreSQL, in a scratch database beside
 *                    DATABASE_URL (default the local server) dropped afterwards. Its CPU figure adds the server backends' CPU
 *                    (read from /proc when the server is local) to the process's own;
 *   scrub (pglite) — the same into the embedded PGlite (in memory; single-threaded WASM, so the
 *                    database's CPU is in the process figure and nothing runs in parallel);
 *   parse+link     — read, parse, link and classify on one thread without any database: the part
 *                    pflogsumm does;
 *   pflogsumm --detail 0 -q FILE.
 * Lines/s are given by wall clock and by CPU time (user+sys): on a shared machine the CPU figure is
 * the fairer comparison. A breakdown of the scrub's main thread (waiting for parsed chunks, linking,
 * batch cut, writes and how much of them the reader waited for, policies) explains the figure. Target: scrub >= 4x pflogsumm.
 *
 * Each run measures the scrub into PostgreSQL and pflogsumm one right after the other (a fair
 * pair on a machine whose speed drifts), then the others; with BENCH_RUNS > 1 the summary gives
 * every run's ratio and their median.
 *
 * Then the whole command as cron runs it: `node bin/audience.mjs scrub-bounces FILE` (the build in
 * dist/, made first if stale), process start to exit, into a scratch database migrated beforehand,
 * against the same run's pflogsumm (target >= 4x by wall); and the same command again on the
 * unchanged log, 3 times (median; target < 0.3 s). The bench exits 1 when either median misses,
 * or when the first whole command's tables differ from the reference (bench/scrub-tables.ts).
 *
 * Env: BENCH_LINES (default 1,600,000), BENCH_RUNS (default 1: repeat the measurements),
 * BENCH_WHOLE=only (only pflogsumm and the whole command, each run: the headline figures, quicker),
 * BENCH_SCRUB_REFERENCE=write (keep this run's tables as the reference later runs must equal),
 * BENCH_BEFORE=DIR (with BENCH_WHOLE=only: the same whole commands from the built checkout in DIR, side by side, each going first in every other run),
 * BENCH_BATCH_LINES (the scrub's batchLines; default the config's, 500,000),
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDatabase } from './scratch-db.ts';
// @ts-expect-error: a plain .mjs script without types
import { buildDist, isBuildFresh } from '../scripts/build.mjs';
import { generateMaillog } from './maillog-generator.ts';
import { differingTables, scrubTables, type TableDigest } from './scrub-tables.ts';
import { procCpuS, serverCpuProbe } from './server-cpu.ts';
import { startingAt } from '../src/clock.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA = path.join(ROOT, 'bench/.data');
const LINES = Number(process.env.BENCH_LINES ?? 1_600_000);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 1));
/** BENCH_WHOLE=only: only pflogsumm and the whole command (with its unchanged re-runs), in each run. */
const WHOLE_ONLY = process.env.BENCH_WHOLE === 'only';
/** "Now" for every scrub the bench runs: a week after the generated log's first day (2026-11-20). */
const BENCH_NOW = '2026-12-07T12:00:00Z';
/**
 * BENCH_BEFORE=DIR (with BENCH_WHOLE=only): also the whole command of the checkout in DIR (its
 * bin/audience.mjs, built), in the same run: a before/after pair measured side by side. Give it a
 * whole checkout, sources included: without src/, bin skips its freshness check (20-25 ms of CPU
 * at every start) and the pair is not even.
 */
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE, 'bin/audience.mjs') : null;
const CAMPAIGN_CLIENTS = { '172.18.0.5': 'trucking' };
/** How often the server's CPU is read while a whole command runs (serverCpuProbe: reads of /proc only). */
const SERVER_POLL_MS = 25;

interface Measure {
  lines: number;
  wallS: number;
  /** Process CPU, plus the database server's when `serverCpuS` is known. */
  cpuS: number;
  processCpuS?: number;
  serverCpuS?: number | null;
  maxRssMB: number;
  note?: string;
  extra?: Record<string, unknown>;
}

function usage(t0: bigint, cpu0: NodeJS.CpuUsage): Omit<Measure, 'lines'> {
  const cpu = process.cpuUsage(cpu0);
  return { wallS: Number(process.hrtime.bigint() - t0) / 1e9, cpuS: (cpu.user + cpu.system) / 1e6, maxRssMB: process.resourceUsage().maxRSS / 1024 };
}

/** Child: read + parse + link + classify, no database. */
async function childParse(file: string): Promise<Measure> {
  const [{ scanFiles }, { classifyStats }] = await Promise.all([import('../src/maillog/scan.ts'), import('../src/maillog/classify.ts')]);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const r = await scanFiles([{ path: file, gz: false, live: false }], { campaignClients: new Map(Object.entries(CAMPAIGN_CLIENTS)) });
  return {
    lines: r.counts.lines,
    ...usage(t0, cpu0),
    extra: { sent: r.counts.sent, deferred: r.counts.deferred, bounced: r.counts.bounced, expired: r.counts.expired, openMessagesAtEnd: r.openMessages, classify: { ...classifyStats } },
  };
}

/**
 * CPU seconds used so far by the server backends of this database, by pid. Read from /proc: the
 * bench's server is local; when it is not (or /proc is not readable), null and the note says so.
 */
async function backendCpu(db: import('kysely').Kysely<never>): Promise<Map<number, number> | null> {
  const { sql } = await import('kysely');
  const r = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database()`.execute(db);
  const out = new Map<number, number>();
  for (const { pid } of r.rows) {
    const cpu = procCpuS(pid);
    if (cpu === null) return null;
    out.set(pid, cpu);
  }
  return out;
}

/** Child: the whole scrub-bounces run against a fresh database (pg when BENCH_DB_URL is set, else PGlite in memory). */
async function childScrub(file: string): Promise<Measure> {
  const [{ openStore }, { migrate }, { loadConfig }, { createOutput }, { runBounceScrub }, { emptyProfile }] = await Promise.all([
    import('../src/db/store.ts'),
    import('../src/db/migrate.ts'),
    import('../src/config.ts'),
    import('../src/cli/output.ts'),
    import('../src/maillog/stage.ts'),
    import('../src/maillog/scrub.ts'),
  ]);
  const url = process.env.BENCH_DB_URL;
  const store = await openStore(url ? { url, dataDir: '' } : { dataDir: '', inMemory: true });
  try {
    await migrate(store);
    const batchLines = process.env.BENCH_BATCH_LINES ? Number(process.env.BENCH_BATCH_LINES) : undefined;
    const config = loadConfig({ env: {}, cwd: os.tmpdir(), overrides: { maillog: { path: file, campaignClients: CAMPAIGN_CLIENTS, ...(batchLines ? { batchLines } : {}) } } });
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    const profile = emptyProfile();
    const db = store.db as unknown as import('kysely').Kysely<never>;
    const server0 = url ? await backendCpu(db) : null;
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const s = await runBounceScrub({ config, store, out: createOutput({ json: true, stdout: sink, stderr: sink }), now: startingAt(BENCH_NOW) }, [file], { profile });
    const u = usage(t0, cpu0);
    let serverCpuS: number | null = null;
    if (url && server0) {
      const server1 = await backendCpu(db);
      if (server1) serverCpuS = [...server1].reduce((sum, [pid, cpu]) => sum + cpu - (server0.get(pid) ?? 0), 0);
    }
    return {
      lines: s.newLines,
      ...u,
      processCpuS: u.cpuS,
      serverCpuS,
      cpuS: u.cpuS + (serverCpuS ?? 0),
      note: url
        ? serverCpuS === null
          ? 'PostgreSQL; server CPU unknown (not local?): CPU figure is this process only'
          : 'PostgreSQL; CPU = this process + its server backends (not the server background writers)'
        : 'PGlite in memory (database CPU in the process figure)',
      extra: {
        deliveries: s.deliveries,
        suppressed: s.suppressed,
        holds: s.holds.length,
        openMessages: s.openMessages,
        profile: Object.fromEntries(Object.entries(profile).map(([k, v]) => [k, Math.round(v)])),
      },
    };
  } finally {
    await store.close();
  }
}

function runChild(phase: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', phase, file], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as Measure) : reject(new Error(`${phase} child exited ${code}`))));
  });
}

function pflogsumm(file: string): Measure | string {
  const which = spawnSync('sh', ['-c', 'command -v pflogsumm'], { encoding: 'utf8' });
  if (which.status !== 0) return 'pflogsumm is not installed (apt-get install -y pflogsumm): comparison skipped';
  if (!existsSync('/usr/bin/time')) return '/usr/bin/time is missing (apt-get install -y time): comparison skipped';
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %U %S %M', 'pflogsumm', '--detail', '0', '-q', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /BENCH ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) return `pflogsumm failed: ${r.stderr.slice(-300)}`;
  const delivered = /(\d+)\s+delivered/.exec(r.stdout)?.[1];
  return { lines: LINES, wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]), maxRssMB: Number(m[4]) / 1024, extra: { delivered: Number(delivered) } };
}


/**
 * The whole command's tables against the reference kept in bench/.data (written by a run with
 * BENCH_SCRUB_REFERENCE=write, from the code before a change): the same events, outcomes,
 * suppressions and holds, or the bench fails. Returns what differs, null when all is equal.
 */
function checkTables(tables: TableDigest): string | null {
  const kept = path.join(DATA, `scrub-tables-${LINES}.json`);
  // The committed reference holds for the default log (seeded, the same everywhere); one written
  // here with BENCH_SCRUB_REFERENCE=write takes precedence.
  const committed = path.join(ROOT, 'bench/scrub-tables.reference.json');
  const ref = existsSync(kept) || process.env.BENCH_SCRUB_REFERENCE === 'write' || LINES !== 1_600_000 ? kept : committed;
  if (process.env.BENCH_SCRUB_REFERENCE === 'write') {
    writeFileSync(ref, JSON.stringify(tables, null, 2) + '\n');
    console.log(`tables of the whole command written to ${ref} as the reference`);
    return null;
  }
  if (!existsSync(ref)) {
    console.log(`no reference tables (${ref}): run once with BENCH_SCRUB_REFERENCE=write on the code before a change to compare`);
    return null;
  }
  const differ = differingTables(JSON.parse(readFileSync(ref, 'utf8')) as TableDigest, tables);
  console.log(differ.length ? `tables DIFFER from the reference ${ref}: ${differ.join(', ')}` : `tables equal the reference (${Object.keys(tables).length} tables: events, suppressions, holds, counts, checkpoints, linker state, run summary)`);
  return differ.length ? differ.join(', ') : null;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Timed {
  wallS: number;
  /** The process's user+sys (from /usr/bin/time), null without it. On a loaded machine, the steadier figure. */
  cpuS: number | null;
  /** Its server backends' CPU (polled from /proc while it runs; null when the server is not local). */
  serverCpuS: number | null;
}

/**
 * `node CLI ARGS` as a user runs it, process start to exit; throws on a non-zero exit. The wall
 * time ends when the child is reaped (taken in its close handler, not after the poll loop's next
 * turn: that added up to one poll interval). While it runs, its server backends' CPU is polled.
 */
async function wholeCommand(cli: string, args: string[], env: NodeJS.ProcessEnv, dbName: string): Promise<Timed> {
  const node = [process.execPath, cli, ...args];
  const [cmd, argv] = existsSync('/usr/bin/time') ? ['/usr/bin/time', ['-f', 'BENCH-CPU %U %S', ...node]] : [node[0]!, node.slice(1)];
  const server = await serverCpuProbe(dbName);
  const t = process.hrtime.bigint();
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let end: bigint | null = null;
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      end = process.hrtime.bigint();
      resolve(code);
    });
  });
  while (end === null) {
    server?.poll();
    await Promise.race([exited, new Promise((r) => setTimeout(r, SERVER_POLL_MS))]);
  }
  const code = await exited;
  const wallS = Number(end - t) / 1e9;
  if (code !== 0) throw new Error(`${cli} ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`);
  const m = /BENCH-CPU ([\d.]+) ([\d.]+)/.exec(stderr);
  return { wallS, cpuS: m ? Number(m[1]) + Number(m[2]) : null, serverCpuS: server ? server.totalS() : null };
}
const timedText = (t: Timed) =>
  `${t.wallS.toFixed(3)} s${t.cpuS === null ? '' : ` (CPU ${t.cpuS.toFixed(2)} s${t.serverCpuS === null ? '' : ` + server ${t.serverCpuS.toFixed(2)} s`})`}`;

/**
 * The whole scrub-bounces command of the CLI at `cli` (this checkout's by default) into a migrated
 * scratch database, then again on the unchanged log (3 times).
 */
async function wholeCommands(file: string, cli = path.join(ROOT, 'bin/audience.mjs')): Promise<{ first: Timed; unchanged: Timed[]; tables: TableDigest }> {
  const config = path.join(DATA, 'scrub-bench.config.json');
  writeFileSync(config, JSON.stringify({ maillog: { campaignClients: CAMPAIGN_CLIENTS } }) + '\n');
  const name = `audience_bench_scrubcmd_${process.pid}`;
  const db = await scratchDatabase(name);
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.url, AUDIENCE_CONFIG: config };
    for (const k of Object.keys(env)) if (k.startsWith('AUDIENCE_') && k !== 'AUDIENCE_CONFIG') delete env[k];
    // The log's lines carry no year: the command resolves it from its clock. Pinned, the committed
    // reference tables hold whatever day the bench runs on, not only until next November.
    env.AUDIENCE_NOW = BENCH_NOW;
    delete env.BENCH_DB_URL;
    await wholeCommand(cli, ['migrate'], env, name);
    const first = await wholeCommand(cli, ['scrub-bounces', file], env, name);
    const tables = await scrubTables(db.url);
    const unchanged: Timed[] = [];
    for (let i = 0; i < 3; i++) unchanged.push(await wholeCommand(cli, ['scrub-bounces', file], env, name));
    return { first, unchanged, tables };
  } finally {
    await db.drop();
  }
}

/** A run's whole-command lines: the first scrub against the same run's pflogsumm, then the unchanged re-runs. */
function reportWhole(whole: { first: Timed; unchanged: Timed[] }, pf: Measure | string, label = ''): void {
  console.log(
    `whole command \`audience scrub-bounces\`${label} (pg, migrated database): ${timedText(whole.first)}` +
      (typeof pf === 'string' ? '' : ` = ${(pf.wallS / whole.first.wallS).toFixed(2)}x pflogsumm's ${pf.wallS.toFixed(2)} s by wall (target >= 4x)`),
  );
  console.log(`whole command${label} again on the unchanged log: ${whole.unchanged.map(timedText).join(', ')} (target < 0.3 s); load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

async function main() {
  mkdirSync(DATA, { recursive: true });
  const file = path.join(DATA, `mail_bench_${LINES}.log`);
  if (!existsSync(file)) {
    const t0 = Date.now();
    const g = await generateMaillog(file, { lines: LINES });
    console.log(`generated ${file}: ${fmt(g.lines)} lines, ${fmt(g.messages)} campaign messages, ${(g.bytes / 1e6).toFixed(0)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } else console.log(`using ${file} (${(statSync(file).size / 1e6).toFixed(0)} MB)`);

  const row = (name: string, m: Measure) =>
    `${name.padEnd(22)} ${fmt(m.lines / m.wallS).padStart(11)} ${fmt(m.lines / m.cpuS).padStart(11)} ${m.wallS.toFixed(2).padStart(8)} ${m.cpuS.toFixed(2).padStart(8)} ${m.maxRssMB.toFixed(0).padStart(8)}`;
  const ratio = (a: Measure, pf: Measure) =>
    `${(a.lines / a.wallS / (pf.lines / pf.wallS)).toFixed(2)}x by wall, ${(a.lines / a.cpuS / (pf.lines / pf.cpuS)).toFixed(2)}x by CPU`;

  if (!(isBuildFresh() as boolean)) {
    console.log('dist/ is older than the sources: building it (npm run build) so the whole command runs as users run it');
    await buildDist();
  }
  /** scrub (pg) / pflogsumm lines/s by wall, per run. */
  const pairs: number[] = [];
  /** The whole command's, per run, and the unchanged re-runs' seconds. */
  const wholePairs: number[] = [];
  const unchanged: number[] = [];
  /** The same for the BENCH_BEFORE build. */
  const beforePairs: number[] = [];
  const beforeUnchanged: number[] = [];
  /** Per run: null when the tables equal the reference (or none is kept), else what differs. */
  const tableChecks: (string | null)[] = [];
  for (let run = 1; run <= RUNS; run++) {
    console.log(`\nrun ${run}/${RUNS} — machine: ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    if (WHOLE_ONLY) {
      // Only the whole command, right after the pflogsumm it is compared with.
      const pf = pflogsumm(file);
      // The command timed second in a pair gained 0.1-0.2 s over the first (measured both ways on a
      // quiet machine): the two builds take turns going first, so the medians compare like with like.
      const beforeFirst = BEFORE != null && run % 2 === 0;
      const earlier = beforeFirst ? await wholeCommands(file, BEFORE) : null;
      const whole = await wholeCommands(file);
      const before = BEFORE ? (earlier ?? (await wholeCommands(file, BEFORE))) : null;
      if (BEFORE) console.log(`order: ${beforeFirst ? 'before, then this checkout' : 'this checkout, then before'}`);
      unchanged.push(...whole.unchanged.map((t) => t.wallS));
      tableChecks.push(checkTables(whole.tables));
      if (before) {
        const differ = differingTables(before.tables, whole.tables);
        console.log(differ.length ? `tables DIFFER from the BENCH_BEFORE build's: ${differ.join(', ')}` : "tables equal the BENCH_BEFORE build's");
        if (differ.length) tableChecks.push(`against BENCH_BEFORE: ${differ.join(', ')}`);
      }
      if (typeof pf === 'string') console.log(`pflogsumm: ${pf}`);
      else {
        console.log(`pflogsumm 1.1.5: ${pf.wallS.toFixed(2)} s (CPU ${pf.cpuS.toFixed(2)} s)`);
        wholePairs.push(pf.wallS / whole.first.wallS);
        if (before) beforePairs.push(pf.wallS / before.first.wallS);
      }
      reportWhole(whole, pf);
      if (before) {
        reportWhole(before, pf, ` before (${BEFORE})`);
        beforeUnchanged.push(...before.unchanged.map((t) => t.wallS));
      }
      continue;
    }
    let scrubPg: Measure;
    const db = await scratchDatabase(`audience_bench_scrub_${process.pid}`);
    try {
      scrubPg = await runChild('scrub', file, { ...process.env, BENCH_DB_URL: db.url });
    } finally {
      await db.drop();
    }
    // pflogsumm right after the scrub it is compared with: this machine's speed drifts by tens of
    // percent over a minute (a shared host), so only neighbours in time make a fair pair.
    const pf = pflogsumm(file);
    const { BENCH_DB_URL: _ignored, ...noDb } = process.env;
    const scrubLite = await runChild('scrub', file, noDb);
    const parse = await runChild('parse', file);
    if (typeof pf !== 'string') pairs.push(scrubPg.lines / scrubPg.wallS / (pf.lines / pf.wallS));
    const whole = await wholeCommands(file);
    unchanged.push(...whole.unchanged.map((t) => t.wallS));
    tableChecks.push(checkTables(whole.tables));

    console.log(`\n${'run'.padEnd(22)} ${'lines/s'.padStart(11)} ${'lines/cpu-s'.padStart(11)} ${'wall s'.padStart(8)} ${'cpu s'.padStart(8)} ${'RSS MB'.padStart(8)}`);
    console.log(row('scrub-bounces (pg)', scrubPg));
    console.log(row('scrub-bounces (pglite)', scrubLite));
    console.log(row('parse+link (no db)', parse));
    if (typeof pf === 'string') console.log(`pflogsumm: ${pf}`);
    else {
      console.log(row('pflogsumm 1.1.5', pf));
      console.log('');
      console.log(`scrub-bounces (pg) vs pflogsumm: ${ratio(scrubPg, pf)} (target >= 4x)`);
      console.log(`scrub-bounces (pglite) vs pflogsumm: ${ratio(scrubLite, pf)}`);
      console.log(`parse+link vs pflogsumm: ${ratio(parse, pf)}`);
      console.log(`delivered: pflogsumm ${fmt(Number(pf.extra?.delivered))}, scrub sent ${fmt(Number(parse.extra?.sent))} (+ own/local deliveries of NDRs)`);
      wholePairs.push(pf.wallS / whole.first.wallS);
    }
    reportWhole(whole, pf);
    for (const [name, m] of [['pg', scrubPg], ['pglite', scrubLite]] as const) {
      if (!m) continue;
      const p = m.extra?.profile as Record<string, number>;
      console.log(
        `\nbreakdown ${name} (ms, main thread): waiting for parsed chunks ${p.readMs}, linking ${p.linkMs}, batch cut ${p.cutMs}, ` +
          `batch writes ${p.writeMs} over ${p.batches} batches (reader waited ${p.writeWaitMs} of it), policies+health ${p.policyMs}; ` +
          `string-path lines ${p.stringPathLines}; chunks parsed by the main thread until the worker was ready ${p.chunksMain}, by the worker ${p.chunksWorker}`,
      );
      console.log(`  ${m.note}${m.serverCpuS != null ? `: process ${m.processCpuS!.toFixed(2)} s + server ${m.serverCpuS.toFixed(2)} s` : ''}`);
      console.log(`  ${JSON.stringify({ deliveries: m.extra?.deliveries, suppressed: m.extra?.suppressed, holds: m.extra?.holds, openMessages: m.extra?.openMessages })}`);
    }
  }
  if (pairs.length > 1) {
    console.log(`
scrub-bounces (pg) vs pflogsumm by wall over ${pairs.length} runs: ${pairs.map((r) => r.toFixed(2)).join(', ')}; median ${median(pairs).toFixed(2)}x (target >= 4x)`);
  }
  const misses: string[] = [];
  if (wholePairs.length) {
    const m = median(wholePairs);
    console.log(`\nwhole command vs pflogsumm by wall over ${wholePairs.length} run(s): ${wholePairs.map((r) => r.toFixed(2)).join(', ')}; median ${m.toFixed(2)}x (target >= 4x) ${m >= 4 ? 'ok' : 'MISSED'}`);
    if (m < 4) misses.push('whole command < 4x pflogsumm');
  }
  const u = median(unchanged);
  console.log(`whole command on the unchanged log over ${unchanged.length} run(s): median ${u.toFixed(3)} s (${Math.min(...unchanged).toFixed(3)}–${Math.max(...unchanged).toFixed(3)}), target < 0.3 s ${u < 0.3 ? 'ok' : 'MISSED'}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  if (u >= 0.3) misses.push('unchanged log >= 0.3 s');
  if (beforePairs.length) {
    console.log(`before (${BEFORE}): whole command ${beforePairs.map((r) => r.toFixed(2)).join(', ')}; median ${median(beforePairs).toFixed(2)}x pflogsumm; unchanged log median ${median(beforeUnchanged).toFixed(3)} s (${Math.min(...beforeUnchanged).toFixed(3)}–${Math.max(...beforeUnchanged).toFixed(3)})`);
  }
  const differ = tableChecks.filter((c) => c !== null);
  if (differ.length) misses.push(`the scrub's tables differ from the reference: ${differ.join('; ')}`);
  if (misses.length) {
    console.log(`missed: ${misses.join('; ')}`);
    process.exitCode = 1;
  }
}

if (process.argv[2] === '--child') {
  const [phase, file] = [process.argv[3], process.argv[4]!];
  const m = phase === 'parse' ? await childParse(file) : await childScrub(file);
  process.stdout.write(JSON.stringify(m) + '\n');
} else {
  await main();
}
