/**
 * npm run bench:scrub — the bounce scrub on a realistic 1.6M-line bulk-sender mail.log, next to
 * pflogsumm (Debian package `pflogsumm`) on the same file when it is installed.
 *
 * Three measurements, each in its own process so each peak RSS is its own:
 *   parse  — read + parse + link + classify (the work pflogsumm does), no database;
 *   scrub  — the whole `scrub-bounces` run: the above plus events, checkpoints, policies, health
 *            (PostgreSQL when DATABASE_URL is set, in a scratch database dropped afterwards;
 *            else the embedded PGlite in memory);
 *   pflogsumm --detail 0 -q FILE.
 * Lines/s are given by wall clock and by CPU time (user+sys of the process): on a shared machine
 * the CPU figure is the fair comparison. Target: parse ≥ 4x pflogsumm's lines/s, bounded memory.
 *
 * Env: BENCH_LINES (default 1,600,000), DATABASE_URL (optional).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateMaillog } from './maillog-generator.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA = path.join(ROOT, 'bench/.data');
const LINES = Number(process.env.BENCH_LINES ?? 1_600_000);

interface Measure {
  lines: number;
  wallS: number;
  cpuS: number;
  maxRssMB: number;
  note?: string;
  extra?: Record<string, unknown>;
}

function usage(t0: bigint, cpu0: NodeJS.CpuUsage): Omit<Measure, 'lines'> {
  const cpu = process.cpuUsage(cpu0);
  return { wallS: Number(process.hrtime.bigint() - t0) / 1e9, cpuS: (cpu.user + cpu.system) / 1e6, maxRssMB: process.resourceUsage().maxRSS / 1024 };
}

/** Child: parse only. */
async function childParse(file: string): Promise<Measure> {
  const { scanFiles } = await import('../src/maillog/scan.ts');
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const r = await scanFiles([{ path: file, gz: false, live: false }], { campaignClients: new Map([['172.18.0.5', 'trucking']]) });
  return { lines: r.counts.lines, ...usage(t0, cpu0), extra: { sent: r.counts.sent, deferred: r.counts.deferred, bounced: r.counts.bounced, expired: r.counts.expired, openMessagesAtEnd: r.openMessages } };
}

/** Child: the whole scrub-bounces run against a fresh database. */
async function childScrub(file: string): Promise<Measure> {
  const [{ openStore }, { migrate }, { loadConfig }, { createOutput }, { runBounceScrub }] = await Promise.all([
    import('../src/db/store.ts'),
    import('../src/db/migrate.ts'),
    import('../src/config.ts'),
    import('../src/cli/output.ts'),
    import('../pipelines/bounce-scrub.ts'),
  ]);
  const url = process.env.BENCH_DB_URL;
  const store = await openStore(url ? { url, dataDir: '' } : { dataDir: '', inMemory: true });
  try {
    await migrate(store);
    const config = loadConfig({ env: {}, cwd: os.tmpdir(), overrides: { maillog: { path: file } } });
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const s = await runBounceScrub({ config, store, out: createOutput({ json: true, stdout: sink, stderr: sink }), now: () => new Date() }, [file]);
    return {
      lines: s.newLines,
      ...usage(t0, cpu0),
      note: url ? 'PostgreSQL (server CPU not included)' : 'PGlite in memory (database CPU included)',
      extra: { deliveries: s.deliveries, suppressed: s.suppressed, holds: s.holds.length, openMessages: s.openMessages },
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

async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const base = process.env.DATABASE_URL;
  if (!base) return null;
  const name = `audience_bench_scrub_${process.pid}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const u = new URL(base);
  u.pathname = '/' + name;
  return {
    url: u.toString(),
    drop: async () => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main() {
  mkdirSync(DATA, { recursive: true });
  const file = path.join(DATA, `mail_bench_${LINES}.log`);
  if (!existsSync(file)) {
    const t0 = Date.now();
    const g = await generateMaillog(file, { lines: LINES });
    console.log(`generated ${file}: ${fmt(g.lines)} lines, ${fmt(g.messages)} campaign messages, ${(g.bytes / 1e6).toFixed(0)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } else console.log(`using ${file} (${(statSync(file).size / 1e6).toFixed(0)} MB)`);
  console.log(`machine: ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const parse = await runChild('parse', file);
  const db = await scratchDatabase();
  const tmpHome = mkdtempSync(path.join(os.tmpdir(), 'bench-scrub-'));
  let scrub: Measure;
  try {
    scrub = await runChild('scrub', file, { ...process.env, ...(db ? { BENCH_DB_URL: db.url } : {}) });
  } finally {
    await db?.drop();
    rmSync(tmpHome, { recursive: true, force: true });
  }
  const pf = pflogsumm(file);

  const row = (name: string, m: Measure) =>
    `${name.padEnd(24)} ${fmt(m.lines / m.wallS).padStart(11)} ${fmt(m.lines / m.cpuS).padStart(11)} ${m.wallS.toFixed(2).padStart(8)} ${m.cpuS.toFixed(2).padStart(8)} ${m.maxRssMB.toFixed(0).padStart(8)}`;
  console.log(`\n${'run'.padEnd(24)} ${'lines/s'.padStart(11)} ${'lines/cpu-s'.padStart(11)} ${'wall s'.padStart(8)} ${'cpu s'.padStart(8)} ${'RSS MB'.padStart(8)}`);
  console.log(row('scrub: parse+link', parse));
  console.log(row(`scrub: full (${db ? 'pg' : 'pglite'})`, scrub));
  if (typeof pf === 'string') console.log(`pflogsumm: ${pf}`);
  else {
    console.log(row('pflogsumm 1.1.5', pf));
    const ratio = (a: Measure) => `${(a.lines / a.cpuS / (pf.lines / pf.cpuS)).toFixed(1)}x by CPU, ${(a.lines / a.wallS / (pf.lines / pf.wallS)).toFixed(1)}x by wall`;
    console.log(`\nparse vs pflogsumm: ${ratio(parse)} (target >= 4x)`);
    console.log(`full scrub vs pflogsumm: ${ratio(scrub)}`);
    console.log(`delivered: pflogsumm ${fmt(Number(pf.extra?.delivered))}, scrub sent ${fmt(Number(parse.extra?.sent))} (+ own/local deliveries of NDRs)`);
  }
  console.log(`\nparse details: ${JSON.stringify(parse.extra)}`);
  console.log(`scrub details: ${scrub.note}; ${JSON.stringify(scrub.extra)}`);
}

if (process.argv[2] === '--child') {
  const [phase, file] = [process.argv[3], process.argv[4]!];
  const m = phase === 'parse' ? await childParse(file) : await childScrub(file);
  process.stdout.write(JSON.stringify(m) + '\n');
} else {
  await main();
}
