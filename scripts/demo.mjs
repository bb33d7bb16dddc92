#!/usr/bin/env node
// `npm run demo`: the main job end to end on the embedded database (PGlite), offline: ingest the
// sample census, scrub the sample mail.log, load the MX snapshot instead of asking DNS, then a
// dry-run build that writes the Listmonk import CSVs, then status, the ramp ahead and the HTML
// report (report.html beside the CSVs).
//
// Each step is the `audience` command a person would type, run by the CLI's own main() with the
// same arguments and environment, and printed under its `== audience ...` header. They run in one
// process that opens the embedded database once (withStoreSession) instead of once per command:
// that start is most of a small command's time.
//
// The samples describe one day; scripts/demo-data.mjs copies them with their dates moved so that
// day is yesterday by the demo's clock (AUDIENCE_NOW when set, else the machine's), so what
// `status` and `plan` print agrees with what the stages printed, whenever the demo runs.
// Database in .audience/demo, dated samples in .audience/demo-samples, outputs in out/demo; with
// DEMO_DIR set (the tests), all three under it.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isBuildFresh } from './build-stamp.mjs';
import { demoSteps, writeDemoData } from './demo-data.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const base = process.env.DEMO_DIR;
const DB = base ? path.join(base, 'db') : '.audience/demo';
const SAMPLES = base ? path.join(base, 'samples') : '.audience/demo-samples';
const OUT = base ? path.join(base, 'out') : 'out/demo';

// The demo never touches a server database or a real Listmonk, whatever the shell has set.
for (const k of ['DATABASE_URL', 'LISTMONK_URL', 'LISTMONK_API_USER', 'LISTMONK_API_TOKEN', 'AUDIENCE_WARMUP_START', 'AUDIENCE_MAILLOG']) delete process.env[k];
process.env.AUDIENCE_DATA_DIR = DB;
process.env.AUDIENCE_CONFIG = 'data-samples/audience.config.json';
for (const d of [DB, SAMPLES, OUT]) rmSync(d, { recursive: true, force: true });

const now = process.env.AUDIENCE_NOW ? new Date(process.env.AUDIENCE_NOW) : new Date();
if (Number.isNaN(now.getTime())) {
  process.stderr.write(`AUDIENCE_NOW=${process.env.AUDIENCE_NOW} is not an RFC 3339 time\n`);
  process.exit(2);
}
const timeZone = process.env.AUDIENCE_TZ || JSON.parse(readFileSync('data-samples/audience.config.json', 'utf8')).timezone || 'America/Chicago';
const data = writeDemoData(SAMPLES, now, timeZone);
process.env.AUDIENCE_WARMUP_START = data.warmupStart;
process.stdout.write(`Sample data dated so that its last day is yesterday, ${data.sampleDay} (census, mail.log, MX snapshot; warmup started ${data.warmupStart}).\n`);

// The built CLI when it is fresh, else the sources through tsx (as bin/audience.mjs chooses).
let entry;
if (isBuildFresh()) entry = path.join(root, 'dist', 'audience.mjs');
else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = path.join(root, 'src', 'cli', 'main.ts');
}
const { main, withStoreSession } = await import(pathToFileURL(entry).href);

const steps = demoSteps(data, OUT);
const shown = (a) => (a === data.census || a === data.maillog || a === data.snapshot ? path.basename(a) : a);
const code = await withStoreSession(async () => {
  for (const args of steps) {
    process.stdout.write(`\n\x1b[1m== audience ${args.map(shown).join(' ')}\x1b[0m\n`);
    const c = await main(['node', 'audience', ...args]);
    if (c !== 0) return c;
  }
  return 0;
});
if (code !== 0) process.exit(code);

process.stdout.write(`\nImport CSVs and the build summary are in ${OUT}:\n${readdirSync(OUT).sort().join('\n')}\n`);
process.stdout.write(`\nThe deliverability report (30 days, one self-contained page) is ${path.resolve(OUT, 'report.html')}: open it in a browser.\n`);
