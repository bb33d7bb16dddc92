/**
 * npm run bench:ingest — the census ingest at full scale against PostgreSQL, next to the floor:
 * `psql \copy` of the same file (without its bad rows, since \copy stops at the first one) into an
 * unlogged text table. Prints rows/s, the ratio to \copy, and the ingest's peak RSS.
 *
 * Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; a scratch database is
 * created beside it and dropped), BENCH_ROWS (default 2,100,000, the size of FMCSA_CENSUS1).
 * Target: at most 2x the \copy time, under 300 MB RSS.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CENSUS1_42_HEADER, generateCensus1 } from './census-generator.ts';
import { scratchDatabase } from './scratch-db.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA = path.join(ROOT, 'bench/.data');
const ROWS = Number(process.env.BENCH_ROWS ?? 2_100_000);
const BAD_PER_100K = 5;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
  });
}

async function main() {
  mkdirSync(DATA, { recursive: true });
  const file = path.join(DATA, `FMCSA_CENSUS1_bench_${ROWS}.txt`);
  const clean = path.join(DATA, `FMCSA_CENSUS1_bench_${ROWS}_clean.txt`);
  if (!existsSync(file) || !existsSync(clean)) {
    const t0 = Date.now();
    const g = await generateCensus1(file, { rows: ROWS, badPer100k: BAD_PER_100K, cleanPath: clean });
    console.log(`generated ${file}: ${g.rows} rows (${g.bad} bad), ${(g.bytes / 1e6).toFixed(0)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } else console.log(`using ${file} (${(statSync(file).size / 1e6).toFixed(0)} MB)`);

  const scratch = await scratchDatabase(`audience_bench_${process.pid}`);
  const url = scratch.url;
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url };
  for (const k of Object.keys(env)) if (k.startsWith('AUDIENCE_')) delete env[k];
  try {
    const bin = path.join(ROOT, 'bin/audience.mjs');
    const mig = await run(process.execPath, [bin, 'migrate', '--json'], env);
    if (mig.code !== 0) throw new Error(`migrate failed: ${mig.stderr}`);

    // \copy floor: same bytes without the bad rows, into an unlogged table of text columns.
    const cols = CENSUS1_42_HEADER.map((c) => `${c.toLowerCase()} text`).join(', ');
    const psqlArgs = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url];
    const prep = await run('psql', [...psqlArgs, '-c', `create unlogged table copy_floor (${cols})`], env);
    if (prep.code !== 0) throw new Error(prep.stderr);
    const copy = await run('psql', [...psqlArgs, '-c', `\\copy copy_floor from '${clean}' with (format csv, header true, encoding 'WIN1252')`], env);
    if (copy.code !== 0) throw new Error(`\\copy failed: ${copy.stderr}`);
    await run('psql', [...psqlArgs, '-c', 'drop table copy_floor'], env);

    // The ingest, as users run it, in a child process so its peak RSS is its own. --no-normalize:
    // the target compares loading with \copy; the e-mail normalize that follows is timed apart.
    const ingest = await run('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, bin, '--json', 'ingest', 'census', '--no-normalize', file], env);
    if (ingest.code !== 0) throw new Error(`ingest failed (${ingest.code}): ${ingest.stderr}`);
    const summary = JSON.parse(ingest.stdout) as Record<string, number>;
    const rssMb = Number(/MAXRSS_KB=(\d+)/.exec(ingest.stderr)?.[1] ?? NaN) / 1024;
    // Second run: the idempotent re-ingest of the same file (nothing to write).
    const again = await run(process.execPath, [bin, '--json', 'ingest', 'census', '--no-normalize', file], env);
    const second = JSON.parse(again.stdout) as Record<string, number>;
    // What a user's `ingest census` does next: normalize the 2.1M new e-mail fields.
    const norm = await run('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, bin, '--json', 'normalize'], env);
    if (norm.code !== 0) throw new Error(`normalize failed (${norm.code}): ${norm.stderr}`);
    const normSummary = JSON.parse(norm.stdout) as { carriers_normalized: number; totals: { addresses: number } };
    const normRss = Number(/MAXRSS_KB=(\d+)/.exec(norm.stderr)?.[1] ?? NaN) / 1024;

    const ratio = ingest.seconds / copy.seconds;
    const lines = [
      `rows in file:           ${ROWS} (${summary.rejected} rejected, ${summary.inserted} inserted)`,
      `psql \\copy (floor):     ${copy.seconds.toFixed(2)} s  (${Math.round(ROWS / copy.seconds)} rows/s)`,
      `audience ingest census: ${ingest.seconds.toFixed(2)} s wall, ${summary.seconds} s in the stage  (${Math.round(ROWS / ingest.seconds)} rows/s)`,
      `ratio to \\copy:         ${ratio.toFixed(2)}x  (target <= 2x)  ${ratio <= 2 ? 'OK' : 'OVER'}`,
      `peak RSS of the ingest: ${rssMb.toFixed(0)} MB  (target < 300 MB)  ${rssMb < 300 ? 'OK' : 'OVER'}`,
      `re-ingest same file:    ${again.seconds.toFixed(2)} s, ${second.inserted} inserted, ${second.updated} updated, ${second.unchanged} unchanged`,
      `then normalize:         ${norm.seconds.toFixed(2)} s for ${normSummary.carriers_normalized} carriers, ${normSummary.totals.addresses} addresses (${Math.round(normSummary.carriers_normalized / norm.seconds)} carriers/s), peak RSS ${normRss.toFixed(0)} MB`,
    ];
    console.log(lines.join('\n'));
    console.log('\nstage log of the first ingest:\n' + ingest.stderr.replace(/MAXRSS_KB=\d+\n?/, ''));
  } finally {
    await scratch.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
