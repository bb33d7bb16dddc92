/**
 * Job: load FMCSA census files into `carriers` (see src/census/ingest.ts for the stages), then
 * normalize the e-mail fields that changed, so `emails` never lags behind `carriers` after an
 * ingest. Each is its own run in the ledger; a failed normalize leaves the merged carriers in
 * place and the next ingest or `audience normalize` picks up exactly the carriers still to do.
 */
import type { StageContext } from '../src/context.ts';
import { ingestCensus, validateIngestOptions, type CensusIngestOptions, type CensusIngestSummary } from '../src/census/ingest.ts';
import { withRun } from '../src/runs.ts';
import { normalizeEmails, type NormalizeSummary } from './email-normalize.ts';

export interface CensusIngestJobOptions extends CensusIngestOptions {
  /** false with --no-normalize: load only (e.g. several ingests in a row, one normalize after). */
  normalize?: boolean;
}

export type CensusIngestJobSummary = CensusIngestSummary & { normalize: NormalizeSummary | null };

export async function runCensusIngest(ctx: StageContext, opts: CensusIngestJobOptions): Promise<CensusIngestJobSummary> {
  validateIngestOptions(opts);
  const summary = await withRun(ctx.store, 'ingest-census', { files: opts.files, snapshot: opts.snapshot, maxRejectRate: opts.maxRejectRate ?? null, allowOlder: Boolean(opts.allowOlder), forceSnapshot: Boolean(opts.forceSnapshot) }, (run) =>
    ingestCensus(ctx, run, opts),
  { now: ctx.now });
  const normalize = opts.normalize === false ? null : await normalizeEmails(ctx);
  return { ...summary, normalize };
}

export function describeCensusIngest(s: CensusIngestJobSummary): string {
  return [
    `ingested ${s.files.join(', ')} (${s.format}) in ${s.seconds} s`,
    `  read ${s.read}, accepted ${s.accepted}, rejected ${s.rejected}`,
    `  carriers: ${s.inserted} inserted, ${s.updated} updated, ${s.unchanged} unchanged, ${s.deactivated} deactivated`,
    ...(s.keptNewer ? [`  kept: ${s.keptNewer} carrier(s) whose stored MCS-150 filing is as new or newer than this older file's`] : []),
    `  newest MCS-150/ADD date: ${s.dataDate ?? 'none'}`,
    ...(s.rejected ? [`  rejects: select * from census_rejects where run_id = ${s.run}${s.rejectsFile ? ` (also in ${String(s.rejectsFile)})` : ''}`] : []),
    s.normalize
      ? `  e-mails: ${s.normalize.carriers_normalized} carriers normalized; ${s.normalize.totals.addresses} addresses (${s.normalize.totals.valid} valid, ${s.normalize.totals.invalid} invalid, ${s.normalize.totals.shared} shared)`
      : '  e-mails: not normalized (--no-normalize); run `audience normalize`',
  ].join('\n');
}
