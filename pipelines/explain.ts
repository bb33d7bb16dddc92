/**
 * `audience explain SUBJECT`: every exclusion rule's verdict on an address, a domain or a USDOT
 * number's addresses, by the same engine as the build (src/reports/explain.ts). Read-only.
 */
import type { StageContext } from '../src/context.ts';
import { explain, renderExplain, type ExplainOptions, type ExplainReport, type ExplainSummary } from '../src/reports/explain.ts';

export type { ExplainOptions, ExplainReport, ExplainSummary };
export { renderExplain };

export async function explainSubject(ctx: StageContext, subject: string, opts: ExplainOptions = {}): Promise<ExplainReport> {
  return explain(ctx, subject, opts);
}
