/** /api/campaigns: drafts on create, the status transition table. */
import type { Env, Req, Route } from './context.ts';
import { badRequest, intArray, paging, pathId, slice, sortRows, str } from './http-util.ts';
import type { CampaignRow, CampaignStatus } from './model.ts';
import { atLeast } from './version.ts';

const CONTENT_TYPES = ['richtext', 'html', 'markdown', 'plain', 'visual'];
const MANAGE = ['campaigns:manage_all', 'campaigns:manage'];

function getCampaign(env: Env, id: number): CampaignRow {
  const c = env.model.campaigns.get(id);
  if (!c) throw badRequest('Campaign not found.');
  return c;
}

/** send_at: RFC 3339 or null; `""` is a bind error; must be in the future. */
function sendAt(b: Record<string, unknown>, env: Env): string | null | undefined {
  if (!('send_at' in b)) return undefined;
  const v = b.send_at;
  if (v === null) return null;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v))
    throw badRequest(`Unmarshal type error: expected=null.Time, got=${JSON.stringify(v)}, field=send_at, offset=0`);
  if (new Date(v).getTime() < env.model.clock().getTime()) throw badRequest('Scheduled date should be in the future.');
  return new Date(v).toISOString();
}

function lists(req: Req, env: Env, ids: number[]) {
  const permitted = req.principal.filterLists(['get', 'manage'], ids).filter((id) => env.model.lists.has(id));
  if (permitted.length === 0) throw badRequest('Invalid list IDs.');
  return permitted.map((id) => ({ id, name: env.model.lists.get(id)!.name }));
}

