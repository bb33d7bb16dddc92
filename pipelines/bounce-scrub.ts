/**
 * Job: the nightly bounce scrub. Reads mail.log and its rotations incrementally and updates
 * delivery events, suppressions, holds and daily health (src/maillog/scrub.ts).
 */
import type { StageContext } from '../src/context.ts';
import { scrubBounces, scrubFiles, type ScrubOptions, type ScrubSummary } from '../src/maillog/scrub.ts';
import { withRun } from '../src/runs.ts';

export type { ScrubSummary };

export async function runBounceScrub(ctx: StageContext, files: readonly string[] = [], opts: ScrubOptions = {}): Promise<ScrubSummary> {
  const logFiles = scrubFiles(ctx, files);
  return withRun(ctx.store, 'scrub-bounces', { files: logFiles.map((f) => f.path) }, (run) => scrubBounces(ctx, run, logFiles, opts), { now: ctx.now });
}

export function describeBounceScrub(s: ScrubSummary): string {
  const pct = (n: number | null) => (n === null ? 'n/a' : `${(n * 100).toFixed(1)}%`);
  const lines = [
    `read ${s.newLines} new line(s) (${s.skippedLines} skipped) from ${s.files.length} file(s); ${s.linesRead} lines covered in all`,
    ...s.files.map((f) => `  ${f.path}: ${f.status}, bytes ${f.fromOffset}..${f.toOffset}, ${f.newLines} new line(s)`),
    `deliveries: ${s.deliveries.sent} sent, ${s.deliveries.deferred} deferred, ${s.deliveries.bounced} bounced, ${s.deliveries.expired} expired`,
    `classes: ${Object.entries(s.byClass).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `own domains (apart): ${s.ownDomain.sent} sent, ${s.ownDomain.bounced} bounced, ${s.ownDomain.deferred} deferred, ${s.ownDomain.expired} expired`,
    `new suppressions: ${s.suppressed.addresses} address(es), ${s.suppressed.domains} domain(s)`,
    `DKIM: ${s.dkim.signed} of ${s.dkim.campaignMessages} campaign message(s) signed (${pct(s.dkim.coverage)})`,
    s.holds.length ? 'active holds:' : 'no active holds',
    ...s.holds.map((h) => `  ${h.scope === 'global' ? 'GLOBAL' : h.provider}: ${h.reason} until ${h.until}`),
  ];
  return lines.join('\n');
}
