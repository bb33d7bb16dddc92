/**
 * npm run bench:refresh — the monthly refresh: after a first load of the bench census (as
 * bench:ingest generates it), the whole `audience ingest census --snapshot` of next month's file
 * (the same file with 3% of rows changed, 1% new and 1% gone), its normalize included, process
 * start to exit, next to `psql \copy` of that file in the same run. Median of BENCH_REPEAT (3), each
 * on a fresh database; the load (uptime) is printed with the figures.
 *
 * Target (issue #15): at most 1.5x the \copy time. Exit 1 when missed.
 *
 * Env: as bench:ingest (DATABASE_URL, BENCH_ROWS, BENCH_REPEAT, BENCH_FILES, default `census1`).
 */
import { existsSync, statSync } from 'node:fs';
import { benchFile, DATASETS } from './ingest.bench.ts';
import { benchMain, copyFloor, ingestWhole, load, median, migrated } from './ingest-run.ts';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const WHICH = (process.env.BENCH_FILES ?? 'census1').split(',');
const MONTH = { seed: 2027, changed: 0.03, added: 0.01, gone: 0.01 };

async function benchRefresh(d: (typeof DATASETS)[number]): Promise<boolean> {
  const { file } = await benchFile(d);
  const next = file.replace(/\.(\w+)$/, '_next.$1');
  const nextClean = file.replace(/\.(\w+)$/, '_next_clean.$1');
  if (!existsSync(next) || !existsSync(nextClean)) {
    const t0 = Date.now();
    await d.generate(next, { rows: d.rows, badPer100k: 5, cleanPath: nextClean, refresh: MONTH });
    console.log(`generated ${next} (${(statSync(next).size / 1e6).toFixed(0)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const copies: number[] = [];
  const refreshes: number[] = [];
  const rss: number[] = [];
  const cpus: number[] = [];
  const servers: number[] = [];
  let summary: Record<string, unknown> = {};
  for (let i = 0; i < REPEAT; i++) {
    const db = await migrated(`audience_bench_refresh_${process.pid}`);
    try {
      const first = await ingestWhole(db.url, [file]);
      copies.push(await copyFloor(d.header, d.encoding, nextClean));
      const r = await ingestWhole(db.url, [next], ['--snapshot']);
      refreshes.push(r.seconds);
      rss.push(r.rssMb);
      cpus.push(r.cpuSeconds);
      servers.push(r.serverCpuSeconds);
      summary = r.summary;
      console.log(
        `  run ${i + 1}: first load ${first.seconds.toFixed(2)} s; \\copy of next month ${copies[i]!.toFixed(2)} s, ingest census --snapshot ${r.seconds.toFixed(2)} s (${(r.seconds / copies[i]!).toFixed(2)}x; CPU of the process ${r.cpuSeconds.toFixed(2)} s, of the server ${r.serverCpuSeconds.toFixed(2)} s), peak RSS ${r.rssMb.toFixed(0)} MB, load ${load()}`,
      );
    } finally {
      await db.drop();
    }
  }
  const copy = median(copies);
  const refresh = median(refreshes);
  const ratio = refresh / copy;
  const norm = summary.normalize as { carriersNormalized: number; seconds: number } | undefined;
  console.log(
    [
      `${d.id}: next month's file, ${String(summary.read)} rows: ${String(summary.inserted)} inserted, ${String(summary.updated)} updated, ${String(summary.unchanged)} unchanged, ${String(summary.deactivated)} deactivated; ${norm?.carriersNormalized} carriers normalized in ${norm?.seconds} s`,
      `  psql \\copy (floor):          ${copy.toFixed(2)} s  (median of ${REPEAT})`,
      `  audience ingest census:      ${refresh.toFixed(2)} s  whole command, --snapshot, normalize included`,
      `  its CPU (user+sys):          ${median(cpus).toFixed(2)} s  of the audience process, ${median(servers).toFixed(2)} s of the server's (from /proc)`,
      `  ratio to \\copy:              ${ratio.toFixed(2)}x  (target <= 1.5x)  ${ratio <= 1.5 ? 'OK' : 'OVER'}`,
      `  peak RSS:                    ${Math.max(...rss).toFixed(0)} MB`,
      `  load after:                  ${load()}`,
    ].join('\n'),
  );
  return ratio <= 1.5;
}

benchMain(import.meta.url, async () => {
  let ok = true;
  for (const d of DATASETS) if (WHICH.includes(d.id)) ok = (await benchRefresh(d)) && ok;
  return ok;
});
