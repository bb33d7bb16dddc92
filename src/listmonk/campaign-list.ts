/**
 * Reading campaigns by status, page by page: GET /api/campaigns
 * takes `status` repeated (every version from v2.0), `no_body`, `order_by` (name|status|
 * created_at|updated_at) and lowercase `order`. An empty result answers page 0 and per_page 0, so
 * the loop ends on an empty or short page (measured against the per_page the server says it
 * applied), never on `total`.
 */
import type { ListmonkCore } from './core.ts';
import type { CampaignStatus, ListmonkCampaign, PageResults } from './types.ts';

export interface CampaignQuery {
  statuses: readonly CampaignStatus[];
  orderBy?: 'created_at' | 'updated_at';
  order?: 'asc' | 'desc';
  perPage?: number;
  /** Stops after the page for which this answers true (e.g. rows older than a day on an updated_at scan). */
  enough?: (page: readonly ListmonkCampaign[]) => boolean;
}

/**
 * Every campaign in one of `statuses`, without bodies, each once. Newest first by default: a
 * campaign created during the read moves rows to later pages (read twice, kept once), never to
 * earlier ones. A campaign that leaves the filter during the read (a running one finishing) can
 * shift one row past a page boundary; the auditor reads one page of 100 in practice.
 */
export async function listCampaigns(core: ListmonkCore, q: CampaignQuery): Promise<ListmonkCampaign[]> {
  await core.version();
  const perPage = q.perPage ?? 100;
  const byId = new Map<number, ListmonkCampaign>();
  for (let page = 1; ; page++) {
    const res = await core.http.request<PageResults<ListmonkCampaign>>('GET', '/api/campaigns', {
      query: { status: [...q.statuses], no_body: true, order_by: q.orderBy ?? 'created_at', order: q.order ?? 'desc', page, per_page: perPage },
    });
    const rows = res?.results ?? [];
    for (const c of rows) if (!byId.has(c.id)) byId.set(c.id, c);
    const applied = res?.per_page > 0 ? res.per_page : perPage;
    if (rows.length === 0 || rows.length < applied || res.per_page === 0 || q.enough?.(rows)) break;
  }
  return [...byId.values()];
}
