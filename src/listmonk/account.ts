/**
 * Who we are on the Listmonk server and what it is set up with, for `audience doctor`:
 * - `serverConfig()`: GET /api/config (authenticated on every version): version, the default
 *   from address (`app.from_email`), whether config.toml still holds the legacy admin
 *   credentials (v4+ `has_legacy_user`), and whether saved settings wait for a restart.
 * - `profile()`: GET /api/profile (v4+, no permission guard): the API user with its role's
 *   permissions (`user_role.permissions`) and per-list role (`list_role.lists`). Before v4 there
 *   are no users: the admin of config.toml may do everything, and this returns null.
 * - `getTemplate(id)` (templates:get on v4+): a campaign needs a template of type `campaign`
 *   (or `campaign_visual`, v5+); a `tx` template is for transactional mail.
 */
import type { ListmonkCore } from './core.ts';
import { atLeast } from './version.ts';

export interface ServerConfig {
  version: string;
  /** `app.from_email`: what a campaign without from_email is sent from. */
  fromEmail: string | null;
  /** config.toml still has admin_username/admin_password (v4+): they work as a super-admin API credential. */
  hasLegacyUser: boolean;
  /** Settings saved while a campaign ran, not applied until Listmonk restarts (every version). */
  needsRestart: boolean;
}

export async function serverConfig(core: ListmonkCore): Promise<ServerConfig> {
  await core.version();
  const c = await core.http.request<{ version?: unknown; from_email?: unknown; has_legacy_user?: unknown; needs_restart?: unknown }>('GET', '/api/config');
  return {
    version: typeof c?.version === 'string' ? c.version : '',
    fromEmail: typeof c?.from_email === 'string' && c.from_email ? c.from_email : null,
    hasLegacyUser: c?.has_legacy_user === true,
    needsRestart: c?.needs_restart === true,
  };
}

/** The Super Admin role (internal/auth/models.go SuperAdminRoleID): the pm() guard lets it through everything. */
export const SUPER_ADMIN_ROLE_ID = 1;

export interface ListmonkProfile {
  username: string;
  /** `api` for an API user, `user` for a browser login (which cannot call the API with its password). */
  type: string;
  role: { id: number; name: string; permissions: string[] };
  /** Per-list permissions (`list:get`, `list:manage`) of the user's list role, when it has one. */
  lists: { id: number; name: string; permissions: string[] }[];
}

interface ProfileWire {
  username?: string;
  type?: string;
  user_role?: { id?: number; name?: string; permissions?: string[] | null } | null;
  list_role?: { lists?: { id: number; name?: string; permissions?: string[] | null }[] | null } | null;
}

/** The API user and its permissions, or null before v4 (no users, no permissions). */
export async function profile(core: ListmonkCore): Promise<ListmonkProfile | null> {
  const v = await core.version();
  if (!atLeast(v, 4)) return null;
  const p = await core.http.request<ProfileWire>('GET', '/api/profile');
  return {
    username: p?.username ?? '',
    type: p?.type ?? '',
    role: { id: p?.user_role?.id ?? 0, name: p?.user_role?.name ?? '', permissions: p?.user_role?.permissions ?? [] },
    lists: (p?.list_role?.lists ?? []).map((l) => ({ id: l.id, name: l.name ?? '', permissions: l.permissions ?? [] })),
  };
}

export interface ListmonkTemplate {
  id: number;
  name: string;
  /** `campaign`, `campaign_visual` (v5+) or `tx`. */
  type: string;
  isDefault: boolean;
}

/** GET /api/templates/{id} without its body. A missing template is a 400 (ListmonkApiError). */
export async function getTemplate(core: ListmonkCore, id: number): Promise<ListmonkTemplate> {
  await core.version();
  const t = await core.http.request<{ id: number; name?: string; type?: string; is_default?: boolean }>('GET', `/api/templates/${id}`, { query: { no_body: true } });
  return { id: t.id, name: t.name ?? '', type: t.type ?? '', isDefault: t.is_default === true };
}
