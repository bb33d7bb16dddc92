/**
 * The `ingest-census` stage (`audience ingest census FILE...`): census files -> carriers, as one
 * ledger run (src/census/ingest.ts has the steps). Normalizing the e-mail fields that changed is
 * the next stage of the ingest job (pipelines/ingest.ts), not part of this one.
 */
import { z } from 'zod';
import { runStage, type Envelope, type Stage } from '../stage.ts';
import { ingestCensus, validateIngestOptions, type CensusIngestOptions, type CensusIngestSummary } from './ingest.ts';

export type { CensusIngestOptions, CensusIngestSummary };

const censusOptions = z.object({
  files: z.array(z.string()),
  snapshot: z.boolean(),
  rejectsFile: z.string().optional(),
  force: z.boolean().optional(),
  maxRejectRate: z.number().optional(),
  allowOlder: z.boolean().optional(),
  forceSnapshot: z.boolean().optional(),
  normalizeNext: z.boolean().optional(),
});

/** `run` was this summary's name for the run id before the envelope's runId; kept for one release. */
export type CensusOldKeys = { run: number };
export type CensusIngestEnvelope = Envelope<CensusIngestSummary, CensusOldKeys>;

export const censusIngestStage: Stage<CensusIngestOptions, CensusIngestSummary, CensusIngestOptions, CensusOldKeys> = {
  name: 'ingest-census',
  command: 'ingest census',
  options: censusOptions,
  migrations: 'apply',
  ledger: true,
  // Refusals of the options (and of a --rejects file that could not be written) come before the run.
  prepare: (_ctx, o) => (validateIngestOptions(o), o),
  args: (o) => ({ files: o.files, snapshot: o.snapshot, maxRejectRate: o.maxRejectRate ?? null, allowOlder: Boolean(o.allowOlder), forceSnapshot: Boolean(o.forceSnapshot) }),
  run: (ctx, run, o) => ingestCensus(ctx, run!, o),
  render: (s) =>
    [
      `ingested ${s.files.join(', ')} (${s.format}) in ${s.seconds} s`,
      `  read ${s.read}, accepted ${s.accepted}, rejected ${s.rejected}`,
      `  carriers: ${s.inserted} inserted, ${s.updated} updated, ${s.unchanged} unchanged, ${s.deactivated} deactivated`,
      ...(s.keptNewer ? [`  kept: ${s.keptNewer} carrier(s) whose stored MCS-150 filing is as new or newer than this older file's`] : []),
      `  newest MCS-150/ADD date: ${s.dataDate ?? 'none'}`,
      ...(s.rejected ? [`  rejects: select * from census_rejects where run_id = ${s.runId}${s.rejectsFile ? ` (also in ${String(s.rejectsFile)})` : ''}`] : []),
    ].join('\n'),
  renames: [['run', 'runId']],
};

/** Loads census files as one `ingest-census` run (without the normalize stage the ingest job adds). */
export function loadCensus(ctx: Parameters<typeof runStage>[0], opts: CensusIngestOptions): Promise<CensusIngestEnvelope> {
  return runStage(ctx, censusIngestStage, opts);
}
