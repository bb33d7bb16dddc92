/**
 * `audience normalize`, and the step `ingest census` runs at its end: carriers' e-mail fields ->
 * normalized addresses, links and static verdicts (src/email/stage.ts), as one `normalize` run.
 */
import type { StageContext } from '../src/context.ts';
import { runNormalize, type NormalizeOptions, type NormalizeSummary } from '../src/email/stage.ts';
import { withRun } from '../src/runs.ts';

export type { NormalizeOptions, NormalizeSummary };

/** Normalizes every carrier whose e-mail field changed since the last run; returns the run summary. */
export async function normalizeEmails(ctx: StageContext, opts: NormalizeOptions = {}): Promise<NormalizeSummary> {
  return withRun(ctx.store, 'normalize', { full: Boolean(opts.full), batchSize: opts.batchSize ?? null }, (run) => runNormalize(ctx, run, opts), { now: ctx.now });
}
