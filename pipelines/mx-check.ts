/**
 * `audience check-mx`: MX liveness and provider of the candidate domains (src/mx/stage.ts), as one
 * `check-mx` run in the ledger. Verdicts are written batch by batch, so an interrupted run keeps
 * what it checked and the next run picks up the rest (they are no longer missing or expired).
 */
import type { StageContext } from '../src/context.ts';
import { checkOutputTarget } from '../src/files/safe-output.ts';
import { runMxCheck, type MxCheckOptions, type MxCheckSummary } from '../src/mx/stage.ts';
import { withRun } from '../src/runs.ts';

export type { MxCheckOptions, MxCheckSummary };

export async function checkMx(ctx: StageContext, opts: MxCheckOptions = {}): Promise<MxCheckSummary> {
  // Before any DNS work: an export that could not be written is refused now, not after the check.
  if (opts.exportFile) checkOutputTarget(opts.exportFile, { force: Boolean(opts.force), flag: '--export' });
  const args = {
    domains: opts.domains?.length ?? 0,
    domainsFile: opts.domainsFile ?? null,
    import: opts.importFile ?? null,
    export: opts.exportFile ?? null,
    dns: ctx.config.mx.dnsServers,
  };
  return withRun(ctx.store, 'check-mx', args, (run) => runMxCheck(ctx, run, opts), { now: ctx.now });
}
