/**
 * Job `audience nightly`: read last night's mail.log (scrub-bounces); then, where Listmonk is
 * configured, read its opt-outs and act on what the scrub learnt before the morning's campaigns
 * send (sync-listmonk: whom the rules exclude now comes off the lists already filled, and a global
 * hold stops our scheduled campaigns); then refresh the MX verdicts that are missing or expired
 * (check-mx). Each stage is its own run in the ledger; a failed stage stops the job (a failed scrub
 * before any Listmonk or DNS work), and the stages before it keep their work: each is re-runnable
 * alone. The Listmonk step comes before the DNS work because it protects the IPs tonight; a stale
 * MX verdict only keeps an address out (mx_unknown) until the next night.
 */
import type { StageContext } from '../src/context.ts';
import { scrubStage, describeBounceScrub, type ScrubEnvelope } from '../src/maillog/stage.ts';
import { listmonkNotConfigured } from '../src/listmonk/index.ts';
import { mxCheckStage, type MxCheckEnvelope } from '../src/mx/stage.ts';
import { listmonkSyncStage, renderListmonkSync, type ListmonkSyncEnvelope } from '../src/optouts/stage.ts';
import type { Config } from '../src/config.ts';
import { runJob, step, type Envelope, type EnvelopeKeys, type JobStep } from '../src/stage.ts';

export interface NightlyJobOptions {
  /** The mail logs, oldest first; default the configured log and its rotations. */
  files?: readonly string[];
}

/**
 * The envelope keys of the job (runId null: each stage has its own run, in its envelope), then
 * each stage's envelope under its name; `syncListmonk` is null where Listmonk is not configured.
 */
export type NightlySummary = EnvelopeKeys & { command: 'nightly'; scrub: ScrubEnvelope; syncListmonk: ListmonkSyncEnvelope | null; checkMx: MxCheckEnvelope };

export function nightlyJob(config: Pick<Config, 'listmonk'>, opts: NightlyJobOptions = {}): JobStep[] {
  return [
    step(scrubStage, { files: opts.files ?? [] }),
    ...(listmonkNotConfigured(config.listmonk) ? [] : [step(listmonkSyncStage, {})]),
    step(mxCheckStage, {}),
  ];
}

export function nightlySummary(envelopes: Array<Envelope<object>>): NightlySummary {
  const of = <E>(command: string) => envelopes.find((e) => (e as { command?: string }).command === command) as E | undefined;
  const scrub = of<ScrubEnvelope>('scrub-bounces')!;
  const checkMx = of<MxCheckEnvelope>('check-mx')!;
  const syncListmonk = of<ListmonkSyncEnvelope>('sync-listmonk') ?? null;
  return {
    command: 'nightly',
    ok: scrub.ok && checkMx.ok && (syncListmonk?.ok ?? true),
    runId: null,
    startedAt: scrub.startedAt,
    seconds: Math.round((scrub.seconds + (syncListmonk?.seconds ?? 0) + checkMx.seconds) * 1000) / 1000,
    scrub,
    syncListmonk,
    checkMx,
  };
}

export async function runNightly(ctx: StageContext, opts: NightlyJobOptions = {}): Promise<NightlySummary> {
  return nightlySummary(await runJob(ctx, nightlyJob(ctx.config, opts)));
}

export function describeNightly(s: NightlySummary): string {
  return [
    'scrub-bounces:',
    describeBounceScrub(s.scrub),
    ...(s.syncListmonk ? ['sync-listmonk:', renderListmonkSync(s.syncListmonk)] : ['sync-listmonk: skipped (Listmonk is not configured)']),
    'check-mx:',
    mxCheckStage.render(s.checkMx),
  ].join('\n');
}
