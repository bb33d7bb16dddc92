/** A ListmonkClient pointed at a double, with fast retries, a captured debug log and the double's clock. */
import { createListmonkClient, type ListmonkClientOptions } from '../../src/listmonk/client.ts';
import { listmonkConfigSchema, type ListmonkConfig } from '../../src/listmonk/config.ts';
import { DEFAULT_USER, type ListmonkDouble } from './server.ts';

export function clientFor(d: ListmonkDouble, over: Partial<ListmonkConfig> = {}, opts: ListmonkClientOptions = {}) {
  const config = listmonkConfigSchema.parse({
    url: d.url,
    apiUser: DEFAULT_USER.username,
    apiToken: DEFAULT_USER.token,
    retryBaseMs: 1,
    retryMaxMs: 4,
    importPollMs: 10,
    timeoutMs: 2000,
    ...over,
  });
  const logs: string[] = [];
  const lm = createListmonkClient(config, { log: (l) => logs.push(l), now: d.model.clock, ...opts });
  return { lm, logs, config };
}
