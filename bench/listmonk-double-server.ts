/**
 * The Listmonk double in its own process for bench:build, as the real Listmonk is: the client's
 * throughput is then not taxed by the double's own request handling on the same event loop.
 * Prints `{"url": ...}` on stdout once listening; BENCH_LATENCY_MS sets the per-request latency.
 */
import { ListmonkDouble } from '../test/listmonk-double/index.ts';

const double = await ListmonkDouble.start();
double.faults.latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 20);
process.stdout.write(JSON.stringify({ url: double.url }) + '\n');
process.on('SIGTERM', () => void double.stop().then(() => process.exit(0)));
