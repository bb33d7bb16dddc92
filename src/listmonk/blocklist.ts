/**
 * Blocklisting in Listmonk, for addresses the bounce scrub
 * suppressed: Listmonk then stops mailing them from every list, older ones included. By id, in
 * chunks, via PUT /api/subscribers/blocklist (idempotent; every subscription becomes
 * unsubscribed). Addresses Listmonk does not know need nothing: no list can mail them.
 */
import type { ListmonkCore } from './core.ts';
import { canonicalEmail, findSubscribersByEmails } from './lookup.ts';

const CHUNK = 1000;

export async function blocklistSubscribers(core: ListmonkCore, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await core.version();
  for (let i = 0; i < ids.length; i += CHUNK) await core.http.request<boolean>('PUT', '/api/subscribers/blocklist', { json: { ids: ids.slice(i, i + CHUNK) } });
}

export interface BlocklistResult {
  /** Blocklisted by this call. */
  blocklisted: string[];
  /** Already blocklisted in Listmonk: nothing to do. */
  alreadyBlocklisted: string[];
  /** Not a Listmonk subscriber: nothing can mail it from Listmonk. */
  unknown: string[];
}

/** Blocklists these addresses where Listmonk has them. Canonical (lowercase) addresses in the result. */
export async function blocklistEmails(core: ListmonkCore, emails: readonly string[]): Promise<BlocklistResult> {
  const found = await findSubscribersByEmails(core, emails);
  const result: BlocklistResult = { blocklisted: [], alreadyBlocklisted: [], unknown: [] };
  const ids: number[] = [];
  for (const e of new Set(emails.map(canonicalEmail))) {
    const s = found.get(e);
    if (!s) result.unknown.push(e);
    else if (s.status === 'blocklisted') result.alreadyBlocklisted.push(e);
    else {
      result.blocklisted.push(e);
      ids.push(s.id);
    }
  }
  await blocklistSubscribers(core, ids);
  return result;
}
