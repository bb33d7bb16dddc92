/**
 * Lists. Names are not unique in Listmonk and `query=` goes through TO_TSQUERY (punctuation can
 * make a 500), so we read every list with `minimal=true&per_page=all` and match the exact name on
 * our side.
 */
import type { ListmonkCore } from './core.ts';
import { ListmonkApiError, ListmonkPermissionError } from './errors.ts';
import { createOnce } from './retry-create.ts';
import type { ListmonkList, PageResults } from './types.ts';

export interface EnsureListOptions {
  tags?: string[];
  description?: string;
}

export interface EnsuredList {
  id: number;
  name: string;
  /** false when a list of that name already existed (a re-run). */
  created: boolean;
}

/** Every list the API user may see. `minimal=true` answers `{"data":[]}` (an array) when there are none. */
export async function getAllLists(core: ListmonkCore): Promise<ListmonkList[]> {
  await core.version();
  const data = await core.http.request<PageResults<ListmonkList> | ListmonkList[]>('GET', '/api/lists', {
    query: { minimal: true, per_page: 'all' },
  });
  return Array.isArray(data) ? data : (data?.results ?? []);
}

/** One list with its opt-in type and subscriber count; null when it does not exist (Listmonk answers 400). */
export async function getList(core: ListmonkCore, id: number): Promise<ListmonkList | null> {
  await core.version();
  try {
    return await core.http.request<ListmonkList>('GET', `/api/lists/${id}`);
  } catch (e) {
    if (e instanceof ListmonkApiError && e.status === 400) return null;
    throw e;
  }
}

/** The list of that exact name; the oldest (lowest id) when several share it. */
export async function findListByName(core: ListmonkCore, name: string): Promise<ListmonkList | null> {
  const lists = await getAllLists(core);
  const same = lists.filter((l) => l.name === name).sort((a, b) => a.id - b.id);
  return same[0] ?? null;
}

/**
 * Finds the list by exact name, else creates it private and single opt-in. A re-run finds the list
 * the first run made; a lost create answer is resolved by looking again (createOnce).
 */
export async function ensureList(core: ListmonkCore, name: string, opts: EnsureListOptions = {}): Promise<EnsuredList> {
  const existing = await findListByName(core, name);
  if (existing) return { id: existing.id, name: existing.name, created: false };

  const created = await createOnce(
    core,
    `list "${name}"`,
    async () => {
      const l = await findListByName(core, name);
      return l ? { ...l, found: true } : null;
    },
    async () => {
      const l = await core.http.request<ListmonkList>('POST', '/api/lists', {
        json: { name, type: 'private', optin: 'single', tags: opts.tags ?? [], description: opts.description ?? '' },
        retry: false,
      });
      return { ...l, found: false };
    },
  );
  if (!created.found) {
    // A user with lists:manage_all but without get access would not see the new list on the next
    // run and would create a second one every time: refuse now rather than duplicate later.
    const visible = await getAllLists(core);
    if (!visible.some((l) => l.id === created.id))
      throw new ListmonkPermissionError({
        method: 'GET',
        path: '/api/lists',
        status: 200,
        body: null,
        permission: 'lists:get_all',
        listIds: [created.id],
        detail: `List "${name}" (id ${created.id}) was created but is not visible to the API user, so a re-run could not find it.`,
      });
  }
  return { id: created.id, name: created.name, created: !created.found };
}
