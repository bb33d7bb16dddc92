/**
 * Which Listmonk we talk to decides the auth scheme and a few behaviours:
 * v2/v3 Basic auth with the admin and 401 on failure; v4+ API users with `token user:token` and
 * 403; v2.0–2.1 answer 200 instead of 409 on a duplicate; `search=` exists from v5; an import's
 * state must be DELETEd before the next one before v2.5.
 */
import { ListmonkAuthError } from './errors.ts';
import type { ListmonkHttp } from './http.ts';
import { toApiError } from './http.ts';

export interface ServerVersion {
  major: number;
  minor: number;
  patch: number;
  /** As reported (e.g. `v6.2.0`), or `configured v3` when taken from configuration. */
  raw: string;
}

/** The newest release we know; assumed for nightlies and unparseable strings. */
export const LATEST: ServerVersion = { major: 6, minor: 2, patch: 0, raw: 'v6.2.0' };

export function parseVersion(raw: string): ServerVersion {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(raw);
  if (!m) return { ...LATEST, raw };
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), raw };
}

export function atLeast(v: ServerVersion, major: number, minor = 0): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** From configuration (`v2`…`v6`): the earliest minor of that major, the conservative choice. */
export function configuredVersion(v: 'v2' | 'v3' | 'v4' | 'v5' | 'v6'): ServerVersion {
  return { major: Number(v.slice(1)), minor: 0, patch: 0, raw: `configured ${v}` };
}

/**
 * Asks GET /api/config (authenticated on every version, `{data:{version}}`). The v4+ `token`
 * scheme first: a v2/v3 server answers 401 with `WWW-Authenticate: Basic`, and then Basic is
 * tried. Leaves `http.scheme` set for every later call.
 */
export async function detectVersion(http: ListmonkHttp): Promise<ServerVersion> {
  http.scheme = 'token';
  let res = await http.send('GET', '/api/config');
  if (res.status === 401) {
    http.scheme = 'basic';
    res = await http.send('GET', '/api/config');
  }
  if (res.status === 401 || res.status === 403) throw new ListmonkAuthError({ method: 'GET', path: '/api/config', status: res.status, body: res.body });
  if (res.status !== 200) throw toApiError('GET', '/api/config', res);
  const data = (res.body as { data?: { version?: unknown } } | undefined)?.data;
  const v = parseVersion(typeof data?.version === 'string' ? data.version : '');
  // A v2/v3 server without credentials configured accepts anything; Basic is what it expects.
  if (v.major < 4) http.scheme = 'basic';
  return v;
}
