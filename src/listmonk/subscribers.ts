/**
 * Subscribers, one call per address. Listmonk has no upsert, so:
 * POST with the list and preconfirmed; on 409 look the address up and PUT it onto the list.
 * Every step is idempotent, so a re-run after a crash (or a retried POST whose answer was lost)
 * converges without duplicates. Blocklisted subscribers and unsubscribed subscriptions are
 * reported, never re-enabled.
 */
import pLimit from 'p-limit';
import type { ListmonkCore } from './core.ts';
import { ListmonkApiError, ListmonkPermissionError } from './errors.ts';
import { canonicalEmail, findSubscriberByEmail } from './lookup.ts';
import { eachSubscriberPage } from './paging.ts';
import type { ListmonkSubscriber } from './types.ts';
import { atLeast } from './version.ts';

export interface SubscriberInput {
  email: string;
  name?: string;
  attribs?: Record<string, unknown>;
}

/**
 * - created: new subscriber, subscribed (confirmed) to the list.
 * - added: existed; now subscribed (confirmed) to the list.
 * - already_member: existed and was already confirmed on the list (a re-run).
 * - blocklisted: the subscriber is blocklisted in Listmonk; not touched, will not be mailed.
 * - unsubscribed: the subscriber had unsubscribed from this very list; not re-subscribed.
 * - rejected: Listmonk refused this address (400: invalid e-mail, blocklisted domain, …).
 * - missing: (import path) not found on the list after the import (skipped as invalid by Listmonk).
 */
export type PushStatus = 'created' | 'added' | 'already_member' | 'blocklisted' | 'unsubscribed' | 'rejected' | 'missing';

export interface PushOutcome {
  email: string;
  status: PushStatus;
  subscriberId: number | null;
  /** Listmonk's message for `rejected`. */
  message?: string;
}

/** Whether an outcome means "this address will receive the list's campaigns". */
export const isOnList = (o: PushOutcome) => o.status === 'created' || o.status === 'added' || o.status === 'already_member';

export interface AddOptions {
  /** Called as soon as each address is settled with Listmonk, so the caller can record it. */
  onOutcome?: (o: PushOutcome) => void | Promise<void>;
  /**
   * Called for each address whose calls failed (the error that stopped it). An address that gets
   * neither an outcome nor a failure was never sent: the push stopped before its turn.
   */
  onFailure?: (email: string, error: unknown) => void;
}

/**
 * Puts every address on the list. Runs concurrently up to the client's bound. On a fatal error
 * (permission, auth, Listmonk down) no new address is started; those in flight finish and are
 * reported through onOutcome (or onFailure); then the first error is thrown.
 */
export async function addSubscribersToList(core: ListmonkCore, listId: number, subscribers: readonly SubscriberInput[], opts: AddOptions = {}): Promise<PushOutcome[]> {
  await core.version();
  let fatal: unknown;
  const outcomes: (PushOutcome | undefined)[] = new Array(subscribers.length);
  // Addresses, not only requests, are bounded: each task checks for a fatal error when it gets its
  // turn, so one refusal stops the queued rest instead of failing the same way N times.
  const tasks = pLimit(core.config.concurrency);
  await Promise.all(
    subscribers.map((s, i) =>
      tasks(async () => {
        if (fatal !== undefined) return;
        let o: PushOutcome;
        try {
          o = await addOne(core, listId, s);
        } catch (e) {
          fatal ??= e;
          opts.onFailure?.(s.email, e);
          return;
        }
        outcomes[i] = o;
        try {
          await opts.onOutcome?.(o);
        } catch (e) {
          fatal ??= e;
        }
      }),
    ),
  );
  if (fatal !== undefined) throw fatal;
  return outcomes as PushOutcome[];
}

async function addOne(core: ListmonkCore, listId: number, s: SubscriberInput): Promise<PushOutcome> {
  const email = s.email;
  const v = await core.version();
  if (!atLeast(v, 2, 2)) {
    // v2.0–2.1 answer a duplicate with 200 and the existing row (no 409), indistinguishable from
    // a creation: look first.
    const existing = await findSubscriberByEmail(core, email);
    if (existing) return addExisting(core, listId, email, existing);
  }
  let created: ListmonkSubscriber;
  try {
    created = await core.http.request<ListmonkSubscriber>('POST', '/api/subscribers', {
      json: { email: canonicalEmail(email), name: s.name ?? '', status: 'enabled', lists: [listId], attribs: s.attribs ?? {}, preconfirm_subscriptions: true },
    });
  } catch (e) {
    if (e instanceof ListmonkApiError && e.status === 409) return addExisting(core, listId, email);
    // Per-address validation (bad syntax, blocklisted domain): report it, keep going.
    if (e instanceof ListmonkApiError && e.status === 400) return { email, status: 'rejected', subscriberId: null, message: e.serverMessage ?? 'rejected' };
    throw e;
  }
  const ref = (created.lists ?? []).find((l) => l.id === listId);
  if (!ref) await explainDroppedList(core, listId, 'POST', '/api/subscribers', created);
  if (created.status === 'blocklisted') return { email, status: 'blocklisted', subscriberId: created.id };
  return { email, status: 'created', subscriberId: created.id };
}

