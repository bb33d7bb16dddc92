/**
 * npm run bench:ingest — the whole `audience ingest census FILE` command (its e-mail normalize
 * included), process start to exit, on a first load into a migrated PostgreSQL database, next to
 * the floor: `psql \copy` of the same file (without its bad rows, since \copy stops at the first
 * one) into an unlogged table of text columns, measured in the same run. Two files, as FMCSA ships
 * them: FMCSA_CENSUS1 (42 columns, Windows-1252, 2.1M rows) and the Company Census File (147
 * columns, UTF-8, 4.4M rows). Each figure is the median of BENCH_REPEAT runs (default 3), each
 * ingest into a fresh database; the load (uptime) is printed with them.
 *
 * Targets (issue #15): the ingest at most 2x the \copy time, peak RSS under 300 MB. Exit 1 when
 * one is missed.
 *
 * Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; scratch databases are
 * created beside it and dropped), BENCH_ROWS (FMCSA_CENSUS1 rows, default 2,100,000; the Company
 * Census File gets 4.4/2.1 times as many), BENCH_REPEAT, BENCH_FILES (`census1,company`).
 * BENCH_BEFORE=DIR: a built checkout of the code before a change (a worktree of main after `npm
 * ci`) also ingests the file in each run, into a fresh database of its own, the two taking turns
 * at going first; each run prints both, and the summary the median of each and of their ratio.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CENSUS1_42_HEADER, COMPANY_CENSUS_HEADER, generateCensus1, generateCompanyCensus, type GenerateOptions, type GenerateResult } from './census-generator.ts';
import { benchMain, copyFloor, ingestWhole, load, median, migrated } from './ingest-run.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA = path.join(ROOT, 'bench/.data');
const ROWS = Number(process.env.BENCH_ROWS ?? 2_100_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const WHICH = (process.env.BENCH_FILES ?? 'census1,company').split(',');
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : null;
const BAD_PER_100K = 5;
/** Bumped when the generator's output changes, so a cached file is never stale. */
const GENERATOR = 'g2';

interface Dataset {
  id: string;
  rows: number;
  header: string[];
  encoding: 'WIN1252' | 'UTF8';
  ext: string;
  generate: (path: string, o: GenerateOptions) => Promise<GenerateResult>;
}

const DATASETS: Dataset[] = [
  { id: 'census1', rows: ROWS, header: CENSUS1_42_HEADER, encoding: 'WIN1252', ext: 'txt', generate: generateCensus1 },
  { id: 'company', rows: Math.round((ROWS * 4.4) / 2.1), header: COMPANY_CENSUS_HEADER, encoding: 'UTF8', ext: 'csv', generate: generateCompanyCensus },
];

