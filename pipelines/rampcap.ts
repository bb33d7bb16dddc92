/**
 * `audience rampcap [--apply]`: today's hourly cap against Listmonk's sliding window
 * (src/rampcap/), as one run in the ledger; the summary, counts of the run row, records what was
 * applied (before, after). Replaces the morning cron script that set the window from the stamp.
 */
import type { StageContext } from '../src/context.ts';
import { createListmonkClient, permissionsAsConfig, type ListmonkClient } from '../src/listmonk/index.ts';
import { runRampcap } from '../src/rampcap/rampcap.ts';
import type { RampcapSummary } from '../src/rampcap/summary.ts';
import { withRun } from '../src/runs.ts';
import { localDate } from '../src/warmup/calendar.ts';
import { dayCap } from '../src/warmup/ramp.ts';
import { resolveWarmupStart } from '../src/warmup/start.ts';

export { renderRampcap } from '../src/rampcap/summary.ts';

export async function rampcap(ctx: StageContext, opts: { apply: boolean; listmonk?: ListmonkClient }): Promise<RampcapSummary> {
  const { config } = ctx;
  const today = localDate(ctx.now(), config.timezone);
  const cap = dayCap(config.warmup, resolveWarmupStart(config.warmup.start, config.timezone), today);
  const lm = opts.listmonk ?? createListmonkClient(config.listmonk, { log: (l) => ctx.out.debug(l), now: ctx.now });
  return permissionsAsConfig(() => withRun(ctx.store, 'rampcap', { apply: opts.apply, date: today }, (run) => runRampcap(ctx, lm, run, { apply: opts.apply, cap }), { now: ctx.now }));
}
