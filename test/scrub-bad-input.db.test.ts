import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { parse } from 'csv-parse/sync';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runBounceScrub, type BounceScrubOptions } from '../src/maillog/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import { ConfigError, InputError, UsageError } from '../src/errors.ts';
import { REPO_ROOT } from './helpers/samples.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

/**
 * Bad bytes in mail.log never stop the scrub (issue #18): a line is linked or skipped with a
 * reason, the checkpoint moves past it, --rejects lists it, and a file that is not a log at all is
 * refused without leaving anything behind.
 */
const SAMPLE = readFileSync(path.join(REPO_ROOT, 'data-samples/maillog/mail.log'));
const SAMPLE_LINES = SAMPLE.toString('utf8').split('\n').slice(0, -1);
const BOUNCE = SAMPLE_LINES.findIndex((l) => l.includes('status=bounced') && l.includes('old.dispatch@'));
const NOW = new Date('2026-11-28T00:00:00Z');

let store: TestStore;
let dir: string;
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

// One database for the file (a fresh PGlite per test was most of its time), emptied before each test.
beforeAll(async () => {
  store = await createTestStore();
});
afterAll(async () => {
  await store.close();
});
beforeEach(async () => {
  await sql`truncate delivery_events, maillog_files, maillog_linker_state, suppressions, holds, maillog_daily_health,
            maillog_sent_counts, maillog_sent_domains, maillog_sent_domain_log, runs restart identity`.execute(store.db);
  dir = mkdtempSync(path.join(os.tmpdir(), 'scrub-bad-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function ctx(maillogPath = path.join(dir, 'mail.log')): StageContext {
  const config = loadConfig({ env: {}, cwd: dir, overrides: { maillog: { path: maillogPath } } });
  return { config, store, out: createOutput({ json: true, stdout: sink, stderr: sink }), now: () => NOW };
}
const scrub = (files: string[], opts: BounceScrubOptions = {}) => runBounceScrub(ctx(), files, opts);

const withLine = (i: number, line: Buffer | string) => Buffer.concat(SAMPLE_LINES.map((l, j) => (j === i ? Buffer.concat([Buffer.from(line), Buffer.from('\n')]) : Buffer.from(l + '\n'))));

async function stored() {
  const q = async (text: string) => (await sql.raw(text).execute(store.db)).rows;
  return {
    events: await q(`select ts, recipient, status, dsn, class, reason from delivery_events order by ts, qid, recipient, status`),
    suppressions: await q(`select kind, value, reason from suppressions order by kind, value`),
    files: await q(`select byte_offset, lines from maillog_files order by id`),
  };
}

describe('a NUL byte in mail.log', () => {
  it('skips the line as binary, stores the rest, moves the checkpoint past it; a re-run changes nothing', async () => {
    const bounce = Buffer.from(SAMPLE_LINES[BOUNCE]!);
    const at = bounce.indexOf('status=bounced') + 20;
    const text = withLine(BOUNCE, Buffer.concat([bounce.subarray(0, at), Buffer.from([0]), bounce.subarray(at)]));
    const log = path.join(dir, 'nul.log');
    writeFileSync(log, text);
    const s = await scrub([log]);
    expect(s).toMatchObject({ newLines: SAMPLE_LINES.length, skipped: { binary: 1 }, deliveries: { bounced: 3 }, suppressed: { addresses: 0 } });
    expect(s.warnings).toEqual([expect.stringContaining('skipped 1 line(s) holding NUL bytes')]);
    const first = await stored();
    expect(first.files).toEqual([{ byte_offset: text.length, lines: SAMPLE_LINES.length }]);
    expect(first.events.map((e) => (e as { recipient: string }).recipient)).not.toContain('old.dispatch@blue-ox-hauling.test');
    const again = await scrub([log]);
    expect(again).toMatchObject({ newLines: 0, files: [{ status: 'unchanged' }] });
    expect(await stored()).toEqual(first);
  });

  it('reads a line after a run of NULs (what a crashed syslog daemon leaves) as the line it is', async () => {
    const log = path.join(dir, 'padded.log');
    writeFileSync(log, withLine(BOUNCE, Buffer.concat([Buffer.alloc(4096), Buffer.from(SAMPLE_LINES[BOUNCE]!)])));
    const s = await scrub([log]);
    expect(s).toMatchObject({ skipped: { binary: 0 }, deliveries: { bounced: 4 }, suppressed: { addresses: 1 } });
    expect(s.warnings).toEqual([]);
  });
});

describe('scrub-bounces --rejects', () => {
  it('lists every skipped line (file, line, reason, raw) in a new file; counts per reason in the summary and the run row', async () => {
    const hostile = "=cmd|' /C calc'!A0 \x1b]0;owned\x07";
    const lines = [...SAMPLE_LINES, hostile, '', 'x'.repeat(100_000), `2026-11-25T10:00:00.000000-06:00 app1 dovecot[77]: imap-login: Login`, 'a\0b'];
    const log = path.join(dir, 'mail.log');
    writeFileSync(log, lines.join('\n') + '\n');
    const rejects = path.join(dir, 'skipped.csv');
    const s = await scrub([log], { rejectsFile: rejects });
    const comments = SAMPLE_LINES.filter((l) => l.startsWith('#')).length;
    const skipped = { comment: comments, blank: 1, malformed: 1, foreign: 1, binary: 1, tooLong: 1 };
    expect(s).toMatchObject({ skipped, skippedLines: comments + 5, rejectsFile: rejects });
    const run = await store.db.selectFrom('runs').select('counts').where('id', '=', s.runId).executeTakeFirstOrThrow();
    expect(run.counts).toMatchObject({ skipped });

    const rows = parse(readFileSync(rejects), { columns: true }) as { file: string; line: string; reason: string; raw: string }[];
    expect(rows).toHaveLength(comments + 5);
    expect(rows.every((r) => r.file === log)).toBe(true);
    const n = SAMPLE_LINES.length;
    expect(rows.slice(-5).map((r) => [Number(r.line), r.reason])).toEqual([
      [n + 1, 'malformed'],
      [n + 2, 'blank'],
      [n + 3, 'tooLong'],
      [n + 4, 'foreign'],
      [n + 5, 'binary'],
    ]);
    // Meant for people: no formula runs, no escape sequence reaches a terminal, a huge line is cut.
    expect(rows[rows.length - 5]!.raw).toBe("'=cmd|' /C calc'!A0 \\x1B]0;owned\\x07");
    expect(rows[rows.length - 3]!.raw).toMatch(/^x{4096} \[truncated at 4096 bytes\]$/);
    expect(rows[rows.length - 1]!.raw).toBe('a\\x00b');
    expect(statSync(rejects).mode & 0o777).toBe(0o666 & ~process.umask());
  });

  it('never replaces a file it did not create unless --force, and never writes through a link', async () => {
    const log = path.join(dir, 'mail.log');
    writeFileSync(log, SAMPLE);
    const rejects = path.join(dir, 'skipped.csv');
    writeFileSync(rejects, 'precious\n');
    await expect(scrub([log], { rejectsFile: rejects })).rejects.toThrow(UsageError);
    expect(readFileSync(rejects, 'utf8')).toBe('precious\n');
    // Refused before anything was read: the log is still new to the next run.
    expect((await stored()).files).toEqual([]);
    const target = path.join(dir, 'target.txt');
    writeFileSync(target, 'not yours\n');
    const link = path.join(dir, 'link.csv');
    symlinkSync(target, link);
    await expect(scrub([log], { rejectsFile: link, force: true })).rejects.toThrow(/symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('not yours\n');
    const s = await scrub([log], { rejectsFile: rejects, force: true });
    expect(s.rejectsFile).toBe(rejects);
    expect(readFileSync(rejects, 'utf8')).toMatch(/^file,line,reason,raw\n/);
    // No temporary file is left beside it.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('files that are not (whole) logs', () => {
  it('a binary file is refused with an input error and leaves nothing behind; the lines of the logs before it are stored', async () => {
    const log = path.join(dir, 'mail.log');
    writeFileSync(log, SAMPLE);
    const junk = path.join(dir, 'photo.jpg');
    const bytes = Buffer.alloc(3000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + (i >> 3)) & 0xff;
    writeFileSync(junk, bytes);
    await expect(scrub([log, junk])).rejects.toThrow(/photo\.jpg does not look like a mail log/);
    const files = await store.db.selectFrom('maillog_files').select(['path', 'byte_offset']).orderBy('id').execute();
    expect(files).toEqual([
      { path: log, byte_offset: SAMPLE.length },
      { path: junk, byte_offset: 0 },
    ]);
    // Comments and blank lines alone are not a reason to refuse a file.
    const quiet = path.join(dir, 'quiet.log');
    writeFileSync(quiet, '# nothing yet\n\n');
    await expect(scrub([quiet])).resolves.toMatchObject({ skipped: { comment: 1, blank: 1 } });
  });

  it('a damaged .gz rotation is read up to the damage with a warning; the other files are read', async () => {
    const log = path.join(dir, 'mail.log');
    const z = gzipSync(SAMPLE);
    writeFileSync(`${log}.2.gz`, z.subarray(0, Math.floor(z.length * 0.7)));
    writeFileSync(`${log}.3.gz`, z.subarray(0, 12));
    // Its own first line: the live file is a file of its own, not the rotation rewritten.
    writeFileSync(log, SAMPLE_LINES.slice(20, 40).join('\n') + '\n');
    const s = await runBounceScrub(ctx(log));
    expect(s.files.map((f) => [path.basename(f.path), f.status])).toEqual([
      ['mail.log.3.gz', 'damaged'],
      ['mail.log.2.gz', 'new'],
      ['mail.log', 'new'],
    ]);
    expect(s.files[1]!.newLines).toBeGreaterThan(20);
    expect(s.warnings).toEqual([expect.stringContaining('mail.log.3.gz is a damaged gzip file'), expect.stringContaining('mail.log.2.gz is damaged after')]);
  });

  it('a directory is an input error that says what to pass; a directory as AUDIENCE_MAILLOG is a configuration error', async () => {
    const folder = path.join(dir, 'logs');
    mkdirSync(folder);
    await expect(scrub([folder])).rejects.toThrow(InputError);
    await expect(scrub([folder])).rejects.toThrow(/logs is a directory: pass the log files in it/);
    await expect(runBounceScrub(ctx(folder))).rejects.toThrow(ConfigError);
  });
});
