/**
 * `audience sync-listmonk`: the nightly read of opt-outs from Listmonk (src/optouts/sync.ts), as
 * a run in the ledger under the stage's lock. Builds do the same read before selecting; this stage
 * keeps `explain` and `plan` current between builds.
 */
import type { StageContext } from '../src/context.ts';
import { createListmonkClient, type ListmonkClient } from '../src/listmonk/index.ts';
import { syncOptOuts, type OptOutSyncReport } from '../src/optouts/sync.ts';
import { withRun } from '../src/runs.ts';

export type ListmonkSyncSummary = { command: 'sync-listmonk'; runId: number } & OptOutSyncReport;

export async function listmonkSync(ctx: StageContext, opts: { listmonk?: ListmonkClient } = {}): Promise<ListmonkSyncSummary> {
  const lm = opts.listmonk ?? createListmonkClient(ctx.config.listmonk, { log: (l) => ctx.out.debug(l), now: ctx.now });
  const { listPrefix, optOutScope } = ctx.config.listmonk;
  return withRun(ctx.store, 'sync-listmonk', { scope: optOutScope, listPrefix }, async (run) => {
    const report = await syncOptOuts(ctx.store.db, lm, { listPrefix, optOutScope }, { runId: run.id, now: ctx.now() });
    return { command: 'sync-listmonk' as const, runId: run.id, ...report };
  }, { now: ctx.now });
}

export function renderListmonkSync(s: ListmonkSyncSummary): string {
  const lines = [
    `read opt-outs from ${s.lists} Listmonk list(s) (${s.scope === 'all' ? 'every list' : 'lists of this project'}, ${s.strategy === 'subscription-filter' ? "Listmonk's subscription filter" : 'every member of each list'}): ${s.newOptOuts} new, ${s.optedOut} address(es) opted out in all`,
  ];
  if (!s.blocklistedEverywhere)
    lines.push('  note: the API user lacks subscribers:sql_query, so addresses blocklisted on none of these lists are not read; a push to one is refused and recorded then.');
  return lines.join('\n');
}
