/**
 * The API user's own profile and the templates (cmd/users.go
 * GetUserProfile, cmd/templates.go in knadh/listmonk): what `audience doctor` reads to judge
 * permissions and the configured campaign template.
 */
import type { Route } from './context.ts';
import { badRequest, HttpError, pathId } from './http-util.ts';
import { atLeast } from './version.ts';

/** Every permission of permissions.json (v6.1+); the Super Admin role is created with all of them. */
export const ALL_PERMS = [
  'lists:get_all', 'lists:manage_all',
  'subscribers:get', 'subscribers:get_all', 'subscribers:manage', 'subscribers:import', 'subscribers:sql_query', 'tx:send',
  'campaigns:get', 'campaigns:get_all', 'campaigns:get_analytics', 'campaigns:manage', 'campaigns:manage_all', 'campaigns:send',
  'bounces:get', 'bounces:manage', 'webhooks:post_bounce', 'media:get', 'media:manage', 'templates:get', 'templates:manage',
  'users:get', 'users:manage', 'roles:get', 'roles:manage', 'settings:get', 'settings:manage', 'settings:maintain',
];

export const accountRoutes: Route[] = [
  {
    // No pm() guard: every authenticated user reads its own profile. Before v4 there are no users (and no route).
    method: 'GET',
    pattern: '/api/profile',
    handler(req, env) {
      if (!atLeast(env.version, 4)) throw new HttpError(404, '404 unknown endpoint');
      const u = req.principal.user!;
      const role = u.legacy
        ? { id: 1, name: '', permissions: null }
        : u.superAdmin
          ? { id: 1, name: 'Super Admin', permissions: ALL_PERMS }
          : { id: 2, name: `${u.username} role`, permissions: u.perms ?? [] };
      const lists = Object.entries(u.lists ?? {}).map(([id, perms]) => ({
        id: Number(id),
        name: env.model.lists.get(Number(id))?.name ?? '',
        permissions: perms.map((p) => `list:${p}`),
      }));
      return {
        id: 2,
        username: u.username,
        type: 'api',
        status: 'enabled',
        password_login: false,
        user_role: role,
        list_role: lists.length ? { id: 3, name: `${u.username} lists`, lists } : null,
      };
    },
  },
  {
    method: 'GET',
    pattern: '/api/templates/:id',
    perms: ['templates:get'],
    handler(req, env) {
      const t = env.model.templates.get(pathId(req.params.id));
      if (!t) throw badRequest('Template not found.');
      return { ...t, subject: '', ...(['true', '1', 't'].includes(req.query.get('no_body') ?? '') ? {} : { body: '{{ template "content" . }}' }) };
    },
  },
];
