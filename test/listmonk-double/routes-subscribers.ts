/** /api/subscribers. */
import type { Env, Req, Route } from './context.ts';
import { badRequest, HttpError, intArray, paging, pathId, slice, sortRows, str } from './http-util.ts';
import type { SubscriberRow, SubStatus, SubscriptionStatus } from './model.ts';
import { atLeast } from './version.ts';

const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

/** importer.ValidateFields + SanitizeEmail: trimmed, lowercased, bare address, domain policy. */
export function validateEmail(raw: string, env: Env): string {
  const email = raw.trim().toLowerCase();
  if (email.length < 1 || email.length > 1000 || !EMAIL.test(email)) throw badRequest('Invalid email.');
  const domain = email.slice(email.lastIndexOf('@') + 1);
  if (env.domainBlocklist.includes(domain)) throw badRequest('The e-mail domain is blocklisted.');
  return email;
}

/** An empty name is derived from the local part: `john.doe@x` → `John Doe`. */
export function nameFromEmail(email: string): string {
  return email
    .slice(0, email.indexOf('@'))
    .split(/[._\-+]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

const visible = (req: Req) => (id: number) => req.principal.canSeeList(id);

function getSub(env: Env, id: number): SubscriberRow {
  const s = env.model.subscribers.get(id);
  if (!s) throw badRequest('Subscriber not found');
  return s;
}

/**
 * The `query=` shapes the double understands: `subscribers.email='x'`, `subscribers.email IN
 * ('x','y')` and `subscribers.status='blocklisted'` (any status). Anything else is refused as the
 * real server refuses bad SQL.
 */
function sqlQueryFilter(query: string): (s: SubscriberRow) => boolean {
  const lit = `'(?:[^']|'')*'`;
  const unquote = (l: string) => l.slice(1, -1).replaceAll("''", "'");
  const status = new RegExp(`^\\s*\\(?\\s*subscribers\\.status\\s*=\\s*(${lit})\\s*\\)?\\s*$`, 'i').exec(query);
  if (status) return (s) => s.status === unquote(status[1]!);
  const eq = new RegExp(`^\\s*\\(?\\s*subscribers\\.email\\s*=\\s*(${lit})\\s*\\)?\\s*$`, 'i').exec(query);
  const inList = new RegExp(`^\\s*subscribers\\.email\\s+IN\\s*\\(\\s*(${lit}(?:\\s*,\\s*${lit})*)\\s*\\)\\s*$`, 'i').exec(query);
  const literals = eq?.[1] ?? inList?.[1];
  if (!literals) throw badRequest(`Error preparing subscriber query: the test double only understands subscribers.email='…', IN (…) or subscribers.status='…', got: ${query}`);
  const wanted = new Set([...literals.matchAll(new RegExp(lit, 'g'))].map((m) => unquote(m[0])));
  return (s) => wanted.has(s.email);
}

/**
 * GET /api/subscribers as `query-subscribers` does it: a LEFT JOIN of subscriber_lists on the
 * requested lists, so with several `list_id`s a subscriber comes once per matching subscription;
 * `subscription_status` is part of that join, so without a `list_id` it filters nothing (and it
 * exists from v3.0); v2.0–2.1 read one `list_id`. `total` is a COUNT(*) of the same join, so it
 * counts those rows too.
 */
function querySubscribers(req: Req, env: Env) {
  const query = (req.query.get('query') ?? '').trim();
  if (query && atLeast(env.version, 5) && !req.principal.hasPerm('subscribers:sql_query')) throw new HttpError(403, 'Permission denied: subscribers:sql_query');
  const sentLists = (atLeast(env.version, 2, 2) ? req.query.getAll('list_id') : req.query.getAll('list_id').slice(0, 1)).map(Number).filter((n) => n > 0);
  const listIds = req.principal.filterLists(['get'], sentLists);
  if (sentLists.length > 0 && listIds.length === 0) throw new HttpError(403, 'Permission denied: lists');
  const subStatus = atLeast(env.version, 3) ? (req.query.get('subscription_status') ?? '') : '';
  // `search` arrived in v5: older versions ignore the parameter.
  const search = atLeast(env.version, 5) ? (req.query.get('search') ?? '').trim() : '';
  let re: RegExp | null = null;
  if (search) {
    try {
      re = new RegExp(search, 'i'); // Postgres `~*`: POSIX regex, case-insensitive
    } catch {
      throw new HttpError(500, 'Error fetching subscribers: pq: invalid regular expression');
    }
  }
  const byQuery = query ? sqlQueryFilter(query) : () => true;
  const joined = (s: SubscriberRow): number => {
    if (listIds.length === 0) return 1;
    const subs = env.model.subscriptions.get(s.id)!;
    return listIds.filter((id) => subs.has(id) && (!subStatus || subs.get(id)!.status === subStatus)).length;
  };
  const rows: SubscriberRow[] = [];
  for (const s of env.model.subscribers.values()) {
    if (!byQuery(s)) continue;
    if (re && !re.test(s.name) && !re.test(s.email)) continue;
    for (let n = joined(s); n > 0; n--) rows.push(s);
  }
  const total = rows.length;
  const p = paging(req.query);
  const sorted = sortRows(rows, req.query.get('order_by'), ['email', 'status', 'name', 'created_at', 'updated_at'], 'id', req.query.get('order'), (s, f) =>
    f === 'id' || f === 'created_at' ? s.id : String(s[f as keyof SubscriberRow]),
  );
  const results = slice(sorted, p).map((s) => env.model.subscriberJson(s, visible(req)));
  return { results, query, search, total, page: p.page, per_page: p.perPage };
}

export const subscriberRoutes: Route[] = [
  { method: 'GET', pattern: '/api/subscribers', perms: ['subscribers:get_all', 'subscribers:get'], handler: querySubscribers },
  {
    method: 'GET',
    pattern: '/api/subscribers/:id',
    perms: ['subscribers:get_all', 'subscribers:get'],
    handler: (req, env) => env.model.subscriberJson(getSub(env, pathId(req.params.id)), visible(req)),
  },
  {
    method: 'POST',
    pattern: '/api/subscribers',
    perms: ['subscribers:manage'],
    handler(req, env) {
      const b = req.json();
      const email = validateEmail(str(b, 'email'), env);
      const name = str(b, 'name').trim() || nameFromEmail(email);
      if (name.length > 2000) throw badRequest('Invalid length for name.');
      const status = (str(b, 'status') || 'enabled') as SubStatus;
      const sent = intArray(b, 'lists');
      const lists = req.principal.filterLists(['manage'], sent);
      if (sent.length > 0 && lists.length === 0) throw new HttpError(403, 'Permission denied: lists');
      if (!['enabled', 'disabled', 'blocklisted'].includes(status))
        throw new HttpError(500, `Error creating subscriber: pq: invalid input value for enum subscriber_status: "${status}"`);
      const existing = env.model.findByEmail(email);
      if (existing) {
        // v2.0–2.1 returned the existing row with 200; from v2.2 a 409 and nothing changes.
        if (!atLeast(env.version, 2, 2)) return env.model.subscriberJson(existing, visible(req));
        throw new HttpError(409, 'E-mail already exists.');
      }
      const attribs = b.attribs && typeof b.attribs === 'object' && !Array.isArray(b.attribs) ? (b.attribs as Record<string, unknown>) : {};
      const row = env.model.addSubscriber({ email, name, attribs, status });
      const subStatus: SubscriptionStatus = status === 'blocklisted' ? 'unsubscribed' : b.preconfirm_subscriptions === true ? 'confirmed' : 'unconfirmed';
      for (const id of lists) env.model.subscribe(row.id, id, subStatus);
      env.subscriberWrite();
      return env.model.subscriberJson(row, visible(req));
    },
  },
  ...(['/api/subscribers/lists', '/api/subscribers/lists/:id'].map((pattern) => ({
    method: 'PUT',
    pattern,
    perms: ['subscribers:manage'],
    handler(req: Req, env: Env) {
      const ids: number[] = [];
      if (req.params.id !== undefined) ids.push(pathId(req.params.id));
      const b = req.json();
      const bodyIds = intArray(b, 'ids');
      if (bodyIds.length === 0) throw badRequest('No IDs given.'); // even with an {id} in the path
      if (ids.length === 0) ids.push(...bodyIds);
      const targets = intArray(b, 'target_list_ids');
      if (targets.length === 0) throw badRequest('No lists given.');
      if (!req.principal.hasPerm('subscribers:get_all'))
        for (const id of ids) if (!env.model.subscribers.has(id)) throw new HttpError(403, `Permission denied: subscriber: ${id}`);
      const lists = req.principal.filterLists(['manage'], targets);
      if (lists.length === 0) throw new HttpError(403, 'Permission denied: lists');
      const action = str(b, 'action');
      const status = str(b, 'status') as SubscriptionStatus | '';
      if (action === 'add') {
        for (const s of ids)
          for (const l of lists) {
            // v2.0/2.1: ON CONFLICT DO NOTHING with unconfirmed; `status` arrived in v2.2.
            if (atLeast(env.version, 2, 2)) env.model.subscribe(s, l, status || undefined);
            else if (!env.model.subscriptions.get(s)?.has(l)) env.model.subscribe(s, l, undefined);
          }
        env.subscriberWrite();
      } else if (action === 'remove') {
        for (const s of ids) for (const l of lists) env.model.subscriptions.get(s)?.delete(l);
      } else if (action === 'unsubscribe') {
        for (const s of ids) for (const l of lists) if (env.model.subscriptions.get(s)?.has(l)) env.model.subscribe(s, l, 'unsubscribed');
      } else throw badRequest('Invalid action.');
      return true;
    },
  })) as Route[]),
  {
    method: 'PUT',
    pattern: '/api/subscribers/blocklist',
    perms: ['subscribers:manage'],
    handler(req, env) {
      const ids = intArray(req.json(), 'ids');
      if (ids.length === 0) throw badRequest('Invalid ID(s)');
      for (const id of ids) env.model.blocklist(id);
      return true;
    },
  },
  {
    method: 'PUT',
    pattern: '/api/subscribers/:id/blocklist',
    perms: ['subscribers:manage'],
    handler(req, env) {
      env.model.blocklist(pathId(req.params.id));
      return true;
    },
  },
  {
    method: 'DELETE',
    pattern: '/api/subscribers/:id',
    perms: ['subscribers:manage'],
    handler(req, env) {
      const id = pathId(req.params.id);
      env.model.deleteSubscriber(id);
      return true; // also for ids that do not exist
    },
  },
];
