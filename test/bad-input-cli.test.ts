import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { REPO_ROOT } from './helpers/samples.ts';
import { ListmonkDouble } from './listmonk-double/index.ts';

/**
 * What a new user meets with wrong input, end to end through the real binary (issue #18, points 5
 * and 6): typed errors with the right exit code and a message saying what to do, never a stack
 * trace reported as a bug. One embedded database for the file; commands that fail before opening
 * it do not create it.
 */
let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bad-input-cli-'));
  // A pinned clock: the sample log's suppressions and the build's date hold on any calendar day.
  env = { AUDIENCE_DATA_DIR: path.join(dir, 'db'), AUDIENCE_NOW: '2026-11-28T12:00:00Z' };
  const m = await runCli(['migrate'], { env, cwd: dir });
  expect(m.code, m.stderr).toBe(0);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noBug = (stderr: string) => {
  expect(stderr).not.toMatch(/This is a bug/);
  expect(stderr).not.toMatch(/^\s+at /m);
};

describe('crashes that were reported as bugs', () => {
  it('a truncated .gz census: exit 1 and what to do', async () => {
    const gz = readFileSync(path.join(REPO_ROOT, 'test/fixtures/census/FMCSA_CENSUS1_2026Nov.txt.gz'));
    const file = path.join(dir, 'FMCSA_CENSUS1_2026Nov.txt.gz');
    writeFileSync(file, gz.subarray(0, gz.length - 1500));
    const r = await runCli(['--json', 'ingest', 'census', file], { env, cwd: dir });
    noBug(r.stderr);
    expect(r.stderr).toMatch(/ends before its compressed data does .*Download it again/);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ command: 'ingest census', ok: false, error: { phase: 'input' } });
  }, 180_000);

  it('a directory given to ingest census and to scrub-bounces', async () => {
    const folder = path.join(dir, 'incoming');
    mkdirSync(folder, { recursive: true });
    const census = await runCli(['ingest', 'census', folder], { env, cwd: dir });
    expect(census.code).toBe(1);
    expect(census.stderr).toMatch(/incoming is a directory: pass the census file itself/);
    noBug(census.stderr);
    const scrub = await runCli(['scrub-bounces', folder], { env, cwd: dir });
    expect(scrub.code).toBe(1);
    expect(scrub.stderr).toMatch(/incoming is a directory: pass the log files in it/);
    noBug(scrub.stderr);
  }, 180_000);

  it("LISTMONK_URL='not a url': a configuration error (exit 2) naming the variable, no zod stack", async () => {
    const r = await runCli(['--json', 'status'], { env: { ...env, LISTMONK_URL: 'not a url' }, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ command: 'status', ok: false, exitCode: 2, error: { phase: 'config', message: expect.stringMatching(/listmonk\.url: .*LISTMONK_URL/) } });
    noBug(r.stderr);
  }, 180_000);
});

describe('exit codes and texts', () => {
  it("suppress 'bad address@' is a usage error (exit 2)", async () => {
    const r = await runCli(['suppress', 'bad address@', '--reason', 'test'], { env, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"bad address@" is not an address or a domain/);
  }, 180_000);

  it('unhold gmail names the known providers and the current holds (exit 2); --config FILE --json CMD reports CMD', async () => {
    const config = path.join(dir, 'cfg.json');
    writeFileSync(config, '{}');
    const r = await runCli(['--config', config, '--json', 'unhold', 'gmail', '--reason', 'test'], { env, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ command: 'unhold', error: { phase: 'usage' } });
    const message = (r.json!.error as { message: string }).message;
    expect(message).toMatch(/"gmail" is not a provider or a domain\. Did you mean google\?/);
    expect(message).toMatch(/google, microsoft365, outlook_consumer, yahoo/);
    expect(message).toMatch(/Active holds: none\./);
  }, 180_000);

  it('a binary file given to scrub-bounces fails (exit 1) and says it is not a mail log', async () => {
    const file = path.join(dir, 'photo.jpg');
    const bytes = Buffer.alloc(4000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(file, bytes);
    const r = await runCli(['--json', 'scrub-bounces', file], { env, cwd: dir });
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ command: 'scrub-bounces', error: { phase: 'input', message: expect.stringMatching(/photo\.jpg does not look like a mail log/) } });
  }, 180_000);

  it('a wrong Listmonk token: exit 2 (configuration), and no "grant the API user settings:get" first', async () => {
    const lm = await ListmonkDouble.start();
    try {
      const r = await runCli(['build', '--date', '2026-11-28'], {
        env: { ...env, AUDIENCE_WARMUP_START: '2026-11-01', LISTMONK_URL: lm.url, LISTMONK_API_USER: 'audience', LISTMONK_API_TOKEN: 'wrong-token' },
        cwd: dir,
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/Check LISTMONK_API_USER and LISTMONK_API_TOKEN/);
      expect(r.stderr).not.toMatch(/settings:get/);
      noBug(r.stderr);
    } finally {
      await lm.stop();
    }
  }, 180_000);
});

describe('files written for the user, and text printed to the terminal', () => {
  it('ingest census --rejects: never over an existing file or through a link; formulas in the file are neutralized', async () => {
    const [header, good] = readFileSync(path.join(REPO_ROOT, 'data-samples/census/FMCSA_CENSUS1_2026Nov.txt'), 'latin1').split(/\r?\n/);
    const census = path.join(dir, 'hostile.txt');
    writeFileSync(census, [header, good, '=HYPERLINK("http://evil.example/x","click"),"A"', ''].join('\r\n'), 'latin1');
    const existing = path.join(dir, 'existing.csv');
    writeFileSync(existing, 'precious\n');
    const args = (rejects: string) => ['ingest', 'census', census, '--no-normalize', '--max-reject-rate', '1', '--rejects', rejects];
    const refused = await runCli(args(existing), { env, cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/existing\.csv already exists.*pass --force/);
    expect(readFileSync(existing, 'utf8')).toBe('precious\n');
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, 'not yours\n');
    symlinkSync(victim, path.join(dir, 'link.csv'));
    const linked = await runCli(args(path.join(dir, 'link.csv')), { env, cwd: dir });
    expect(linked.code).toBe(2);
    expect(readFileSync(victim, 'utf8')).toBe('not yours\n');
    const ok = await runCli(args(path.join(dir, 'rejects.csv')), { env, cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    const rows = parse(readFileSync(path.join(dir, 'rejects.csv')), { columns: true }) as { raw: string; reason: string }[];
    expect(rows).toEqual([expect.objectContaining({ line: '3', raw: `'=HYPERLINK("http://evil.example/x","click"),"A"` })]);
  }, 180_000);

  it('a bounce reason with escape sequences reaches explain without them', async () => {
    const sample = readFileSync(path.join(REPO_ROOT, 'data-samples/maillog/mail.log'), 'utf8');
    const log = path.join(dir, 'hostile.log');
    writeFileSync(log, sample.replace('The email account that you tried to reach does not exist.', '\x1b]0;pwned\x07\x1b[2J\x1b[31mThe email account that you tried to reach does not exist.\x1b[0m'));
    const scrub = await runCli(['scrub-bounces', log], { env, cwd: dir });
    expect(scrub.code, scrub.stderr).toBe(0);
    const r = await runCli(['explain', 'old.dispatch@blue-ox-hauling.test'], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/suppressed_address: .*The email account that you tried to reach does not exist/);
    expect(r.stdout + r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  }, 180_000);
});
