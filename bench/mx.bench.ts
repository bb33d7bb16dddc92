/**
 * npm run bench:mx — the MX check over 10,000 domains against a local DNS server (127.0.0.1, in a
 * child process) that answers every query after 50 ms, as a recursive resolver would: the MX
 * hosts' addresses ride in the additional section. With `concurrency` domains in flight and one
 * round trip per domain, no client can beat concurrency / latency domains per second: that is the
 * bound. Target: at least 90% of it, and zero transient failures (the SERVFAIL share) reported dead.
 *
 * Three passes: the checker alone (DNS + verdicts); the whole `check-mx` stage writing its verdicts
 * into PostgreSQL (a scratch database beside DATABASE_URL, default the local server), as a cron
 * job runs it; and the same stage into an in-memory embedded database (PGlite), whose WASM engine
 * runs its writes on the event loop the DNS work needs.
 *
 * Env: BENCH_DOMAINS (default 10000), BENCH_LATENCY_MS (50), BENCH_CONCURRENCY (64), DATABASE_URL.
 */
import os from 'node:os';
import { Writable } from 'node:stream';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { openStore } from '../src/db/store.ts';
import { createResolver } from '../src/mx/resolver.ts';
import { runChecks } from '../src/mx/run-checks.ts';
import { checkMx } from '../src/mx/stage.ts';
import { parseServer } from '../src/mx/servers.ts';
import type { DomainCheck } from '../src/mx/verdict.ts';
import { benchDomains, type BenchKind } from './mx-bench-zones.ts';
import { scratchDatabase } from './scratch-db.ts';

const N = Number(process.env.BENCH_DOMAINS ?? 10_000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const BOUND = CONCURRENCY / (LATENCY_MS / 1000);

const server = fork(fileURLToPath(new URL('./mx-bench-server.ts', import.meta.url)), [String(N), String(LATENCY_MS)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
const { address } = await new Promise<{ address: string }>((resolve, reject) => {
  server.once('message', (m) => resolve(m as { address: string }));
  server.once('error', reject);
  server.once('exit', (code) => reject(new Error(`the bench DNS server exited (${code})`)));
});

const universe = benchDomains(N);
const kindOf = new Map<string, BenchKind>(universe.map((d) => [d.domain, d.kind]));
const domains = universe.map((d) => d.domain);

interface PassResult {
  seconds: number;
  /** CPU time of this process (user + system), to tell a slow client from a busy machine. */
  cpuMs: number;
  verdicts: Record<string, number>;
  transientAsDead: number;
  wrong: number;
}

function judge(checks: Iterable<Pick<DomainCheck, 'domain' | 'verdict' | 'provider'>>): Omit<PassResult, 'seconds' | 'cpuMs'> {
  const verdicts: Record<string, number> = {};
  let transientAsDead = 0;
  let wrong = 0;
  for (const c of checks) {
    verdicts[c.verdict] = (verdicts[c.verdict] ?? 0) + 1;
    const kind = kindOf.get(c.domain)!;
    if (kind === 'servfail' && c.verdict !== 'unknown') transientAsDead++;
    const expected = kind === 'servfail' ? 'unknown' : kind === 'nxdomain' || kind === 'nullmx' ? 'dead' : 'deliverable';
    const provider = kind === 'self' ? 'other' : ['google', 'microsoft365', 'yahoo'].includes(kind) ? kind : null;
    if (c.verdict !== expected || (expected === 'deliverable' && c.provider !== provider)) wrong++;
  }
  return { verdicts, transientAsDead, wrong };
}

async function checkerPass(): Promise<PassResult> {
  const resolver = createResolver({ servers: [parseServer(address)], timeoutMs: 2000, retries: 2, backoffMs: 100, qps: null });
  const results: DomainCheck[] = [];
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await runChecks(domains, { resolver, concurrency: CONCURRENCY, batchSize: 500, onBatch: async (b) => void results.push(...b) });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  resolver.close();
  return { seconds, cpuMs: (cpu.user + cpu.system) / 1000, ...judge(results) };
}

async function stagePass(url?: string): Promise<PassResult> {
  const store = await openStore({ dataDir: '', inMemory: true, url });
  try {
    await migrate(store);
    const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
    const config = loadConfig({ env: {}, cwd: os.tmpdir(), overrides: { mx: { dnsServers: [address], concurrency: CONCURRENCY } } });
    const ctx = { config, store, out: createOutput({ json: true, quiet: true, stdout: sink(), stderr: sink() }), now: () => new Date() };
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await checkMx(ctx, { domains });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const rows = await store.db.selectFrom('mx_domains').select(['domain', 'verdict', 'provider']).execute();
    return { seconds, cpuMs: (cpu.user + cpu.system) / 1000, ...judge(rows.map((r) => ({ domain: r.domain, verdict: r.verdict as DomainCheck['verdict'], provider: r.provider as DomainCheck['provider'] }))) };
  } finally {
    await store.close();
  }
}

function report(name: string, r: PassResult): boolean {
  const rate = N / r.seconds;
  const ratio = rate / BOUND;
  const ok = ratio >= 0.9 && r.transientAsDead === 0 && r.wrong === 0;
  console.log(
    `${name.padEnd(28)} ${r.seconds.toFixed(2)} s  ${Math.round(rate)} domains/s  bound ${Math.round(BOUND)}/s  ratio ${(ratio * 100).toFixed(1)}%  ` +
      `transient-as-dead ${r.transientAsDead}  wrong ${r.wrong}  ${JSON.stringify(r.verdicts)}  ${ok ? 'target met' : 'TARGET MISSED'}`,
  );
  const perDomain = r.cpuMs / N;
  console.log(`${''.padEnd(28)} client CPU ${perDomain.toFixed(3)} ms/domain (${Math.round(r.cpuMs / 10 / r.seconds)}% of one core; alone it could do ${Math.round(1000 / perDomain)} domains/s)`);
  return ok;
}

// The bound assumes the CPU keeps up: on a loaded machine (other jobs), the ratio measures the load too.
console.log(
  `bench:mx  ${N} domains, server latency ${LATENCY_MS} ms, concurrency ${CONCURRENCY} (bound = concurrency / latency = ${Math.round(BOUND)} domains/s), ` +
    `node ${process.version}, ${os.cpus().length} cpu, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
);
let ok = true;
try {
  ok = report('checker (DNS + verdicts)', await checkerPass()) && ok;
  const scratch = await scratchDatabase(`audience_bench_mx_${process.pid}`);
  try {
    ok = report('check-mx stage (+ PostgreSQL)', await stagePass(scratch.url)) && ok;
  } finally {
    await scratch.drop();
  }
  // Reported, not a target: the embedded database's writes share the DNS work's thread.
  report('check-mx stage (+ PGlite)', await stagePass());
} finally {
  server.kill();
}
process.exitCode = ok ? 0 : 1;
