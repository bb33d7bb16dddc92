/**
 * The `check-mx` stage: import/export of the verdict cache, or a DNS check of the candidate
 * domains needing a verdict (missing or expired) or of the domains named on the command line.
 * Returns the run summary, the --json contract:
 *   { command, checked, verdicts: {deliverable, dead, unknown, unresolvable}, byProvider,
 *     domains?: [{domain, verdict, reason, provider, mx}] (with --domain/--domains) }
 */
import { readFileSync } from 'node:fs';
import type { StageContext } from '../context.ts';
import { normalizeDomain } from '../email/normalize.ts';
import { InputError, UsageError } from '../errors.ts';
import type { RunHandle } from '../runs.ts';
import { domainsNeedingCheck, saveChecks, upsertVerdicts } from './cache.ts';
import { readVerdictCsv, writeVerdictCsv } from './csv.ts';
import type { StoredVerdict } from './merge.ts';
import { createResolver, serverLabel } from './resolver.ts';
import { runChecks } from './run-checks.ts';
import { resolveNameServers } from './servers.ts';
import type { MxVerdict } from './tables.ts';

export interface MxCheckOptions {
  /** --domain (repeatable): check exactly these, whatever their cache state. */
  domains?: readonly string[];
  /** --domains FILE: one domain per line, `#` comments. */
  domainsFile?: string;
  importFile?: string;
  exportFile?: string;
}

export interface DomainVerdictOut {
  domain: string;
  verdict: MxVerdict;
  reason: string;
  provider: string | null;
  mx: string[];
  error: string | null;
}

export type MxCheckSummary = {
  command: 'check-mx';
  run_id: number;
  checked: number;
  verdicts: Record<MxVerdict, number>;
  byProvider: Record<string, number>;
  domains?: DomainVerdictOut[];
  imported?: number;
  exported?: number;
  dnsServers?: string[];
  queries?: { sent: number; retries: number; timeouts: number; tcpFallbacks: number };
  seconds: number;
};

const BATCH = 500;

export function tally(rows: readonly Pick<StoredVerdict, 'verdict' | 'provider'>[], into?: { verdicts: Record<MxVerdict, number>; byProvider: Record<string, number> }) {
  const t = into ?? { verdicts: { deliverable: 0, dead: 0, unknown: 0, unresolvable: 0 }, byProvider: {} as Record<string, number> };
  for (const r of rows) {
    t.verdicts[r.verdict]++;
    if (r.provider) t.byProvider[r.provider] = (t.byProvider[r.provider] ?? 0) + 1;
  }
  return t;
}

export async function runMxCheck(ctx: StageContext, run: RunHandle, opts: MxCheckOptions): Promise<MxCheckSummary> {
  const started = performance.now();
  const cfg = ctx.config.mx;
  const t = tally([]);
  const seconds = () => Math.round((performance.now() - started) / 10) / 100;
  const explicit = [...(opts.domains ?? []).map((d) => explicitDomain(d, '--domain')), ...(opts.domainsFile ? readDomainsFile(opts.domainsFile) : [])];
  const asked = (opts.domains?.length ?? 0) > 0 || opts.domainsFile !== undefined;
  if (opts.importFile && asked) throw new UsageError('--import loads verdicts without DNS: use it alone (or with --export), not with --domain/--domains.');

  if (opts.importFile || (opts.exportFile && !asked)) {
    const summary: MxCheckSummary = { command: 'check-mx', run_id: run.id, checked: 0, ...t, seconds: 0 };
    if (opts.importFile) {
      summary.imported = await readVerdictCsv(opts.importFile, cfg, async (rows) => {
        await upsertVerdicts(ctx.store.db, rows);
        tally(rows, t);
      });
      ctx.out.info(`imported ${summary.imported} verdict(s) from ${opts.importFile}`);
    }
    if (opts.exportFile) {
      summary.exported = await writeVerdictCsv(ctx.store.db, opts.exportFile);
      ctx.out.info(`exported ${summary.exported} verdict(s) to ${opts.exportFile}`);
    }
    return { ...summary, seconds: seconds() };
  }

  const now = ctx.now();
  const domains = asked ? [...new Set(explicit)] : await domainsNeedingCheck(ctx.store.db, now);
  const servers = resolveNameServers(cfg.dnsServers);
  const resolver = createResolver({ servers, timeoutMs: cfg.timeoutMs, retries: cfg.retries, backoffMs: cfg.backoffMs, qps: cfg.qps });
  ctx.out.info(`checking ${domains.length} domain(s) against ${servers.map(serverLabel).join(', ')} (concurrency ${cfg.concurrency}${cfg.qps ? `, ${cfg.qps} queries/s` : ''})`);
  const bar = ctx.out.progress('check-mx', domains.length);
  const shown: DomainVerdictOut[] = [];
  try {
    await runChecks(domains, {
      resolver,
      concurrency: cfg.concurrency,
      batchSize: BATCH,
      onProgress: (n) => bar.update(n),
      onBatch: async (checks) => {
        // Each batch is stamped when it is written: the clock a re-check compares with.
        const rows = await saveChecks(ctx.store.db, checks, { now: ctx.now(), runId: run.id, config: cfg });
        tally(rows, t);
        if (asked)
          shown.push(...rows.map((r) => ({ domain: r.domain, verdict: r.verdict, reason: r.reason, provider: r.provider, mx: r.mx_hosts, error: r.last_error })));
      },
    });
  } finally {
    bar.stop();
    resolver.close();
  }
  const summary: MxCheckSummary = {
    command: 'check-mx',
    run_id: run.id,
    checked: domains.length,
    ...t,
    dnsServers: servers.map(serverLabel),
    queries: { sent: resolver.stats.attempts, retries: resolver.stats.retries, timeouts: resolver.stats.timeouts, tcpFallbacks: resolver.stats.tcpFallbacks },
    seconds: seconds(),
  };
  if (asked) {
    const order = new Map(domains.map((d, i) => [d, i]));
    summary.domains = shown.sort((a, b) => order.get(a.domain)! - order.get(b.domain)!);
  }
  if (opts.exportFile) summary.exported = await writeVerdictCsv(ctx.store.db, opts.exportFile);
  return summary;
}

function explicitDomain(raw: string, where: string): string {
  const d = normalizeDomain(raw);
  if (!d) throw new UsageError(`${where} "${raw}" is not a domain name (e.g. --domain example.com).`);
  return d;
}

function readDomainsFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read --domains ${file}: ${(e as Error).message}. Pass a text file with one domain per line.`, { cause: e });
  }
  const out: string[] = [];
  const bad: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const s = line.replace(/#.*/, '').trim();
    if (!s) return;
    const d = normalizeDomain(s);
    if (d) out.push(d);
    else if (bad.length < 10) bad.push(`line ${i + 1}: "${s}"`);
  });
  if (bad.length) throw new InputError(`--domains ${file} has lines that are not domain names:\n  ${bad.join('\n  ')}\nFix or comment them out (#) and run again.`);
  return out;
}
