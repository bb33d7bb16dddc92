/**
 * A queries-per-second cap: each take() waits for the next free slot of a steady schedule
 * (1/qps apart), so a 100k-domain run never bursts above what the resolver operator allows.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RateLimiter {
  take(): Promise<void>;
}

export function createRateLimiter(qps: number, clock: () => number = () => performance.now()): RateLimiter {
  const interval = 1000 / qps;
  let next = 0;
  return {
    async take() {
      const now = clock();
      const slot = Math.max(now, next);
      next = slot + interval;
      if (slot > now) await sleep(slot - now);
    },
  };
}
