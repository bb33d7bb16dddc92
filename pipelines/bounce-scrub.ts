/**
 * Job: the nightly bounce scrub. Reads mail.log and its rotations incrementally and updates
 * delivery events, suppressions, holds and daily health (src/maillog/scrub.ts).
 */
import { holdSubjectText } from '../src/maillog/holds.ts';
import type { StageContext } from '../src/context.ts';
import { OutputFile } from '../src/files/safe-output.ts';
import { scrubBounces, scrubFiles, type ScrubOptions, type ScrubSummary } from '../src/maillog/scrub.ts';
import { withRun } from '../src/runs.ts';

export type { ScrubSummary };

export interface BounceScrubOptions extends Omit<ScrubOptions, 'rejects'> {
  /** --rejects FILE: the skipped lines, written through safe-output when the run succeeds. */
  rejectsFile?: string;
  /** --force: the rejects file may replace a regular file that exists. */
  force?: boolean;
}

export async function runBounceScrub(ctx: StageContext, files: readonly string[] = [], opts: BounceScrubOptions = {}): Promise<ScrubSummary> {
  const { rejectsFile, force, ...scrubOpts } = opts;
  const logFiles = scrubFiles(ctx, files);
  // Refused (file exists, link, no folder) before anything is read.
  const rejects = rejectsFile ? await OutputFile.create(rejectsFile, { force: Boolean(force), flag: '--rejects' }) : null;
  try {
    return await withRun(ctx.store, 'scrub-bounces', { files: logFiles.map((f) => f.path), rejects: rejectsFile ?? null }, (run) => scrubBounces(ctx, run, logFiles, { ...scrubOpts, rejects }), {
      now: ctx.now,
    });
  } catch (e) {
    // The scrub commits the file before it closes an ok run. A failed run's file is kept too (it
    // shows why a file is not a log); it may list lines of batches not committed, read again next run.
    if (rejects?.committed === false) await rejects.commit().catch(() => rejects.discard());
    throw e;
  }
}

export function describeBounceScrub(s: ScrubSummary): string {
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
