/**
 * Reading every page of GET /api/subscribers. The loop ends on a
 * short page, measured against the `per_page` the server says it applied (a server that caps it
 * answers with the cap), rather than on `total`: `total` is counted by a second query, so rows
 * added or removed between the count and the pages would end the read early or late, and with
 * several `list_id`s it counts one row per matching subscription, not subscribers.
 */
import type { ListmonkCore } from './core.ts';
import type { QueryValue } from './http.ts';
import type { ListmonkSubscriber, PageResults } from './types.ts';

export interface PagedRead {
  requests: number;
  rows: number;
}

export async function eachSubscriberPage(
  core: ListmonkCore,
  filters: Record<string, QueryValue>,
  onPage: (rows: ListmonkSubscriber[]) => void | Promise<void>,
  perPage = 1000,
): Promise<PagedRead> {
  await core.version();
  const read: PagedRead = { requests: 0, rows: 0 };
  for (let page = 1; ; page++) {
    const res = await core.http.request<PageResults<ListmonkSubscriber>>('GET', '/api/subscribers', { query: { ...filters, page, per_page: perPage } });
    read.requests++;
    const rows = res.results ?? [];
    read.rows += rows.length;
    if (rows.length > 0) await onPage(rows);
    // A server that caps per_page answers with the cap; per_page 0 means "all" (no LIMIT).
    const applied = res.per_page > 0 ? res.per_page : perPage;
    if (rows.length === 0 || rows.length < applied || res.per_page === 0) return read;
  }
}
