/** The double in a worker thread (for benchmarks) serves the client like the in-process one. */
import { describe, expect, it } from 'vitest';
import { createListmonkClient } from '../src/listmonk/client.ts';
import { listmonkConfigSchema } from '../src/listmonk/config.ts';
import { DEFAULT_USER, startDoubleInWorker } from './listmonk-double/index.ts';

describe('startDoubleInWorker', () => {
  it('serves pushes with the configured latency and reports counters', async () => {
    const w = await startDoubleInWorker({ version: 'v5.1.0' }, 10);
    try {
      const lm = createListmonkClient(listmonkConfigSchema.parse({ url: w.url, apiUser: DEFAULT_USER.username, apiToken: DEFAULT_USER.token, concurrency: 3 }));
      expect((await lm.version()).raw).toBe('v5.1.0');
      const list = await lm.ensureList('w');
      const t = performance.now();
      const out = await lm.addSubscribersToList(list.id, Array.from({ length: 12 }, (_, i) => ({ email: `w${i}@example.com` })));
      expect(performance.now() - t).toBeGreaterThanOrEqual(4 * 10 - 5); // 12 writes / 3 in flight × 10 ms
      expect(out.every((o) => o.status === 'created')).toBe(true);
      expect(await w.stats()).toMatchObject({ subscribers: 12, subscriberWrites: 12, maxInFlight: 3 });
    } finally {
      await w.stop();
    }
  });
});
