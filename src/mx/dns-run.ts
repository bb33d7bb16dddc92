/**
 * The DNS half of `check-mx`: canaries first (canaries.ts), then the checks with their verdicts
 * written batch by batch behind the verdict gate (verdict-gate.ts).
 *
 * - Before any check, each name server answers the canaries on its own. Servers that do not
 *   answer are left out of the run (a warning); servers that lie are left out too, and the run
 *   then exits 1 once its verdicts are written, naming them, because the configuration is wrong.
 * - No trusted server at all: nothing is asked, every domain due is marked `unknown`
 *   (resolver_untrusted), and the run exits 1 with what each server answered and how to fix it.
 * - A server that breaks during the run: the gate stops the run, the verdicts not yet written and
 *   the domains not yet checked are marked the same way, and the run exits 1.
 */
import type { StageContext } from '../context.ts';
import { ExternalServiceError } from '../errors.ts';
import type { RunHandle } from '../runs.ts';
import { saveChecks } from './cache.ts';
import { canaryFix, canaryNames, checkCanaries, describeFailures, type CanaryReport } from './canaries.ts';
import { recentNegativeShare } from './recent-rate.ts';
import { createResolver, serverLabel } from './resolver.ts';
import { runChecks } from './run-checks.ts';
import { resolveNameServers } from './servers.ts';
import { tally, type DomainVerdictOut, type MxCheckSummary } from './summary.ts';
import { createVerdictGate, untrustedCheck } from './verdict-gate.ts';
import type { DomainCheck } from './verdict.ts';

const BATCH = 500;

export async function runDnsCheck(ctx: StageContext, run: RunHandle, domains: readonly string[], show: boolean, started: number): Promise<MxCheckSummary> {
  const cfg = ctx.config.mx;
  const servers = resolveNameServers(cfg.dnsServers);
  const from = cfg.dnsServers.length ? 'flags or config' : 'resolv.conf';
  const names = canaryNames(ctx.config);
  const probe = { timeoutMs: cfg.timeoutMs, retries: cfg.retries, backoffMs: cfg.backoffMs };

  const t = tally([]);
  let keptNewer = 0;
  let notJudged = 0;
  const shown: DomainVerdictOut[] = [];
  const save = async (checks: readonly DomainCheck[]) => {
    // Each batch is stamped when it is written: the clock a re-check compares with.
    const saved = await saveChecks(ctx.store.db, checks, { now: ctx.now(), runId: run.id, config: cfg });
    tally(saved.rows.filter((r) => saved.written.has(r.domain)), t);
    keptNewer += saved.rows.length - saved.written.size;
    notJudged += checks.filter((c) => c.reason === 'resolver_untrusted').length;
    if (show) shown.push(...saved.rows.map((r) => ({ domain: r.domain, verdict: r.verdict, reason: r.reason, provider: r.provider, mx: r.mx_hosts, error: r.last_error })));
  };
  const markUntrusted = async (list: readonly string[], report: CanaryReport) => {
    for (let i = 0; i < list.length; i += BATCH) await save(list.slice(i, i + BATCH).map((d) => untrustedCheck(d, report)));
  };

  const before = await checkCanaries(servers, names, probe);
  for (const s of before.servers.filter((x) => x.status === 'no_answer' && before.trusted.length))
    ctx.out.warn(`${describeFailures({ trusted: [], servers: [s] })[0]}; this run does not use it`);
  const liars = before.servers.filter((s) => s.status === 'lied');
  let checked = 0;
  let failure: CanaryReport | null = before.trusted.length ? null : before;
  let stats = { canaryChecks: 1, guardTrips: 0 };
  let queries: MxCheckSummary['queries'];

  if (failure) await markUntrusted(domains, failure);
  else {
    const resolver = createResolver({ servers: before.trusted, timeoutMs: cfg.timeoutMs, retries: cfg.retries, backoffMs: cfg.backoffMs, qps: cfg.qps });
    const gate = createVerdictGate({
      recentShare: await recentNegativeShare(ctx.store.db),
      canaries: () => checkCanaries(before.trusted, names, probe),
      onTrip: (share, threshold) =>
        ctx.out.warn(`${Math.round(share * 100)}% of the last checks were dead or unknown (more than ${Math.round(threshold * 100)}%): asking the canaries again before writing more`),
    });
    ctx.out.info(`checking ${domains.length} domain(s) against ${before.trusted.map(serverLabel).join(', ')} (concurrency ${cfg.concurrency}${cfg.qps ? `, ${cfg.qps} queries/s` : ''})`);
    const bar = ctx.out.progress('check-mx', domains.length);
    try {
      const { skipped } = await runChecks(domains, {
        resolver,
        concurrency: cfg.concurrency,
        batchSize: BATCH,
        onProgress: (n) => bar.update(n),
        onCheck: (c) => gate.observe(c),
        admit: () => gate.admit(),
        onBatch: async (checks) => save(await gate.judge(checks)),
      });
      checked = domains.length - skipped.length;
      failure = gate.failure;
      if (failure) await markUntrusted(skipped, failure);
    } finally {
      bar.stop();
      resolver.close();
    }
    stats = { canaryChecks: 1 + gate.stats.canaryChecks, guardTrips: gate.stats.guardTrips };
    queries = { sent: resolver.stats.attempts, retries: resolver.stats.retries, timeouts: resolver.stats.timeouts, tcpFallbacks: resolver.stats.tcpFallbacks };
  }

  const summary: MxCheckSummary = {
    command: 'check-mx',
    run_id: run.id,
    checked,
    ...t,
    keptNewer,
    dnsServers: servers.map(serverLabel),
    ...(queries ? { queries } : {}),
    canaries: { trusted: !failure && !liars.length, checks: stats.canaryChecks, guardTrips: stats.guardTrips, notJudged, servers: (failure ?? before).servers },
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
  if (show) {
    const order = new Map(domains.map((d, i) => [d, i]));
    summary.domains = shown.sort((a, b) => order.get(a.domain)! - order.get(b.domain)!);
  }
  if (failure) {
    const when = failure === before ? 'before the run' : `during the run, after ${checked} check(s) (they passed at its start)`;
    throw new ExternalServiceError(
      'dns',
      `the name server(s) failed their canaries ${when}, so no domain was judged dead or alive on their word:\n  ${describeFailures(failure).join('\n  ')}\n` +
        `${notJudged} domain(s) were marked unknown (resolver_untrusted): they are checked again by the next run, and this never counts toward unresolvable.\n${canaryFix(from)}`,
      { summary },
    );
  }
  if (liars.length) {
    throw new ExternalServiceError(
      'dns',
      `name server(s) answered their canaries wrongly and were left out of this run:\n  ${describeFailures({ trusted: [], servers: liars }).join('\n  ')}\n` +
        `The run's ${checked} verdict(s) came from ${before.trusted.map(serverLabel).join(', ')} alone and were written. Remove the lying server(s). ${canaryFix(from)}`,
      { summary },
    );
  }
  return summary;
}
