/**
 * Job `audience ingest census`: load the census files into `carriers`, then normalize the e-mail
 * fields that changed, so `emails` never lags behind `carriers` after an ingest. Each stage is its
 * own run in the ledger; a failed normalize leaves the merged carriers in place and the next ingest
 * or `audience normalize` picks up exactly the carriers still to do.
 */
import { censusIngestStage, type CensusIngestEnvelope, type CensusIngestOptions } from '../src/census/stage.ts';
import type { StageContext } from '../src/context.ts';
import { normalizeStage, type NormalizeEnvelope } from '../src/email/stage.ts';
import { runJob, step, type Envelope, type JobStep } from '../src/stage.ts';

export interface CensusIngestJobOptions extends CensusIngestOptions {
  /** false with --no-normalize: load only (e.g. several ingests in a row, one normalize after). */
  normalize?: boolean;
}

/** The census stage's envelope, with the normalize stage's under `normalize` (null with --no-normalize). */
export type CensusIngestJobSummary = CensusIngestEnvelope & { normalize: NormalizeEnvelope | null };

export function ingestJob(opts: CensusIngestJobOptions): JobStep[] {
  const { normalize, ...load } = opts;
  if (normalize === false) return [step(censusIngestStage, load)];
  return [step(censusIngestStage, { ...load, normalizeNext: true }), step(normalizeStage, {})];
}

export function ingestSummary(envelopes: Array<Envelope<object>>): CensusIngestJobSummary {
  const [load, normalize] = envelopes as [CensusIngestEnvelope, NormalizeEnvelope | undefined];
  return { ...load, normalize: normalize ?? null };
}

export async function runCensusIngest(ctx: StageContext, opts: CensusIngestJobOptions): Promise<CensusIngestJobSummary> {
  return ingestSummary(await runJob(ctx, ingestJob(opts)));
}

export function describeCensusIngest(s: CensusIngestJobSummary): string {
  const n = s.normalize;
  return [
    censusIngestStage.render(s),
    n
      ? `  e-mails: ${n.carriersNormalized} carriers normalized; ${n.totals.addresses} addresses (${n.totals.valid} valid, ${n.totals.invalid} invalid, ${n.totals.shared} shared)`
      : '  e-mails: not normalized (--no-normalize); run `audience normalize`',
  ].join('\n');
}
