/** Raw HTTP calls to the double for conformance tests (no client logic in between). */
import { DEFAULT_USER } from './server.ts';

export interface CallOptions {
  json?: unknown;
  form?: FormData;
  /** Authorization header; default `token <default user>`; null sends none. */
  auth?: string | null;
  headers?: Record<string, string>;
  body?: string;
}

export const tokenAuth = (user = DEFAULT_USER.username, token = DEFAULT_USER.token) => `token ${user}:${token}`;
export const basicAuth = (user: string, pass: string) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

export async function call(base: string, method: string, path: string, o: CallOptions = {}) {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  const auth = o.auth === undefined ? tokenAuth() : o.auth;
  if (auth !== null) headers.Authorization = auth;
  let body: string | FormData | undefined = o.body;
  if (o.json !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    body = JSON.stringify(o.json);
  } else if (o.form) body = o.form;
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // HTML 404 pages
  }
  return { status: res.status, body: parsed as any, headers: res.headers };
}
