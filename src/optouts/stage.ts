/**
 * The `sync-listmonk` stage: the nightly read of opt-outs from Listmonk (sync.ts), then the
 * addresses the rules exclude now taken off our lists of today and later (push/withdraw.ts) and,
 * while a global hold stands, our scheduled campaigns stopped (push/global-stop.ts), as a ledger run
 * under the stage's lock. Builds do the same read before selecting; this stage keeps `explain` and
 * `plan` current between builds.
 */
import { z } from 'zod';
import type { StageContext } from '../context.ts';
import { createListmonkClient, type ListmonkClient } from '../listmonk/index.ts';
import { runStage, type Envelope, type Stage } from '../stage.ts';
import { localDate } from '../warmup/calendar.ts';
import { globalStopLine, stopCampaignsUnderGlobalHold, type GlobalHoldStop } from '../push/global-stop.ts';
import { pastReservationsLine, settlePastReservations, type PastReservations } from '../push/release.ts';
import { withdrawExcluded, withdrawLine, type WithdrawReport } from '../push/withdraw.ts';
import { syncOptOuts, type OptOutSyncReport } from './sync.ts';

/**
 * `withdrawn`: addresses the rules exclude now, taken off our lists of today and later
 * (push/withdraw.ts); `globalHold`: our campaigns stopped while a global hold stands (push/global-stop.ts).
 */
export type ListmonkSyncSummary = { command: 'sync-listmonk' } & OptOutSyncReport & {
  withdrawn: WithdrawReport;
  globalHold: GlobalHoldStop;
  /** Reservations of past dates settled (push/release.ts), as a build does: released, confirmed on their lists, kept. */
  pastReservations: PastReservations;
  warnings: string[];
};
export type ListmonkSyncEnvelope = Envelope<ListmonkSyncSummary>;

export interface ListmonkSyncOptions {
  /** Tests inject a client; the CLI builds one from config.listmonk. */
  listmonk?: ListmonkClient;
}

const syncOptions = z.object({ listmonk: z.custom<ListmonkClient>((v) => v === undefined || typeof v === 'object').optional() });

interface PreparedSync {
  lm: ListmonkClient;
  listPrefix: string;
  optOutScope: StageContext['config']['listmonk']['optOutScope'];
}

export const listmonkSyncStage: Stage<ListmonkSyncOptions, ListmonkSyncSummary, PreparedSync> = {
  name: 'sync-listmonk',
  options: syncOptions,
  migrations: 'apply',
  ledger: true,
  // A Listmonk that is not configured is refused before a run exists.
  prepare: (ctx, o) => ({
    lm: o.listmonk ?? createListmonkClient(ctx.config.listmonk, { log: (l) => ctx.out.debug(l), now: ctx.now }),
    listPrefix: ctx.config.listmonk.listPrefix,
    optOutScope: ctx.config.listmonk.optOutScope,
  }),
  args: (p) => ({ scope: p.optOutScope, listPrefix: p.listPrefix }),
  async run(ctx, run, p) {
    const now = ctx.now();
    const report = await syncOptOuts(ctx.store.db, p.lm, { listPrefix: p.listPrefix, optOutScope: p.optOutScope }, { runId: run!.id, now });
    // After a complete read only: every opt-out known by then reaches the lists already filled.
    const today = localDate(now, ctx.config.timezone);
    // Unsigned mail stops everything first; then the lists already filled lose whom the rules exclude now.
    const globalHold = await stopCampaignsUnderGlobalHold(ctx.store.db, p.lm, { today, now });
    const withdrawn = await withdrawExcluded(ctx.store.db, p.lm, { config: ctx.config, today, runId: run!.id, now });
    // Yesterday's reservations that a failed push left are settled tonight, not at the next build:
    // until then they keep their people out of every date within the cooldown.
    const past = await settlePastReservations(ctx.store.db, p.lm, { today, runId: run!.id, now });
    for (const w of past.warnings) ctx.out.warn(w);
    return { command: 'sync-listmonk' as const, ...report, withdrawn, globalHold, pastReservations: past.report, warnings: past.warnings };
  },
  render: renderListmonkSync,
};

export function listmonkSync(ctx: StageContext, opts: ListmonkSyncOptions = {}): Promise<ListmonkSyncEnvelope> {
  return runStage(ctx, listmonkSyncStage, opts);
}

export function renderListmonkSync(s: ListmonkSyncEnvelope): string {
  const lines = [
    `read opt-outs from ${s.lists} Listmonk list(s) (${s.scope === 'all' ? 'every list' : 'lists of this project'}, ${s.strategy === 'subscription-filter' ? "Listmonk's subscription filter" : 'every member of each list'}): ${s.newOptOuts} new, ${s.optedOut} address(es) opted out in all`,
  ];
  const stop = globalStopLine(s.globalHold);
  if (stop) lines.push(stop);
  const later = withdrawLine(s.withdrawn);
  if (later) lines.push(later);
  const past = pastReservationsLine(s.pastReservations);
  if (past) lines.push(past);
  if (!s.blocklistedEverywhere)
    lines.push('  note: the API user lacks subscribers:sql_query, so addresses blocklisted on none of these lists are not read; a push to one is refused and recorded then.');
  return lines.join('\n');
}
