/** Runs a ListmonkDouble inside a worker thread (see worker.ts); speaks over parentPort. */
import { parentPort, workerData } from 'node:worker_threads';
import { ListmonkDouble, type DoubleOptions } from './server.ts';

const { options, latencyMs } = workerData as { options: DoubleOptions; latencyMs: number };
const d = await ListmonkDouble.start(options);
d.faults.latencyMs = latencyMs;
parentPort!.on('message', async (m: { type: 'stats' | 'stop' }) => {
  if (m.type === 'stats') {
    parentPort!.postMessage({
      type: 'stats',
      requests: d.requests.length,
      maxInFlight: d.maxInFlight,
      subscribers: d.model.subscribers.size,
      subscriberWrites: d.faults.subscriberWrites,
    });
  } else if (m.type === 'stop') {
    await d.stop();
    parentPort!.postMessage({ type: 'stopped' });
  }
});
parentPort!.postMessage({ type: 'ready', url: d.url });
