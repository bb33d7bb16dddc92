/**
 * Bulk path: one CSV upload to /api/import/subscribers. Listmonk runs
 * one import at a time per process, so we wait politely while another runs, name our upload
 * uniquely to recognise our own import in the shared status, poll until finished/failed, then
 * DELETE the state (needed before v2.5, harmless after). Imports report counts, not addresses, so
 * the result is read back from the list: only what Listmonk shows on the list counts as pushed.
 */
import { randomBytes } from 'node:crypto';
import type { ListmonkCore } from './core.ts';
import { ListmonkApiError, ListmonkImportError, ListmonkUnavailableError } from './errors.ts';
import { canonicalEmail, getListMembers, type PushOutcome, type SubscriberInput } from './subscribers.ts';
import type { ImportStatus } from './types.ts';
import { atLeast } from './version.ts';

const PATH = '/api/import/subscribers';

export interface ImportOptions {
  /** Overwrite name and attributes of subscribers that already exist (default false, like the per-address path). */
  overwrite?: boolean;
}

/**
 * Imports the subscribers onto the list (subscribe mode, confirmed) and returns one outcome per
 * input address: added | blocklisted | unsubscribed | missing (Listmonk skipped the row).
 */
export async function importSubscribersToList(core: ListmonkCore, listId: number, subscribers: readonly SubscriberInput[], opts: ImportOptions = {}): Promise<PushOutcome[]> {
  if (subscribers.length === 0) return [];
  const v = await core.version();
  const name = `audience-list${listId}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}.csv`;
  const deadline = Date.now() + core.config.importWaitMs;
  const csv = toImportCsv(subscribers);
  const overwrite = opts.overwrite ?? false;
  const params = {
    mode: 'subscribe',
    delim: ',',
    lists: [listId],
    subscription_status: 'confirmed',
    overwrite,
    overwrite_userinfo: overwrite,
    overwrite_subscription_status: false,
  };

  for (let attempt = 1; ; attempt++) {
    await waitUntilIdle(core, deadline, atLeast(v, 2, 5));
    const form = new FormData();
    form.append('params', JSON.stringify(params));
    // The name must end in .csv: Listmonk opens anything else as a ZIP.
    form.append('file', new Blob([csv], { type: 'text/csv' }), name);
    try {
      await core.http.request<ImportStatus>('POST', PATH, { form, retry: false });
      break;
    } catch (e) {
      const transient = e instanceof ListmonkUnavailableError || (e instanceof ListmonkApiError && (e.status >= 500 || e.status === 400));
      if (!transient) throw e;
      const st = await readImportStatus(core);
      if (st.name === name) break; // our upload started; only its answer was lost
      if (st.status === 'importing' || st.status === 'stopping') continue; // lost a race with another import: wait again
      if (e instanceof ListmonkApiError && e.status === 400) throw e; // a real validation error
      if (attempt > core.config.retries) throw e;
      await core.sleep(core.http.backoff(attempt));
    }
  }

  const final = await pollOwn(core, name, deadline);
  if (final.status === 'failed') {
    const logs = await readLogs(core);
    await core.http.request('DELETE', PATH);
    throw new ListmonkImportError(
      `Listmonk import of ${subscribers.length} subscriber(s) into list ${listId} failed after ${final.imported} of ${final.total} row(s). ` +
        `Listmonk's log ends with: ${lastLines(logs, 3) || '(empty)'}. Re-run the build; rows already imported are not duplicated.`,
      { importStatus: 'failed', logs },
    );
  }
  await core.http.request('DELETE', PATH);
  core.log(`listmonk: import ${name} finished: ${final.imported}/${final.total} row(s)`);
  return readBack(core, listId, subscribers);
}

/** The server's one import slot: none, importing, stopping, finished or failed (needs subscribers:import). */
export async function readImportStatus(core: ListmonkCore): Promise<ImportStatus> {
  await core.version();
  return core.http.request<ImportStatus>('GET', PATH);
}

/** Waits while another import is `importing` or `stopping` (the only states that block a new one). */
async function waitUntilIdle(core: ListmonkCore, deadline: number, clearsItself: boolean): Promise<void> {
  let announced = false;
  for (;;) {
    const st = await readImportStatus(core);
    if (st.status !== 'importing' && st.status !== 'stopping') {
      // Before v2.5 a finished/failed state blocks the next import until it is DELETEd.
      if (!clearsItself && st.status !== 'none') await core.http.request('DELETE', PATH);
      return;
    }
    if (!announced) {
      core.log(`listmonk: another import (${st.name || 'unnamed'}, ${st.status}) is running on the server; waiting for it`);
      announced = true;
    }
    if (Date.now() >= deadline)
      throw new ListmonkImportError(
        `Another Listmonk import (${st.name || 'unnamed'}) is still ${st.status} after waiting ${Math.round(core.config.importWaitMs / 1000)} s. Let it finish (Subscribers → Import), then re-run.`,
        { importStatus: st.status },
      );
    await core.sleep(core.config.importPollMs);
  }
}

async function pollOwn(core: ListmonkCore, name: string, deadline: number): Promise<ImportStatus> {
  for (;;) {
    const st = await readImportStatus(core);
    if (st.name !== name) {
      // Someone reset the state (DELETE) or Listmonk restarted: the import's fate is unknown.
      throw new ListmonkImportError(
        `The Listmonk import ${name} disappeared from the server's status (now ${st.status}${st.name ? ` ${st.name}` : ''}): it was reset or Listmonk restarted. Re-run the build.`,
        { importStatus: st.status },
      );
    }
    if (st.status === 'finished' || st.status === 'failed') return st;
    if (Date.now() >= deadline)
      throw new ListmonkImportError(`The Listmonk import ${name} is still ${st.status} (${st.imported}/${st.total}) after ${Math.round(core.config.importWaitMs / 1000)} s. Check Listmonk, then re-run.`, {
        importStatus: st.status,
      });
    await core.sleep(core.config.importPollMs);
  }
}

async function readLogs(core: ListmonkCore): Promise<string> {
  try {
    return await core.http.request<string>('GET', `${PATH}/logs`);
  } catch {
    return ''; // the failure itself is what matters; the log is a courtesy
  }
}

async function readBack(core: ListmonkCore, listId: number, subscribers: readonly SubscriberInput[]): Promise<PushOutcome[]> {
  const members = new Map((await getListMembers(core, listId)).map((m) => [canonicalEmail(m.email), m]));
  return subscribers.map((s) => {
    const m = members.get(canonicalEmail(s.email));
    if (!m) return { email: s.email, status: 'missing', subscriberId: null };
    if (m.status === 'blocklisted') return { email: s.email, status: 'blocklisted', subscriberId: m.id };
    const ref = m.lists?.find((l) => l.id === listId);
    if (ref?.subscription_status === 'unsubscribed') return { email: s.email, status: 'unsubscribed', subscriberId: m.id };
    return { email: s.email, status: 'added', subscriberId: m.id };
  });
}

/** Header `email,name,attributes`; every field quoted; attributes as a JSON object string. */
export function toImportCsv(subscribers: readonly SubscriberInput[]): string {
  const q = (v: string) => `"${v.replaceAll('"', '""')}"`;
  const lines = ['email,name,attributes'];
  for (const s of subscribers) lines.push([q(canonicalEmail(s.email)), q(s.name ?? ''), q(JSON.stringify(s.attribs ?? {}))].join(','));
  return lines.join('\n') + '\n';
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}