/** The bench's file and its clean twin (no bad rows, for \copy), generated once. */
export async function benchFile(d: Dataset): Promise<{ file: string; clean: string }> {
  mkdirSync(DATA, { recursive: true });
  const base = path.join(DATA, `${d.id}_${GENERATOR}_${d.rows}`);
  const file = `${base}.${d.ext}`;
  const clean = `${base}_clean.${d.ext}`;
  if (!existsSync(file) || !existsSync(clean)) {
    const t0 = Date.now();
    const g = await d.generate(file, { rows: d.rows, badPer100k: BAD_PER_100K, cleanPath: clean });
    console.log(`generated ${file}: ${g.rows} rows (${g.bad} bad), ${(g.bytes / 1e6).toFixed(0)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } else console.log(`using ${file} (${(statSync(file).size / 1e6).toFixed(0)} MB)`);
  return { file, clean };
}

async function benchDataset(d: Dataset): Promise<boolean> {
  const { file, clean } = await benchFile(d);
  const copies: number[] = [];
  const ingests: number[] = [];
  const rss: number[] = [];
  const cpus: number[] = [];
  const servers: number[] = [];
  const befores: Before[] = [];
  let summary: Record<string, unknown> = {};
  for (let i = 0; i < REPEAT; i++) {
    // Alternated, so a change of load on the machine weighs on both.
    copies.push(await copyFloor(d.header, d.encoding, clean));
    // The code before first in every other run: the second of a pair may find the caches warmer.
    if (BEFORE && i % 2 === 0) befores.push(await ingestBefore(file, BEFORE));
    const db = await migrated(`audience_bench_ingest_${process.pid}`);
    try {
      const r = await ingestWhole(db.url, [file]);
      ingests.push(r.seconds);
      rss.push(r.rssMb);
      cpus.push(r.cpuSeconds);
      servers.push(r.serverCpuSeconds);
      summary = r.summary;
      console.log(
        `  run ${i + 1}: \\copy ${copies[i]!.toFixed(2)} s, ingest census ${r.seconds.toFixed(2)} s (${(r.seconds / copies[i]!).toFixed(2)}x; CLI CPU ${r.cpuSeconds.toFixed(2)} s, server ${r.serverCpuSeconds.toFixed(2)} s), peak RSS ${r.rssMb.toFixed(0)} MB, load ${load()}`,
      );
    } finally {
      await db.drop();
    }
    if (BEFORE && i % 2 === 1) befores.push(await ingestBefore(file, BEFORE));
  }
  const copy = median(copies);
  const ingest = median(ingests);
  const peak = Math.max(...rss);
  const ratio = ingest / copy;
  const norm = summary.normalize as { carriersNormalized: number; totals: { addresses: number } } | undefined;
  const ok = ratio <= 2 && peak < 300;
  console.log(
    [
      `${d.id}: ${d.rows} rows in file (${String(summary.rejected)} rejected, ${String(summary.inserted)} inserted; ${norm?.carriersNormalized} carriers normalized into ${norm?.totals.addresses} addresses)`,
      `  psql \\copy (floor):          ${copy.toFixed(2)} s  (median of ${REPEAT})`,
      `  audience ingest census:      ${ingest.toFixed(2)} s  whole command, normalize included (CLI user+sys ${median(cpus).toFixed(2)} s, server ${median(servers).toFixed(2)} s)`,
      `  ratio to \\copy:              ${ratio.toFixed(2)}x  (target <= 2x)  ${ratio <= 2 ? 'OK' : 'OVER'}`,
      `  peak RSS of the ingest:      ${peak.toFixed(0)} MB  (target < 300 MB)  ${peak < 300 ? 'OK' : 'OVER'}`,
      `  load after:                  ${load()}`,
      ...(befores.length
        ? [
            `  the code before (${BEFORE}), the same runs: ${median(befores.map((b) => b.seconds)).toFixed(2)} s (CLI user+sys ${median(befores.map((b) => b.cpuSeconds)).toFixed(2)} s, server ${median(befores.map((b) => b.serverCpuSeconds)).toFixed(2)} s, peak RSS ${Math.max(...befores.map((b) => b.rssMb)).toFixed(0)} MB)`,
            `  this code / the code before, run by run: ${ingests.map((x, i) => (x / befores[i]!.seconds).toFixed(3)).join(', ')} (median ${median(ingests.map((x, i) => x / befores[i]!.seconds)).toFixed(3)})`,
          ]
        : []),
    ].join('\n'),
  );
  return ok;
}

interface Before {
  seconds: number;
  cpuSeconds: number;
  serverCpuSeconds: number;
  rssMb: number;
}

/** The whole ingest of `file` by the checkout at `root`, into a fresh database of its own. */
async function ingestBefore(file: string, root: string): Promise<Before> {
  const db = await migrated(`audience_bench_ingest_before_${process.pid}`);
  try {
    const r = await ingestWhole(db.url, [file], [], root);
    console.log(`  the code before: ingest census ${r.seconds.toFixed(2)} s (CLI CPU ${r.cpuSeconds.toFixed(2)} s, server ${r.serverCpuSeconds.toFixed(2)} s), peak RSS ${r.rssMb.toFixed(0)} MB, load ${load()}`);
    return { seconds: r.seconds, cpuSeconds: r.cpuSeconds, serverCpuSeconds: r.serverCpuSeconds, rssMb: r.rssMb };
  } finally {
    await db.drop();
  }
}

benchMain(import.meta.url, async () => {
  let ok = true;
  for (const d of DATASETS) if (WHICH.includes(d.id)) ok = (await benchDataset(d)) && ok;
  return ok;
});

export { DATASETS };
