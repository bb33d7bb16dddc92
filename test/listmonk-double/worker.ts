/**
 * The double in its own thread, for benchmarks: in-process, its CPU time would be charged to the
 * client being measured. No direct model access; `stats()` returns the counters.
 * The worker loads the TypeScript sources through tsx (a dependency of the project).
 */
import { Worker } from 'node:worker_threads';
import type { DoubleOptions } from './server.ts';

export interface DoubleStats {
  requests: number;
  maxInFlight: number;
  subscribers: number;
  subscriberWrites: number;
}

export interface WorkerDouble {
  url: string;
  stats(): Promise<DoubleStats>;
  stop(): Promise<void>;
}

export async function startDoubleInWorker(options: DoubleOptions = {}, latencyMs = 0): Promise<WorkerDouble> {
  // Module hooks are per thread, and the worker's entry would load before an --import: a tiny
  // eval'd entry registers tsx first, then imports the TypeScript worker.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const main = new URL('./worker-main.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(main)}); });`;
  const worker = new Worker(boot, { eval: true, workerData: { options, latencyMs } });
  const next = (type: string) =>
    new Promise<any>((resolve, reject) => {
      const onMessage = (m: { type: string }) => {
        if (m.type !== type) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(m);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  const ready = await next('ready');
  return {
    url: ready.url as string,
    async stats() {
      const s = next('stats');
      worker.postMessage({ type: 'stats' });
      const { type: _t, ...rest } = await s;
      return rest as DoubleStats;
    },
    async stop() {
      const s = next('stopped');
      worker.postMessage({ type: 'stop' });
      await s;
      await worker.terminate();
    },
  };
}
