/**
 * `audience audit-listmonk [--pause]`: the audit of src/audit/ as one run in the ledger, under the
 * stage's lock. Exit 0 when no campaign is offending; 1 when one is (FindingsError, the summary
 * kept as the run's counts), whether or not --pause stopped it; 2 for configuration, credentials
 * or a missing permission; 3 when the warmup start is not set (the cap is unknown).
 */
import { auditCampaigns } from '../src/audit/audit.ts';
import type { AuditSummary } from '../src/audit/summary.ts';
import type { StageContext } from '../src/context.ts';
import { FindingsError } from '../src/errors.ts';
import { createListmonkClient, permissionsAsConfig, type ListmonkClient } from '../src/listmonk/index.ts';
import { withRun } from '../src/runs.ts';
import { resolveWarmupStart } from '../src/warmup/start.ts';

export { renderAudit } from '../src/audit/summary.ts';

export async function listmonkAudit(ctx: StageContext, opts: { pause: boolean; listmonk?: ListmonkClient }): Promise<AuditSummary> {
  const start = resolveWarmupStart(ctx.config.warmup.start, ctx.config.timezone);
  const lm = opts.listmonk ?? createListmonkClient(ctx.config.listmonk, { log: (l) => ctx.out.debug(l), now: ctx.now });
  return permissionsAsConfig(() =>
    withRun(
      ctx.store,
      'audit-listmonk',
      { pause: opts.pause },
      async (run) => {
        const s = await auditCampaigns(ctx, lm, { pause: opts.pause, runId: run.id, start });
        if (s.offending) throw new FindingsError(findings(s), { summary: s });
        return s;
      },
      { now: ctx.now },
    ),
  );
}

function findings(s: AuditSummary): string {
  const off = s.campaigns.filter((c) => c.offending);
  const list = off.map((c) => `#${c.id} "${c.name}" (${c.why.join(', ')})`).join('; ');
  if (!s.pause) return `${off.length} offending campaign(s) in Listmonk: ${list}. Nothing was changed; run \`audience audit-listmonk --pause\` to stop them.`;
  const failed = off.filter((c) => c.action === 'failed');
  const done = `${off.length} offending campaign(s) in Listmonk: ${list}. Stopped: ${s.stopped.length ? s.stopped.map((id) => `#${id}`).join(', ') : 'none'}.`;
  if (!failed.length) return `${done} Check them in Listmonk before sending them again (a build re-run for their date schedules a draft of its own again).`;
  return `${done} NOT stopped: ${failed.map((c) => `#${c.id} (${c.actionError})`).join('; ')}. Stop them in Listmonk (Campaigns), or fix the cause and run \`audience audit-listmonk --pause\` again.`;
}