async function addExisting(core: ListmonkCore, listId: number, email: string, known?: ListmonkSubscriber): Promise<PushOutcome> {
  const sub = known ?? (await findSubscriberByEmail(core, email));
  if (!sub) {
    // 409, yet a lookup finds nothing: invisible to this user, or deleted in between.
    throw new ListmonkApiError({
      method: 'POST',
      path: '/api/subscribers',
      status: 409,
      body: { message: 'E-mail already exists.' },
      hint: `But a lookup of ${canonicalEmail(email)} finds nothing: grant the API user subscribers:get_all, or re-run if it was just deleted.`,
    });
  }
  if (sub.status === 'blocklisted') return { email, status: 'blocklisted', subscriberId: sub.id };
  const ref = (sub.lists ?? []).find((l) => l.id === listId);
  if (ref?.subscription_status === 'unsubscribed') return { email, status: 'unsubscribed', subscriberId: sub.id };
  if (ref?.subscription_status === 'confirmed') return { email, status: 'already_member', subscriberId: sub.id };
  // v2.0–2.1 cannot set a subscription status (no `status` in PUT /subscribers/lists): unconfirmed
  // is as far as it goes, and on our single opt-in lists unconfirmed subscribers are mailed.
  if (ref?.subscription_status === 'unconfirmed' && !atLeast(await core.version(), 2, 2)) return { email, status: 'already_member', subscriberId: sub.id };
  // One target list: Listmonk answers 403 when it is not manageable, so no silent drop here.
  await core.http.request<boolean>('PUT', '/api/subscribers/lists', {
    json: { ids: [sub.id], action: 'add', target_list_ids: [listId], status: 'confirmed' },
  });
  return { email, status: 'added', subscriberId: sub.id };
}

/** Listmonk accepted the subscriber but not the list: the list is gone, or not the user's to manage. */
async function explainDroppedList(core: ListmonkCore, listId: number, method: string, path: string, body: unknown): Promise<never> {
  try {
    await core.http.request('GET', `/api/lists/${listId}`);
  } catch (e) {
    if (e instanceof ListmonkApiError && e.status === 400)
      throw new ListmonkApiError({ method, path, status: 400, body: e.body, hint: `List ${listId} does not exist in Listmonk (deleted?). Re-run the build to recreate it.` });
    if (!(e instanceof ListmonkPermissionError) && !(e instanceof ListmonkApiError && e.status === 403)) throw e;
  }
  throw new ListmonkPermissionError({
    method,
    path,
    status: 200,
    body,
    permission: 'lists:manage_all',
    listIds: [listId],
    detail: 'Listmonk answered 200 but silently dropped the list from the subscription.',
  });
}

/**
 * Takes subscribers off one list (their subscription becomes `unsubscribed`, so the list's
 * campaigns skip them; the subscriber and its other lists are untouched, unlike a blocklisting).
 * PUT /api/subscribers/lists, action `unsubscribe`, in chunks; idempotent. Listmonk answers 403
 * when the list is not the user's to manage (lists:manage_all or the list's permission).
 */
export async function unsubscribeFromList(core: ListmonkCore, listId: number, subscriberIds: readonly number[]): Promise<void> {
  if (!subscriberIds.length) return;
  await core.version();
  for (let i = 0; i < subscriberIds.length; i += UNSUBSCRIBE_CHUNK)
    await core.http.request<boolean>('PUT', '/api/subscribers/lists', {
      json: { ids: subscriberIds.slice(i, i + UNSUBSCRIBE_CHUNK), action: 'unsubscribe', target_list_ids: [listId] },
    });
}
const UNSUBSCRIBE_CHUNK = 1000;

export async function getSubscriber(core: ListmonkCore, id: number): Promise<ListmonkSubscriber> {
  await core.version();
  return core.http.request<ListmonkSubscriber>('GET', `/api/subscribers/${id}`);
}

/** Every subscriber on a list, paged (`per_page` has no upper bound, but pages keep answers small). */
export async function getListMembers(core: ListmonkCore, listId: number, perPage = 1000): Promise<ListmonkSubscriber[]> {
  const out: ListmonkSubscriber[] = [];
  // e-mail is unique, so pages never overlap or skip; `order` must be lowercase.
  await eachSubscriberPage(core, { list_id: listId, order_by: 'email', order: 'asc' }, (rows) => void out.push(...rows), perPage);
  return out;
}

export { canonicalEmail } from './lookup.ts';
