/**
 * The opt-out sync: reads from Listmonk every blocklisted subscriber and every unsubscribed
 * subscription on the lists in scope (listmonk.optOutScope: 'ours', the lists this project created,
 * or 'all') and records them in opt_outs, page by page as they are read. A read that fails half
 * way (a 5xx after the retries, Listmonk gone) keeps what it read (each one is a real opt-out) and
 * fails: the run is not ok, so the view is never taken for complete, and the next sync reads
 * everything again.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { ExternalServiceError } from '../errors.ts';
import type { ListmonkClient, ListmonkConfig, OptOutStrategy } from '../listmonk/index.ts';
import { activeOptOutCount, recordOptOuts } from './record.ts';

export type OptOutSyncReport = {
  /** Which lists count: 'ours' (listPrefix, or recorded by a build) or 'all'. */
  scope: 'ours' | 'all';
  lists: number;
  strategy: OptOutStrategy;
  /** false without subscribers:sql_query on Listmonk v5+: blocklistings are read from the lists in scope only. */
  blocklistedEverywhere: boolean;
  /** Subscriber rows read (one per matching subscription with several lists). */
  subscribersRead: number;
  requests: number;
  /** Opt-outs (pieces of evidence) recorded by this sync: 0 on a re-run. */
  newOptOuts: number;
  /** Addresses opted out now, all sources. */
  optedOut: number;
};

/** The Listmonk lists whose unsubscribes are opt-outs. */
async function listsInScope(db: Kysely<Database>, lm: ListmonkClient, config: Pick<ListmonkConfig, 'listPrefix' | 'optOutScope'>): Promise<number[]> {
  const lists = await lm.getAllLists();
  if (config.optOutScope === 'all') return lists.map((l) => l.id);
  const built = new Set((await sql<{ list_id: number }>`select distinct list_id from build_lists`.execute(db)).rows.map((r) => r.list_id));
  // An empty prefix names no list: then only the lists our builds recorded are ours.
  const prefix = config.listPrefix ? `${config.listPrefix} ` : null;
  return lists.filter((l) => built.has(l.id) || (prefix !== null && l.name.startsWith(prefix))).map((l) => l.id);
}

export async function syncOptOuts(
  db: Kysely<Database>,
  lm: ListmonkClient,
  config: Pick<ListmonkConfig, 'listPrefix' | 'optOutScope'>,
  at: { runId: number; now: Date },
): Promise<OptOutSyncReport> {
  const listIds = await listsInScope(db, lm, config);
  let newOptOuts = 0;
  let read: Awaited<ReturnType<ListmonkClient['readOptOuts']>>;
  try {
    read = await lm.readOptOuts({
      listIds,
      onSightings: async (s) => {
        newOptOuts += await recordOptOuts(db, s, { source: 'sync', runId: at.runId, now: at.now });
      },
    });
  } catch (e) {
    if (!(e instanceof ExternalServiceError)) throw e;
    throw new ExternalServiceError(
      e.service,
      `${e.message}\nThe opt-out read from Listmonk did not finish: the ${newOptOuts} opt-out(s) read before the failure are recorded, the rest are not known yet. Re-run once Listmonk answers (\`audience sync-listmonk\`); nothing is selected on a partial read.`,
      { cause: e, retryable: e.retryable },
    );
  }
  return {
    scope: config.optOutScope,
    lists: read.lists,
    strategy: read.strategy,
    blocklistedEverywhere: read.blocklistedEverywhere,
    subscribersRead: read.subscribers,
    requests: read.requests,
    newOptOuts,
    optedOut: await activeOptOutCount(db),
  };
}
