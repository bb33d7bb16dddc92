/**
 * Finding subscribers by e-mail. `query=` is a SQL expression that
 * needs `subscribers:sql_query` from v5; when the server refuses it we switch, for the rest of
 * this client's life, to the v5+ `search=` POSIX regex, which matches name OR email
 * case-insensitively, so every match is confirmed exactly on our side.
 */
import type { ListmonkCore } from './core.ts';
import { ListmonkApiError } from './errors.ts';
import type { ListmonkSubscriber, PageResults } from './types.ts';
import { atLeast } from './version.ts';

/** Listmonk stores e-mails trimmed and lowercased (and enforces uniqueness on LOWER(email)). */
export const canonicalEmail = (email: string) => email.trim().toLowerCase();

/** Escapes the POSIX ERE metacharacters `\.^$|?*+()[]{}` for Postgres' `~*`. */
export function escapePosixRegex(s: string): string {
  return s.replace(/[\\.^$|?*+()[\]{}]/g, '\\$&');
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Addresses per lookup request in the batch form: keeps URLs around 10 kB. */
export const LOOKUP_BATCH = 200;

async function lookup(core: ListmonkCore, emails: readonly string[]): Promise<ListmonkSubscriber[]> {
  const v = await core.version();
  if (core.lookupMode === 'query') {
    const expr = emails.length === 1 ? `subscribers.email=${sqlString(emails[0]!)}` : `subscribers.email IN (${emails.map(sqlString).join(',')})`;
    try {
      const page = await core.http.request<PageResults<ListmonkSubscriber>>('GET', '/api/subscribers', { query: { query: expr, per_page: 'all' } });
      return page.results ?? [];
    } catch (e) {
      if (!(e instanceof ListmonkApiError && e.status === 403 && atLeast(v, 5))) throw e;
      core.lookupMode = 'search';
      core.log('listmonk: subscribers:sql_query not granted; looking subscribers up with search= instead');
    }
  }
  const pattern = `^(${emails.map(escapePosixRegex).join('|')})$`;
  const page = await core.http.request<PageResults<ListmonkSubscriber>>('GET', '/api/subscribers', { query: { search: pattern, per_page: 'all' } });
  return page.results ?? [];
}

/** The subscriber with exactly this address, or null. */
export async function findSubscriberByEmail(core: ListmonkCore, email: string): Promise<ListmonkSubscriber | null> {
  const wanted = canonicalEmail(email);
  return (await lookup(core, [wanted])).find((r) => canonicalEmail(r.email) === wanted) ?? null;
}

/** Subscribers by canonical address, looked up LOOKUP_BATCH at a time; absent addresses are absent. */
export async function findSubscribersByEmails(core: ListmonkCore, emails: readonly string[]): Promise<Map<string, ListmonkSubscriber>> {
  const wanted = [...new Set(emails.map(canonicalEmail))];
  const want = new Set(wanted);
  const out = new Map<string, ListmonkSubscriber>();
  for (let i = 0; i < wanted.length; i += LOOKUP_BATCH) {
    for (const r of await lookup(core, wanted.slice(i, i + LOOKUP_BATCH))) {
      const e = canonicalEmail(r.email);
      if (want.has(e)) out.set(e, r);
    }
  }
  return out;
}
