/**
 * Authentication and permissions of the double, by version:
 * - ≤ v3: Basic auth with the single admin from config.toml; 401 + WWW-Authenticate on failure;
 *   no auth at all when no admin is configured; no permissions.
 * - v4+: API users. `Authorization: token user:token` or `Basic base64(user:token)` (scheme names
 *   case-sensitive); a Cookie holding `session=` makes the header ignored; failures are 403 JSON.
 *   Lists the user may not manage are filtered out silently.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from './http-util.ts';
import type { Version } from './version.ts';

export type ListPerm = 'get' | 'manage';

export interface DoubleUser {
  username: string;
  token: string;
  /** The Super Admin role bypasses every check. */
  superAdmin?: boolean;
  /** User-role permissions, e.g. `lists:manage_all`, `subscribers:sql_query`. */
  perms?: string[];
  /** Per-list role permissions: list id → get/manage. */
  lists?: Record<number, ListPerm[]>;
  /**
   * v4+: the admin_username/admin_password still in config.toml, accepted as an API credential: a
   * Super Admin role id with no permissions, so every pm() guard passes but list filtering, which
   * reads the permissions, drops every list (knadh/listmonk issue #2111).
   */
  legacy?: boolean;
}

/** What an API user for the pipeline needs, without sql_query. */
export const PIPELINE_PERMS = [
  'lists:get_all',
  'lists:manage_all',
  'subscribers:get_all',
  'subscribers:manage',
  'subscribers:import',
  'campaigns:get_all',
  'campaigns:manage_all',
  'campaigns:send',
  'settings:get',
];

/** The authenticated principal; `null` user means ≤ v3 (no permission model). */
export class Principal {
  constructor(readonly user: DoubleUser | null) {}

  /** The pm() guard's test (auth.Perm): the Super Admin role id, which a legacy credential has too, passes everything. */
  pmAllows(p: string): boolean {
    return this.user?.legacy === true || this.hasPerm(p);
  }

  /** User.HasPerm, what handlers and list filtering test: the role's permission list itself. */
  hasPerm(p: string): boolean {
    if (!this.user || this.user.superAdmin) return true;
    return (this.user.perms ?? []).includes(p);
  }

  /** `FilterListsByPerm`: keeps ids the user may get and/or manage (per the requested kinds). */
  filterLists(kinds: ListPerm[], ids: number[]): number[] {
    if (!this.user || this.user.superAdmin) return ids;
    if (kinds.includes('get') && this.hasPerm('lists:get_all')) return ids;
    if (kinds.includes('manage') && this.hasPerm('lists:manage_all')) return ids;
    return ids.filter((id) => kinds.some((k) => (this.user!.lists?.[id] ?? []).includes(k)));
  }

  /** `GetPermittedLists`: all lists, or the ids with the given kinds. */
  permittedLists(kinds: ListPerm[]): { all: boolean; ids: number[] } {
    if (!this.user || this.user.superAdmin) return { all: true, ids: [] };
    if (kinds.includes('get') && this.hasPerm('lists:get_all')) return { all: true, ids: [] };
    if (kinds.includes('manage') && this.hasPerm('lists:manage_all')) return { all: true, ids: [] };
    const ids = Object.entries(this.user.lists ?? {})
      .filter(([, perms]) => kinds.some((k) => perms.includes(k)))
      .map(([id]) => Number(id));
    return { all: false, ids };
  }

  canSeeList(id: number): boolean {
    const p = this.permittedLists(['get', 'manage']);
    return p.all || p.ids.includes(id);
  }
}

export interface AuthConfig {
  version: Version;
  users: Map<string, DoubleUser>;
  /** ≤ v3: the admin of config.toml; null means no auth at all. */
  admin: { username: string; password: string } | null;
}

export function authenticate(headers: IncomingHttpHeaders, cfg: AuthConfig): Principal {
  const raw = (headers.authorization ?? '').trim();
  if (cfg.version.major < 4) {
    if (!cfg.admin) return new Principal(null);
    // echo's BasicAuth middleware: scheme compared case-insensitively.
    if (raw.slice(0, 6).toLowerCase() === 'basic ') {
      const [u, ...rest] = Buffer.from(raw.slice(6).trim(), 'base64').toString('utf8').split(':');
      if (u === cfg.admin.username && rest.join(':') === cfg.admin.password) return new Principal(null);
    }
    throw new HttpError(401, 'Unauthorized', { 'WWW-Authenticate': 'basic realm=Restricted' });
  }

  let hdr = raw;
  if (String(headers.cookie ?? '').includes('session=')) hdr = ''; // backwards-compat quirk (auth.go)
  if (!hdr) throw new HttpError(403, 'invalid session');
  let pair: string[];
  if (hdr.startsWith('token')) pair = hdr.slice('token'.length).trim().split(/:(.*)/s, 2);
  else if (hdr.startsWith('Basic')) {
    const payload = hdr.slice('Basic'.length).trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) throw new HttpError(403, 'code=400, message=invalid Base64 value in Basic Authorization header');
    pair = Buffer.from(payload, 'base64').toString('utf8').split(/:(.*)/s, 2);
  } else throw new HttpError(403, 'code=400, message=unknown Authorization scheme');
  if (pair.length < 2) throw new HttpError(403, 'code=400, message=api_key:token missing');
  const [key, token] = pair as [string, string];
  if (!key || !token) throw new HttpError(403, 'code=400, message=empty `api_key` or `token`');
  const user = cfg.users.get(key);
  if (!user || user.token !== token) throw new HttpError(403, 'invalid API credentials');
  return new Principal(user);
}

/** The `pm()` guard: any one of the permissions suffices. Not applied before v4. */
export function requirePerm(p: Principal, perms: string[]): void {
  if (perms.length === 0 || perms.some((x) => p.pmAllows(x))) return;
  throw new HttpError(403, `permission denied: ${perms[perms.length - 1]}`);
}
