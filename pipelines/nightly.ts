/**
 * Job `audience nightly`: read last night's mail.log (scrub-bounces), then refresh the MX verdicts
 * that are missing or expired (check-mx). Each stage is its own run in the ledger; a failed scrub
 * stops the job before any DNS work (as the systemd unit's chained ExecStart lines do), and a
 * failed check-mx keeps the scrub's work: each stage is re-runnable alone.
 */
import type { StageContext } from '../src/context.ts';
import { scrubStage, describeBounceScrub, type ScrubEnvelope } from '../src/maillog/stage.ts';
import { mxCheckStage, type MxCheckEnvelope } from '../src/mx/stage.ts';
import { runJob, step, type Envelope, type EnvelopeKeys, type JobStep } from '../src/stage.ts';

export interface NightlyJobOptions {
  /** The mail logs, oldest first; default the configured log and its rotations. */
  files?: readonly string[];
}

/**
 * The envelope keys of the job (runId null: each stage has its own run, in its envelope), then
 * each stage's envelope under its name.
 */
export type NightlySummary = EnvelopeKeys & { command: 'nightly'; scrub: ScrubEnvelope; checkMx: MxCheckEnvelope };

export function nightlyJob(opts: NightlyJobOptions = {}): JobStep[] {
  return [step(scrubStage, { files: opts.files ?? [] }), step(mxCheckStage, {})];
}

export function nightlySummary(envelopes: Array<Envelope<object>>): NightlySummary {
  const [scrub, checkMx] = envelopes as [ScrubEnvelope, MxCheckEnvelope];
  return {
    command: 'nightly',
    ok: scrub.ok && checkMx.ok,
    runId: null,
    startedAt: scrub.startedAt,
    seconds: Math.round((scrub.seconds + checkMx.seconds) * 1000) / 1000,
    scrub,
    checkMx,
  };
}

export async function runNightly(ctx: StageContext, opts: NightlyJobOptions = {}): Promise<NightlySummary> {
  return nightlySummary(await runJob(ctx, nightlyJob(opts)));
}

export function describeNightly(s: NightlySummary): string {
  return ['scrub-bounces:', describeBounceScrub(s.scrub), 'check-mx:', mxCheckStage.render(s.checkMx)].join('\n');
}
