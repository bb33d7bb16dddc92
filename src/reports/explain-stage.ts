/**
 * The `explain` stage: every exclusion rule's verdict on an address, a domain or a USDOT number's
 * addresses, by the same engine as the build (explain.ts). Read-only: no runs row, and what it
 * stages to judge an address the census lacks is rolled back. Apart from stage.ts so `explain`
 * starts without loading what `status` and `plan` need.
 */
import { z } from 'zod';
import type { StageContext } from '../context.ts';
import type { ExclusionRule } from '../rules/rule.ts';
import { runStage, type Envelope, type Stage } from '../stage.ts';
import { explain, renderExplain, type ExplainReport, type ExplainSummary } from './explain.ts';

export interface ExplainStageOptions {
  subject: string;
  /** The send date the rules judge ('YYYY-MM-DD'); default today in config.timezone. */
  date?: string;
  /** Most addresses shown for a domain (the most-listed first). */
  limit?: number;
  /** The rules to run; default every registered rule (tests pass fewer). */
  rules?: readonly ExclusionRule[];
}

/** The verdicts (`subject`, `kind`, `addresses`), then what the text shows beside them. */
export type ExplainStageSummary = { command: 'explain' } & ExplainSummary & Pick<ExplainReport, 'rules' | 'notes' | 'allowlisted'>;
export type ExplainEnvelope = Envelope<ExplainStageSummary>;

export const explainStage: Stage<ExplainStageOptions, ExplainStageSummary> = {
  name: 'explain',
  options: z.object({
    subject: z.string(),
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').optional(),
    limit: z.number().int().min(1).optional(),
    rules: z.custom<readonly ExclusionRule[]>((v) => v === undefined || Array.isArray(v)).optional(),
  }),
  migrations: 'require',
  ledger: false,
  args: (o) => ({ subject: o.subject, date: o.date ?? null, limit: o.limit ?? null }),
  async run(ctx, _run, o) {
    const report = await explain(ctx, o.subject, { date: o.date, limit: o.limit, rules: o.rules });
    return { command: 'explain' as const, ...report.summary, rules: report.rules, notes: report.notes, allowlisted: report.allowlisted };
  },
  render: (s) => renderExplain({ summary: s, rules: s.rules, notes: s.notes, allowlisted: s.allowlisted }),
};

/** Every rule's verdict on `subject`, as one read-only `explain` stage. */
export function explainSubject(ctx: StageContext, subject: string, opts: Omit<ExplainStageOptions, 'subject'> = {}): Promise<ExplainEnvelope> {
  return runStage(ctx, explainStage, { ...opts, subject });
}
