/**
 * Job: load FMCSA census files into `carriers` (see src/census/ingest.ts for the stages).
 */
import type { StageContext } from '../src/context.ts';
import { ingestCensus, validateIngestOptions, type CensusIngestOptions, type CensusIngestSummary } from '../src/census/ingest.ts';
import { withRun } from '../src/runs.ts';

export async function runCensusIngest(ctx: StageContext, opts: CensusIngestOptions): Promise<CensusIngestSummary> {
  validateIngestOptions(opts);
  return withRun(ctx.store, 'ingest-census', { files: opts.files, snapshot: opts.snapshot, maxRejectRate: opts.maxRejectRate ?? null }, (run) =>
    ingestCensus(ctx, run, opts),
  );
}

export function describeCensusIngest(s: CensusIngestSummary): string {
  return [
    `ingested ${s.files.join(', ')} (${s.format}) in ${s.seconds} s`,
    `  read ${s.read}, accepted ${s.accepted}, rejected ${s.rejected}`,
    `  carriers: ${s.inserted} inserted, ${s.updated} updated, ${s.unchanged} unchanged, ${s.deactivated} deactivated`,
    ...(s.rejected ? [`  rejects: select * from census_rejects where run_id = ${s.run}${s.rejectsFile ? ` (also in ${String(s.rejectsFile)})` : ''}`] : []),
  ].join('\n');
}
