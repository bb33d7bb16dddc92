/** /api/lists. */
import type { Route } from './context.ts';
import { badRequest, HttpError, paging, pathId, slice, sortRows, str } from './http-util.ts';
import type { ListRow } from './model.ts';
import { atLeast } from './version.ts';

const normalizeTags = (tags: unknown): string[] =>
  Array.isArray(tags) ? tags.map((t) => String(t).trim().replace(/\s+/g, '-')).filter((t) => t.length > 0) : [];

export const listRoutes: Route[] = [
  {
    // No pm() guard: every user may call it; results are filtered to permitted lists.
    method: 'GET',
    pattern: '/api/lists',
    handler(req, env) {
      const perm = req.principal.permittedLists(['get']);
      const visible = [...env.model.lists.values()].filter((l) => perm.all || perm.ids.includes(l.id));
      if (['true', '1', 't', 'TRUE', 'True'].includes(req.query.get('minimal') ?? '')) {
        // Quirk: an empty result is a bare array, otherwise a PageResults with everything.
        if (visible.length === 0) return [];
        const results = visible.sort((a, b) => a.id - b.id).map((l) => ({ ...l }));
        return { results, total: results.length, page: 1, per_page: results.length, query: '', search: '' };
      }
      const q = (req.query.get('query') ?? '').trim().toLowerCase();
      const tags = req.query.getAll('tag');
      const rows = visible.filter(
        (l) =>
          (!q || l.name.toLowerCase().includes(q)) &&
          tags.every((t) => l.tags.includes(t)) &&
          (!req.query.get('type') || l.type === req.query.get('type')) &&
          (!req.query.get('optin') || l.optin === req.query.get('optin')),
      );
      const sorted = sortRows(rows, req.query.get('order_by'), ['name', 'status', 'created_at', 'updated_at', 'subscriber_count'], 'created_at', req.query.get('order'), (l, f) =>
        f === 'subscriber_count' ? env.model.listJson(l).subscriber_count : f === 'created_at' ? l.id : String(l[f as keyof ListRow]),
      );
      const p = paging(req.query);
      return { results: slice(sorted, p).map((l) => env.model.listJson(l)), query: q, search: '', total: rows.length, page: p.page, per_page: p.perPage };
    },
  },
  {
    method: 'GET',
    pattern: '/api/lists/:id',
    handler(req, env) {
      const id = pathId(req.params.id);
      const l = env.model.lists.get(id);
      if (!l) throw badRequest('List not found');
      if (!req.principal.canSeeList(id)) throw new HttpError(403, 'Permission denied: list');
      return env.model.listJson(l);
    },
  },
  {
    method: 'POST',
    pattern: '/api/lists',
    perms: ['lists:manage_all'],
    handler(req, env) {
      const b = req.json();
      const name = str(b, 'name'); // stored as sent: Listmonk does not trim list names
      if (name.length < 1 || name.length > 2000) throw badRequest('Invalid name');
      const type = str(b, 'type') || 'private';
      const optin = str(b, 'optin') || 'single';
      const status = atLeast(env.version, 6) ? str(b, 'status') || 'active' : 'active';
      // Enums are checked by PostgreSQL: a bad value is a 500, not a 400.
      if (!['public', 'private', 'temporary'].includes(type)) throw new HttpError(500, `Error creating list: pq: invalid input value for enum list_type: "${type}"`);
      if (!['single', 'double'].includes(optin)) throw new HttpError(500, `Error creating list: pq: invalid input value for enum list_optin: "${optin}"`);
      const l = env.model.addList({ name, type, optin, status, tags: normalizeTags(b.tags), description: str(b, 'description') });
      return env.model.listJson(l);
    },
  },
  {
    method: 'DELETE',
    pattern: '/api/lists/:id',
    handler(req, env) {
      const id = pathId(req.params.id);
      if (req.principal.filterLists(['manage'], [id]).length === 0) throw new HttpError(403, 'Permission denied: lists');
      env.model.deleteList(id);
      return true;
    },
  },
];
