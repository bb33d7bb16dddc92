/**
 * Reading opt-outs back from Listmonk through the documented API:
 * subscribers blocklisted anywhere, and unsubscribed subscriptions on the given lists.
 *
 * What each version lets us ask (GET /api/subscribers):
 * - `query=` (a SQL expression) on every version, but from v5 only with `subscribers:sql_query`
 *   (403 otherwise): `subscribers.status='blocklisted'` finds every blocklisted subscriber.
 * - `subscription_status=` with `list_id=` from v3.0: the unsubscribed subscriptions of those lists.
 *   Without a `list_id` Listmonk ignores it. With several `list_id`s a subscriber comes once per
 *   matching subscription, so rows are deduplicated here.
 * - v2.x has no subscription filter (and v2.0–2.1 take one `list_id`): each list's members are read
 *   page by page and their subscriptions checked here.
 * Without `subscribers:sql_query` on v5+, a subscriber blocklisted on none of the lists read is not
 * seen here; a push to it is answered `blocklisted`, which the build records as an opt-out too.
 *
 * Sightings go to `onSightings` page by page, so what was read before a failure (5xx after the
 * retries, Listmonk gone) can still be recorded; the read then throws and is not complete.
 */
import type { ListmonkCore } from './core.ts';
import { ListmonkApiError } from './errors.ts';
import { canonicalEmail } from './lookup.ts';
import { eachSubscriberPage } from './paging.ts';
import type { ListmonkSubscriber } from './types.ts';
import { atLeast } from './version.ts';

export interface OptOutSighting {
  /** As Listmonk stores it: trimmed, lowercased. */
  email: string;
  subscriberId: number;
  kind: 'blocklisted' | 'unsubscribed';
  /** The unsubscribed subscription's list; null for a blocklisting (it holds on every list). */
  listId: number | null;
  listName: string | null;
}

export type OptOutStrategy = 'subscription-filter' | 'list-members';

export interface OptOutRead {
  /** How the unsubscribes were read: Listmonk's filter (v3+), or every member of each list (v2). */
  strategy: OptOutStrategy;
  /** Whether every blocklisted subscriber was read (`query=`), or only those on the lists read. */
  blocklistedEverywhere: boolean;
  lists: number;
  requests: number;
  subscribers: number;
}

export interface ReadOptOutsOptions {
  listIds: readonly number[];
  onSightings: (s: OptOutSighting[]) => void | Promise<void>;
  /** Rows per request. */
  perPage?: number;
  /** `list_id`s per filtered request (v3+): keeps URLs short. */
  listsPerRequest?: number;
}

const BLOCKLISTED = "subscribers.status='blocklisted'";

export async function readOptOuts(core: ListmonkCore, opts: ReadOptOutsOptions): Promise<OptOutRead> {
  const v = await core.version();
  const perPage = opts.perPage ?? 1000;
  const targets = new Set(opts.listIds);
  const seen = new Set<string>();
  const read: OptOutRead = {
    strategy: atLeast(v, 3) ? 'subscription-filter' : 'list-members',
    blocklistedEverywhere: false,
    lists: targets.size,
    requests: 0,
    subscribers: 0,
  };

  // One subscriber may come on several pages or requests: each piece of evidence is passed once.
  const emit = async (rows: ListmonkSubscriber[], onlyBlocklisted: boolean) => {
    const out: OptOutSighting[] = [];
    for (const s of rows) {
      const email = canonicalEmail(s.email);
      if (s.status === 'blocklisted') {
        // Blocklisting unsubscribes every list too: the blocklisting is the evidence.
        const key = `b:${s.id}`;
        if (!seen.has(key)) out.push({ email, subscriberId: s.id, kind: 'blocklisted', listId: null, listName: null });
        seen.add(key);
        continue;
      }
      if (onlyBlocklisted) continue;
      for (const l of s.lists ?? []) {
        const key = `u:${s.id}:${l.id}`;
        if (l.subscription_status !== 'unsubscribed' || !targets.has(l.id) || seen.has(key)) continue;
        seen.add(key);
        out.push({ email, subscriberId: s.id, kind: 'unsubscribed', listId: l.id, listName: l.name ?? null });
      }
    }
    read.subscribers += rows.length;
    if (out.length) await opts.onSightings(out);
  };
  const count = (r: { requests: number }) => (read.requests += r.requests);

  if (core.lookupMode === 'query') {
    try {
      count(await eachSubscriberPage(core, { query: BLOCKLISTED }, (rows) => emit(rows, true), perPage));
      read.blocklistedEverywhere = true;
    } catch (e) {
      if (!(e instanceof ListmonkApiError && e.status === 403 && atLeast(v, 5))) throw e;
      read.requests++;
      core.lookupMode = 'search';
      core.log('listmonk: subscribers:sql_query not granted; blocklisted subscribers are read from the lists only');
    }
  }

  const ids = [...targets].sort((a, b) => a - b);
  if (atLeast(v, 3)) {
    const chunk = opts.listsPerRequest ?? 100;
    for (let i = 0; i < ids.length; i += chunk)
      count(await eachSubscriberPage(core, { list_id: ids.slice(i, i + chunk), subscription_status: 'unsubscribed' }, (rows) => emit(rows, false), perPage));
  } else {
    for (const id of ids) count(await eachSubscriberPage(core, { list_id: id }, (rows) => emit(rows, false), perPage));
  }
  return read;
}
