/**
 * The `audit-listmonk` stage: the audit of audit.ts as one run in the ledger, under the stage's
 * lock. Exit 0 when no campaign is offending; 1 when one is (FindingsError carrying the summary,
 * kept as the run's counts), whether or not --pause stopped it; 2 for configuration, credentials
 * or a missing permission; 3 when the warmup start is not set (the cap is unknown).
 */
import { z } from 'zod';
import type { StageContext } from '../context.ts';
import { FindingsError } from '../errors.ts';
import { createListmonkClient, permissionsAsConfig, type ListmonkClient } from '../listmonk/index.ts';
import { runStage, type Envelope, type Stage } from '../stage.ts';
import { resolveWarmupStart, type WarmupStart } from '../warmup/start.ts';
import { auditCampaigns } from './audit.ts';
import { renderAudit, type AuditSummary } from './summary.ts';

export type AuditEnvelope = Envelope<AuditSummary>;

export interface ListmonkAuditOptions {
  /** --pause: stop the offending campaigns. */
  pause: boolean;
  /** Tests inject a client; the CLI builds one from config.listmonk. */
  listmonk?: ListmonkClient;
}

const auditOptions = z.object({
  pause: z.boolean(),
  listmonk: z.custom<ListmonkClient>((v) => v === undefined || typeof v === 'object').optional(),
});

interface PreparedAudit {
  pause: boolean;
  lm: ListmonkClient;
  start: WarmupStart;
}

export const auditStage: Stage<ListmonkAuditOptions, AuditSummary, PreparedAudit> = {
  name: 'audit-listmonk',
  options: auditOptions,
  // It reads the rules' tables and writes only its runs row: the schema must be current already.
  migrations: 'require',
  ledger: true,
  // No warmup start (exit 3) or no Listmonk configured (exit 2) is refused before a run exists.
  prepare: (ctx, o) => ({
    pause: o.pause,
    start: resolveWarmupStart(ctx.config.warmup.start, ctx.config.timezone),
    lm: o.listmonk ?? createListmonkClient(ctx.config.listmonk, { log: (l) => ctx.out.debug(l), now: ctx.now }),
  }),
  args: (p) => ({ pause: p.pause }),
  run: (ctx, _run, p) =>
    permissionsAsConfig(async () => {
      const s = await auditCampaigns(ctx, p.lm, { pause: p.pause, start: p.start });
      if (s.offending) throw new FindingsError(findings(s), { summary: s });
      return s;
    }),
  render: renderAudit,
};

/** The audit of every campaign Listmonk will send, as one `audit-listmonk` run. */
export function listmonkAudit(ctx: StageContext, opts: ListmonkAuditOptions): Promise<AuditEnvelope> {
  return runStage(ctx, auditStage, opts);
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