export const campaignRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/campaigns',
    perms: ['campaigns:get_all', 'campaigns:get'],
    handler(req, env) {
      const statuses = req.query.getAll('status');
      const tags = req.query.getAll('tag');
      const q = (req.query.get('query') ?? '').trim().toLowerCase();
      const rows = [...env.model.campaigns.values()].filter(
        (c) => (statuses.length === 0 || statuses.includes(c.status)) && tags.every((t) => c.tags.includes(t)) && (!q || `${c.name} ${c.subject}`.toLowerCase().includes(q)),
      );
      const p = paging(req.query);
      // Quirk: an empty result reports page 0 and per_page 0.
      if (rows.length === 0) return { results: [], total: 0, page: 0, per_page: 0 };
      const sorted = sortRows(rows, req.query.get('order_by'), ['name', 'status', 'created_at', 'updated_at'], 'created_at', req.query.get('order'), (c, f) =>
        f === 'created_at' ? c.id : String(c[f as keyof CampaignRow]),
      );
      const noBody = ['true', '1', 't'].includes(req.query.get('no_body') ?? '');
      const results = slice(sorted, p).map((c) => (noBody ? { ...c, body: '' } : { ...c }));
      return { results, query: q, search: '', total: rows.length, page: p.page, per_page: p.perPage };
    },
  },
  { method: 'GET', pattern: '/api/campaigns/:id', perms: ['campaigns:get_all', 'campaigns:get'], handler: (req, env) => ({ ...getCampaign(env, pathId(req.params.id)) }) },
  {
    method: 'POST',
    pattern: '/api/campaigns',
    perms: MANAGE,
    handler(req, env) {
      const b = req.json();
      const type = str(b, 'type') || 'regular';
      const name = str(b, 'name');
      const subject = str(b, 'subject');
      const ids = intArray(b, 'lists');
      const at = sendAt(b, env);
      if (name.length < 1 || name.length > 2000) throw badRequest('Invalid length for name.');
      if (subject.length < 1 || subject.length > 5000) throw badRequest('Invalid length for subject.');
      let contentType = str(b, 'content_type');
      if (!CONTENT_TYPES.includes(contentType) || (contentType === 'visual' && !atLeast(env.version, 5))) contentType = 'richtext';
      const body = str(b, 'body');
      if (/\{\{[^}]*$/.test(body) || /\{\{\s*\}\}/.test(body)) throw badRequest(`Error compiling campaign body: template: content:1: unclosed action`);
      const listRefs = lists(req, env, ids);
      const c = env.model.addCampaign({
        type,
        name,
        subject,
        from_email: str(b, 'from_email') || String(env.model.settings['app.from_email']),
        body,
        altbody: typeof b.altbody === 'string' ? b.altbody : null,
        send_at: at ?? null,
        status: 'draft', // a campaign can never be created scheduled or running
        content_type: contentType,
        tags: Array.isArray(b.tags) ? (b.tags as string[]).map((t) => t.trim().replace(/\s+/g, '-')) : [],
        headers: Array.isArray(b.headers) ? b.headers : [],
        template_id: typeof b.template_id === 'number' ? b.template_id : 1,
        messenger: str(b, 'messenger') || 'email',
        lists: listRefs,
      });
      return { ...c };
    },
  },
  {
    method: 'PUT',
    pattern: '/api/campaigns/:id',
    perms: MANAGE,
    handler(req, env) {
      const c = getCampaign(env, pathId(req.params.id));
      if (!['draft', 'paused', 'scheduled'].includes(c.status)) throw badRequest('Cannot update a running or a finished campaign.');
      const b = req.json();
      const listRefs = lists(req, env, intArray(b, 'lists')); // lists must always be sent
      const at = sendAt(b, env);
      for (const k of ['name', 'subject', 'body', 'altbody', 'from_email'] as const) if (typeof b[k] === 'string') (c as unknown as Record<string, unknown>)[k] = b[k];
      if (Array.isArray(b.tags)) c.tags = b.tags as string[];
      if (at !== undefined) c.send_at = at;
      c.lists = listRefs;
      // v2–v4: send_later:false makes it a draft; v5+: clearing send_at on a scheduled one does.
      if (!atLeast(env.version, 5) && b.send_later === false) c.status = 'draft';
      if (atLeast(env.version, 5) && c.status === 'scheduled' && c.send_at === null) c.status = 'draft';
      c.updated_at = env.model.nowIso();
      return { ...c };
    },
  },
  {
    method: 'PUT',
    pattern: '/api/campaigns/:id/status',
    perms: (v) => (atLeast(v, 6, 1) ? ['campaigns:send'] : MANAGE),
    handler(req, env) {
      const c = getCampaign(env, pathId(req.params.id));
      const target = str(req.json(), 'status') as CampaignStatus;
      const from = c.status;
      const rules: Partial<Record<CampaignStatus, [boolean, string]>> = {
        draft: [from === 'scheduled', 'Only scheduled campaigns can be saved as drafts.'],
        // A paused campaign may be rescheduled from v5.0.
        scheduled: [from === 'draft' || (from === 'paused' && atLeast(env.version, 5)), 'Only draft or paused campaigns can be scheduled.'],
        running: [from === 'draft' || from === 'paused', 'Only paused campaigns and drafts can be started.'],
        paused: [from === 'running', 'Only active campaigns can be paused.'],
        cancelled: [from === 'running' || from === 'paused', 'Only active campaigns can be cancelled.'],
      };
      const rule = rules[target];
      if (rule && !rule[0]) throw badRequest(rule[1]);
      if (target === 'scheduled' && !c.send_at) throw badRequest('Campaign needs a date to be scheduled.');
      // The SQL turns `running` into `scheduled` when send_at is set; other strings go straight in.
      // A campaign started without a send_at is picked up by the scheduler at once (modelled as now).
      if (target === 'running' && !c.send_at) env.model.start(c);
      else c.status = target === 'running' ? 'scheduled' : target;
      c.updated_at = env.model.nowIso();
      return { ...c, status: target };
    },
  },
  {
    method: 'DELETE',
    pattern: '/api/campaigns/:id',
    perms: MANAGE,
    handler(req, env) {
      env.model.campaigns.delete(pathId(req.params.id));
      return true;
    },
  },
];

