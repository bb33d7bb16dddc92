/**
 * scrub-bounces and the year of syslog-stamped lines (issue #14), through the database: a
 * years-old log copied today raises no hold, a log crossing New Year stores each line in its own
 * year, and no line is stored after the run's clock plus the skew. The clock is pinned; file times
 * are set relative to it.
 */
import { copyFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBounceScrub } from '../src/maillog/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import { YEAR_SKEW_MS } from '../src/maillog/timestamp.ts';
import { describeWithSamples, samplePath } from './helpers/samples.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const DAY = 86_400_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let store: TestStore;
let dir: string;
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

beforeEach(async () => {
  store = await createTestStore();
  dir = mkdtempSync(path.join(os.tmpdir(), 'scrub-year-'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function ctxAt(now: Date): StageContext {
  const config = loadConfig({ env: {}, cwd: dir, overrides: { timezone: 'UTC', maillog: { path: path.join(dir, 'mail.log') } } });
  return { config, store, out: createOutput({ json: true, stdout: sink, stderr: sink }), now: () => now };
}

/** A file whose mtime is `mtime` (what a copy or the syslog daemon's last write leaves). */
function logFile(name: string, lines: string[], mtime: Date): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((l) => l + '\n').join(''));
  utimesSync(file, mtime, mtime);
  return file;
}

function stamp(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
}

let qid = 0x10000;
/** A Gmail 550-5.7.1 bounce (content_spam: a hold on google) at `ms`, from a Listmonk client. */
function gmailBlock(ms: number): string {
  const id = (qid++).toString(16).toUpperCase().padStart(10, 'A');
  return `${stamp(ms)} app1 postfix/smtp[4120]: ${id}: to=<dispatch${qid}@gmail.com>, relay=gmail-smtp-in.l.google.com[192.0.2.27]:25, delay=1, delays=0/0/0/1, dsn=5.7.1, status=bounced (host gmail-smtp-in.l.google.com[192.0.2.27] said: 550-5.7.1 [198.51.100.5] Our system has detected that this message is likely unsolicited mail. (in reply to end of DATA command))`;
}

const events = async () =>
  (await sql<{ ts: Date; day: string }>`select ts, day::text as day from delivery_events order by ts`.execute(store.db)).rows.map((r) => ({ ts: r.ts.toISOString(), day: r.day }));
const activeHolds = async (now: Date) =>
  (await sql<{ provider: string | null; until: Date }>`select provider, until from holds where lifted_at is null and until > ${now}::timestamptz`.execute(store.db)).rows;

describe('scrub-bounces: the year of syslog timestamps', () => {
  it('a log of old Gmail blocks copied today (its mtime) raises no hold: its "Dec 15" lines are last year\'s', async () => {
    const now = new Date('2026-12-06T18:00:00Z');
    const decFifteen = Date.UTC(now.getUTCFullYear(), 11, 15, 7, 48, 10);
    const file = logFile('old.log', [gmailBlock(decFifteen), gmailBlock(decFifteen + 60_000)], new Date(now.getTime() - 6 * 3_600_000));
    const s = await runBounceScrub(ctxAt(now), [file]);
    expect(s.holds).toEqual([]);
    expect(await activeHolds(now)).toEqual([]);
    expect((await events()).map((e) => e.day)).toEqual([`${now.getUTCFullYear() - 1}-12-15`, `${now.getUTCFullYear() - 1}-12-15`]);
  });

  it('a log crossing New Year: December lines in the old year, January ones in the new; the last block (Jan 2 01:00) holds google until Jan 5', async () => {
    const newYear = Date.UTC(2027, 0, 1);
    const now = new Date(newYear + DAY + 18 * 3_600_000);
    const lines = [newYear - 2 * DAY + 3_600_000, newYear - 3_600_000, newYear + 3_600_000, newYear + DAY + 3_600_000].map(gmailBlock);
    const file = logFile('mail.log', lines, new Date(newYear + DAY + 12 * 3_600_000));
    const s = await runBounceScrub(ctxAt(now), [file]);
    expect((await events()).map((e) => e.day)).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
    expect(s.holds).toMatchObject([{ scope: 'provider', provider: 'google', until: '2027-01-05T01:00:00.000Z' }]);
  });

  it('a file stamped in the future (pinned clock, or a copy from a machine ahead): lines never land after the clock plus the skew', async () => {
    const now = new Date('2027-01-02T18:00:00Z');
    // Lines from Jan 2 back to Mar 3: a file written over ten months, dated three months ahead.
    const lines = [Date.UTC(2026, 2, 3, 12), Date.UTC(2026, 10, 20, 12), Date.UTC(2027, 0, 2, 9)].map(gmailBlock);
    const file = logFile('ahead.log', lines, new Date(now.getTime() + 90 * DAY));
    await runBounceScrub(ctxAt(now), [file]);
    const stored = await events();
    expect(stored.map((e) => e.day)).toEqual(['2026-03-03', '2026-11-20', '2027-01-02']);
    for (const e of stored) expect(new Date(e.ts).getTime()).toBeLessThanOrEqual(now.getTime() + YEAR_SKEW_MS);
  });
});

describeWithSamples('scrub-bounces: the year of a real log copied today', () => {
  it('pflgviewer.mail.log (Dec 14-16 lines, "550 Too many invalid recipients") copied on Dec 6: every event last year, no active hold (main: a hold on `other` until Dec 18)', async () => {
    const now = new Date('2026-12-06T18:00:00Z');
    const file = path.join(dir, 'mail.log');
    copyFileSync(samplePath('maillog/real/pflgviewer.mail.log'), file);
    utimesSync(file, new Date('2026-12-06T12:00:00Z'), new Date('2026-12-06T12:00:00Z'));
    const s = await runBounceScrub(ctxAt(now), [file]);
    expect(s.byClass).toMatchObject({ reputation_block: 25 });
    expect(s.holds).toEqual([]);
    const years = await sql<{ y: number; n: number }>`select extract(year from ts)::int as y, count(*)::int as n from delivery_events group by 1`.execute(store.db);
    expect(years.rows).toEqual([{ y: 2025, n: s.deliveries.deferred + s.deliveries.bounced + s.deliveries.expired }]);
    const newest = await sql<{ t: Date }>`select max(ts) as t from delivery_events`.execute(store.db);
    expect(newest.rows[0]!.t.getTime()).toBeLessThan(now.getTime());
  });
});
