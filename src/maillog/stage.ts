/**
 * The `scrub-bounces` stage: mail.log and its rotations, read incrementally, -> delivery events,
 * suppressions, holds and daily health (scrub.ts has the steps), as one ledger run.
 */
import { z } from 'zod';
import type { StageContext } from '../context.ts';
import { OutputFile } from '../files/safe-output.ts';
import { runStage, type Envelope, type Stage } from '../stage.ts';
import { holdSubjectText } from './holds.ts';
import type { LogFile } from './files.ts';
import { scrubBounces, scrubFiles, type ScrubOptions } from './scrub.ts';
import { suppressionInputs, type SuppressionInputs } from './suppressions-current.ts';
import type { ScrubSummary } from './scrub-summary.ts';

export type { ScrubSummary };

export interface BounceScrubOptions extends Omit<ScrubOptions, 'rejects' | 'suppressionInputs'> {
  /** The mail logs, oldest first; default the configured log and its rotations. */
  files?: readonly string[];
  /** --rejects FILE: the skipped lines, written through safe-output when the run succeeds. */
  rejectsFile?: string;
  /** --force: the rejects file may replace a regular file that exists. */
  force?: boolean;
}

interface PreparedScrub {
  logFiles: LogFile[];
  rejectsFile: string | undefined;
  rejects: OutputFile | null;
  scrub: Omit<ScrubOptions, 'rejects' | 'suppressionInputs'>;
  suppressionInputs: SuppressionInputs;
}

const scrubOptions = z.object({
  files: z.array(z.string()).readonly().optional(),
  rejectsFile: z.string().optional(),
  force: z.boolean().optional(),
  afterBatch: z.custom<ScrubOptions['afterBatch']>((v) => v === undefined || typeof v === 'function').optional(),
  profile: z.custom<ScrubOptions['profile']>((v) => v === undefined || typeof v === 'object').optional(),
});

export type ScrubEnvelope = Envelope<ScrubSummary>;

export const scrubStage: Stage<BounceScrubOptions, ScrubSummary, PreparedScrub> = {
  name: 'scrub-bounces',
  options: scrubOptions as z.ZodType<BounceScrubOptions>,
  migrations: 'apply',
  ledger: true,
  async prepare(ctx, o) {
    const { files, rejectsFile, force, ...scrub } = o;
    const logFiles = scrubFiles(ctx, files);
    const inputs = await suppressionInputs(ctx.store.db, ctx.config.maillog);
    // Refused (file exists, link, no folder) before anything is read.
    const rejects = rejectsFile ? await OutputFile.create(rejectsFile, { force: Boolean(force), flag: '--rejects' }) : null;
    return { logFiles, rejectsFile, rejects, scrub, suppressionInputs: inputs };
  },
  // suppressionInputs: what the next run compares to know the suppressions stand (suppressions-current.ts).
  args: (p) => ({ files: p.logFiles.map((f) => f.path), rejects: p.rejectsFile ?? null, suppressionInputs: p.suppressionInputs }),
  run: (ctx, run, p) => scrubBounces(ctx, run!, p.logFiles, { ...p.scrub, rejects: p.rejects, suppressionInputs: p.suppressionInputs }),
  // The scrub commits the file before it closes an ok run. A failed run's file is kept too (it
  // shows why a file is not a log); it may list lines of batches not committed, read again next run.
  async failed(p) {
    const rejects = p.rejects;
    if (rejects?.committed === false) await rejects.commit().catch(() => rejects.discard());
  },
  render: describeBounceScrub,
};

/** Scrubs the given mail logs (default: the configured one and its rotations) as one run. */
export function runBounceScrub(ctx: StageContext, files: readonly string[] = [], opts: Omit<BounceScrubOptions, 'files'> = {}): Promise<ScrubEnvelope> {
  return runStage(ctx, scrubStage, { ...opts, files });
}

export function describeBounceScrub(s: ScrubEnvelope): string {
  const pct = (n: number | null) => (n === null ? 'n/a' : `${(n * 100).toFixed(1)}%`);
  const why = Object.entries(s.skipped)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const lines = [
    `read ${s.newLines} new line(s) (${s.skippedLines} skipped${why ? `: ${why}` : ''}) from ${s.files.length} file(s); ${s.linesRead} lines covered in all`,
    ...s.files.map((f) => `  ${f.path}: ${f.status}, bytes ${f.fromOffset}..${f.toOffset}, ${f.newLines} new line(s)`),
    ...(s.rejectsFile ? [`skipped lines listed in ${s.rejectsFile}`] : []),
    `deliveries: ${s.deliveries.sent} sent, ${s.deliveries.deferred} deferred, ${s.deliveries.bounced} bounced, ${s.deliveries.expired} expired`,
    `classes: ${Object.entries(s.byClass).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `own domains (apart): ${s.ownDomain.sent} sent, ${s.ownDomain.bounced} bounced, ${s.ownDomain.deferred} deferred, ${s.ownDomain.expired} expired`,
    `new suppressions: ${s.suppressed.addresses} address(es), ${s.suppressed.domains} domain(s)`,
    `DKIM: ${s.dkim.signed} of ${s.dkim.campaignMessages} campaign message(s) signed (${pct(s.dkim.coverage)})`,
    s.holds.length ? 'active holds:' : 'no active holds',
    ...s.holds.map((h) => `  ${h.scope === 'global' ? 'GLOBAL' : holdSubjectText({ ...h, mx_host: h.mxHost })}: ${h.reason} until ${h.until}`),
  ];
  return lines.join('\n');
}
