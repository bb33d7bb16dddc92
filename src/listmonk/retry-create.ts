/**
 * Creating a list or a campaign is not idempotent on the server: a POST whose answer was lost
 * (timeout, reset, 5xx after the commit) may have created the row. So such a POST is sent once,
 * and before every further attempt we look again; only when the row is still absent do we retry.
 */
import type { ListmonkCore } from './core.ts';
import { ListmonkApiError, ListmonkUnavailableError } from './errors.ts';

export async function createOnce<T>(core: ListmonkCore, what: string, find: () => Promise<T | null>, create: () => Promise<T>): Promise<T> {
  const attempts = core.config.retries + 1;
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) {
      await core.sleep(core.http.backoff(attempt - 1));
      const found = await find();
      if (found) {
        core.log(`listmonk: ${what} was created by the attempt whose answer was lost; using it`);
        return found;
      }
    }
    try {
      return await create();
    } catch (e) {
      const transient = e instanceof ListmonkUnavailableError || (e instanceof ListmonkApiError && e.retryable);
      if (!transient) throw e;
      last = e;
    }
  }
  throw last;
}
