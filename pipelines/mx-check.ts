/**
 * `audience check-mx`: MX liveness and provider of the candidate domains (src/mx/stage.ts), as one
 * `check-mx` run in the ledger. Verdicts are written batch by batch, so an interrupted run keeps
 * what it checked and the next run picks up the rest (they are no longer missing or expired).
 */
import type { StageContext } from '../src/context.ts';
import { runMxCheck, type MxCheckOptions, type MxCheckSummary } from '../src/mx/stage.ts';
import { withRun } from '../src/runs.ts';

export type { MxCheckOptions, MxCheckSummary };

export async function checkMx(ctx: StageContext, opts: MxCheckOptions = {}): Promise<MxCheckSummary> {
  const args = {
    domains: opts.domains?.length ?? 0,
    domainsFile: opts.domainsFile ?? null,
    import: opts.importFile ?? null,
    export: opts.exportFile ?? null,
    dns: ctx.config.mx.dnsServers,
  };
  return withRun(ctx.store, 'check-mx', args, (run) => runMxCheck(ctx, run, opts), { now: ctx.now });
}
