#!/usr/bin/env node
// The demo's sample data, dated relative to the demo's clock: `node scripts/demo-data.mjs DIR`.
//
// The files in data-samples/ describe one day, SAMPLE_DAY (the census of November 2026, the
// mail.log of 2026-11-25..27, the MX snapshot taken that morning, a warmup started a week before).
// Run as they are, the demo's `status` counted the log's mail only while it was in its 7-day
// window, and a hold or a new carrier expired with the calendar. So the demo runs on copies with
// every date moved by whole days, making SAMPLE_DAY yesterday in the firm's time zone (as a
// nightly cron sees its log): every figure of `status` and `plan` then agrees with what the
// stages printed, on any day. Times of day and UTC offsets are kept.
//
// The clock is the CLI's: AUDIENCE_NOW when set, else the machine's. Writes into DIR:
//   FMCSA_CENSUS1_<YYYYMon>.txt (DD-MON-YY fields moved; cp1252 bytes otherwise untouched),
//   mail.log (leading RFC 3339 timestamps moved), mx-snapshot.csv (checked_at moved),
// and prints shell assignments for demo.sh: CENSUS=..., MAILLOG=..., SNAPSHOT=..., WARMUP_START=...
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const samples = path.join(root, 'data-samples');
const SAMPLE_DAY = '2026-11-27';
const SAMPLE_CENSUS = 'census/FMCSA_CENSUS1_2026Nov.txt';
const SAMPLE_WARMUP_START = '2026-11-20';
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_MS = 86_400_000;

/** The calendar day of `instant` in `timeZone`, as YYYY-MM-DD. */
export function dayIn(instant, timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

/** YYYY-MM-DD moved by `days`. */
export function addDays(day, days) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from SAMPLE_DAY to the day before `now` in `timeZone`. */
export function shiftFor(now, timeZone) {
  const yesterday = addDays(dayIn(now, timeZone), -1);
  return Math.round((Date.parse(`${yesterday}T00:00:00Z`) - Date.parse(`${SAMPLE_DAY}T00:00:00Z`)) / DAY_MS);
}

/** A DD-MON-YY census date moved by `days` (two-digit years as the ingest reads them in SAMPLE_DAY's year). */
export function shiftCensusDate(text, days) {
  const m = /^(\d\d)-([A-Z]{3})-(\d\d)$/.exec(text);
  const month = m ? MONTHS.indexOf(m[2]) : -1;
  if (!m || month < 0) return text;
  const yy = Number(m[3]);
  const year = yy <= Number(SAMPLE_DAY.slice(2, 4)) ? 2000 + yy : 1900 + yy;
  const d = new Date(Date.UTC(year, month, Number(m[1])) + days * DAY_MS);
  return `${String(d.getUTCDate()).padStart(2, '0')}-${MONTHS[d.getUTCMonth()]}-${String(d.getUTCFullYear() % 100).padStart(2, '0')}`;
}

/** `2026-11-27T11:01:18.838880-06:00 ...` with its date moved; other lines as they are. */
export function shiftLogLine(line, days) {
  const m = /^(\d{4}-\d\d-\d\d)(T\S+)/.exec(line);
  return m ? addDays(m[1], days) + m[2] + line.slice(m[0].length) : line;
}

/** ISO times in a snapshot line's checked_at column (the 7th) moved; expires_at is kept. */
export function shiftSnapshotLine(line, days) {
  const fields = line.split(',');
  const t = Date.parse(fields[6] ?? '');
  if (Number.isNaN(t)) return line;
  fields[6] = new Date(t + days * DAY_MS).toISOString();
  return fields.join(',');
}

export function writeDemoData(dir, now, timeZone) {
  const days = shiftFor(now, timeZone);
  mkdirSync(dir, { recursive: true });
  // latin1 maps each cp1252 byte to one char and back: the file's bytes stay as they are.
  const census = readFileSync(path.join(samples, SAMPLE_CENSUS), 'latin1').replace(/"(\d\d-[A-Z]{3}-\d\d)"/g, (_, d) => `"${shiftCensusDate(d, days)}"`);
  const fileMonth = new Date(Date.parse(`${addDays(SAMPLE_DAY, days)}T00:00:00Z`));
  const censusFile = path.join(dir, `FMCSA_CENSUS1_${fileMonth.getUTCFullYear()}${MONTHS[fileMonth.getUTCMonth()][0]}${MONTHS[fileMonth.getUTCMonth()].slice(1).toLowerCase()}.txt`);
  writeFileSync(censusFile, census, 'latin1');
  const log = readFileSync(path.join(samples, 'maillog/mail.log'), 'utf8').split('\n').map((l) => shiftLogLine(l, days)).join('\n');
  writeFileSync(path.join(dir, 'mail.log'), log);
  const snapshot = readFileSync(path.join(samples, 'mx-snapshot.csv'), 'utf8').split('\n').map((l) => shiftSnapshotLine(l, days)).join('\n');
  writeFileSync(path.join(dir, 'mx-snapshot.csv'), snapshot);
  return { census: censusFile, maillog: path.join(dir, 'mail.log'), snapshot: path.join(dir, 'mx-snapshot.csv'), warmupStart: addDays(SAMPLE_WARMUP_START, days), sampleDay: addDays(SAMPLE_DAY, days) };
}

/** The demo's commands, in order, on the files writeDemoData wrote, with their outputs in `out`. */
export function demoSteps(data, out) {
  return [
    ['migrate'],
    ['ingest', 'census', data.census],
    // ingest normalizes the e-mail fields of what it loaded; normalize again is a no-op that shows the totals.
    ['normalize'],
    ['scrub-bounces', data.maillog],
    ['check-mx', '--import', data.snapshot],
    ['build', '--dry-run', '--out', out],
    ['status'],
    ['plan', '--days', '7'],
    ['report', '--out', path.join(out, 'report.html')],
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node scripts/demo-data.mjs DIR\n');
    process.exit(2);
  }
  const now = process.env.AUDIENCE_NOW ? new Date(process.env.AUDIENCE_NOW) : new Date();
  if (Number.isNaN(now.getTime())) {
    process.stderr.write(`AUDIENCE_NOW=${process.env.AUDIENCE_NOW} is not an RFC 3339 time\n`);
    process.exit(2);
  }
  const timeZone = process.env.AUDIENCE_TZ || JSON.parse(readFileSync(path.join(samples, 'audience.config.json'), 'utf8')).timezone || 'America/Chicago';
  const out = writeDemoData(dir, now, timeZone);
  const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  process.stdout.write(`CENSUS=${q(out.census)}\nMAILLOG=${q(out.maillog)}\nSNAPSHOT=${q(out.snapshot)}\nWARMUP_START=${out.warmupStart}\nSAMPLE_DAY=${out.sampleDay}\n`);
}
