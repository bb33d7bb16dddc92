/**
 * The settings document of the double by version (knadh/listmonk
 * cmd/settings.go and schema.sql at each tag from v2.0.0 to v6.2.0):
 * - a fresh install has two SMTP servers and one bounce mailbox with the password "password" and
 *   no uuid, no messenger, and every other secret empty;
 * - GET hides secrets: empty before v2.5 (list entries' `password` and the S3 key omitted, being
 *   `omitempty`), one `•` per character from v2.5;
 * - PUT keeps the stored value of a secret sent empty (or left out): top-level ones by key, list
 *   entries from the stored entry with the same uuid, the LAST one when several share it; an entry
 *   without a uuid then gets one. The mask itself is not recognised: `•••` is saved as sent.
 */
import { randomUUID } from 'node:crypto';
import { atLeast, type Version } from './version.ts';

type Path = readonly [string, ...string[]];

interface SecretField {
  path: Path;
  since: readonly [number, number];
  /** The version that moved it elsewhere. */
  until?: readonly [number, number];
  /** `json:",omitempty"` in Go: an empty value is left out of the answer. */
  omitEmpty?: boolean;
}

/** Top-level secrets, each hidden by GET and kept by PUT from the version that added it. */
export const SECRET_FIELDS: readonly SecretField[] = [
  { path: ['upload.s3.aws_secret_access_key'], since: [2, 0], omitEmpty: true },
  { path: ['bounce.sendgrid_key'], since: [2, 0] },
  { path: ['security.captcha_secret'], since: [2, 4], until: [5, 1] },
  { path: ['security.captcha', 'hcaptcha', 'secret'], since: [5, 1] },
  { path: ['bounce.postmark', 'password'], since: [3, 0] },
  { path: ['security.oidc', 'client_secret'], since: [4, 0] },
  { path: ['bounce.forwardemail', 'key'], since: [4, 1] },
  { path: ['bounce.lettermint', 'key'], since: [6, 1] },
  { path: ['bounce.azure', 'shared_secret'], since: [6, 2] },
];

export const SECRET_LISTS = ['smtp', 'messengers', 'bounce.mailboxes'] as const;

type Doc = Record<string, unknown>;
type Entry = { uuid?: string; password?: string } & Record<string, unknown>;

export const secretFieldsOf = (v: Version) => SECRET_FIELDS.filter((f) => atLeast(v, ...f.since) && !(f.until && atLeast(v, ...f.until)));

export function getPath(doc: Doc, path: Path): unknown {
  let cur: unknown = doc;
  for (const k of path) cur = cur && typeof cur === 'object' ? (cur as Doc)[k] : undefined;
  return cur;
}

/** Sets `value` at `path`, creating the objects on the way. */
export function setPath(doc: Doc, path: Path, value: unknown): void {
  let cur = doc;
  for (const k of path.slice(0, -1)) cur = (cur[k] && typeof cur[k] === 'object' ? cur[k] : (cur[k] = {})) as Doc;
  cur[path[path.length - 1]!] = value;
}

function deletePath(doc: Doc, path: Path): void {
  const parent = path.length > 1 ? getPath(doc, path.slice(0, -1) as unknown as Path) : doc;
  if (parent && typeof parent === 'object') delete (parent as Doc)[path[path.length - 1]!];
}

/** What a fresh install of `v` holds (the keys the pipeline and these tests read). */
export function freshSettings(v: Version): Doc {
  const smtp = (host: string, enabled: boolean): Entry => ({ uuid: '', enabled, host, port: 25, username: 'username', password: 'password', max_conns: 10 });
  const doc: Doc = {
    'app.root_url': 'http://localhost:9000',
    'app.from_email': 'listmonk <noreply@listmonk.example>',
    'app.lang': 'en',
    'app.concurrency': 10,
    'app.message_rate': 10,
    'app.batch_size': 1000,
    'app.max_send_errors': 1000,
    'app.message_sliding_window': false,
    'app.message_sliding_window_duration': '1h',
    'app.message_sliding_window_rate': 10000,
    'privacy.allow_blocklist': true,
    smtp: [smtp('smtp.yoursite.com', true), smtp('smtp.gmail.com', false)],
    messengers: [],
    'bounce.mailboxes': [{ uuid: '', enabled: false, type: 'pop', host: 'pop.yoursite.com', port: 995, username: 'username', password: 'password', scan_interval: '15m' }],
  };
  for (const f of secretFieldsOf(v)) setPath(doc, f.path, '');
  return doc;
}

const mask = (v: string) => '\u2022'.repeat([...v].length);

/** GET /api/settings. */
export function maskedSettings(settings: Doc, v: Version): Doc {
  const out = structuredClone(settings);
  const masks = atLeast(v, 2, 5);
  for (const k of SECRET_LISTS) {
    if (!Array.isArray(out[k])) continue;
    out[k] = (out[k] as Entry[]).map((e) => {
      const { password, ...rest } = e;
      const shown = masks && typeof password === 'string' ? mask(password) : '';
      return shown === '' ? rest : { ...rest, password: shown };
    });
  }
  for (const f of secretFieldsOf(v)) {
    const value = getPath(out, f.path);
    if (typeof value !== 'string') continue;
    const shown = masks ? mask(value) : '';
    if (shown === '' && f.omitEmpty) deletePath(out, f.path);
    else setPath(out, f.path, shown);
  }
  return out;
}

/** PUT /api/settings: the incoming document with the kept secrets put back. */
export function keepSecrets(incoming: Doc, stored: Doc, v: Version): Doc {
  for (const k of SECRET_LISTS) {
    if (!Array.isArray(incoming[k])) continue;
    const old = ((stored[k] as Entry[] | undefined) ?? []).filter((e) => typeof e.password === 'string');
    incoming[k] = (incoming[k] as Entry[]).map((e) => {
      const sent = typeof e.password === 'string' ? e.password : '';
      const kept = sent === '' ? old.filter((o) => (o.uuid ?? '') === (e.uuid ?? '')).pop()?.password : undefined;
      return { ...e, uuid: e.uuid || randomUUID(), password: kept ?? sent };
    });
  }
  for (const f of secretFieldsOf(v)) {
    const sent = getPath(incoming, f.path);
    if (typeof sent === 'string' && sent !== '') continue;
    const before = getPath(stored, f.path);
    if (typeof before === 'string') setPath(incoming, f.path, before);
  }
  return incoming;
}
