import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { listMigrations } from '../src/db/migrate.ts';
import { buildProgram } from '../src/cli/main.ts';
import { runCli } from './helpers/cli.ts';

function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => {
    const p = [...prefix, c.name()];
    return c.commands.length ? [p, ...commandPaths(c, p)] : [p];
  });
}

/** Runs `audience ...path --help` on a fresh program in this process and captures what commander prints. */
async function helpOf(p: string[]): Promise<{ code: string | null; text: string }> {
  const program = buildProgram();
  let text = '';
  const capture = (c: Command) => {
    c.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    c.commands.forEach(capture);
  };
  capture(program);
  try {
    await program.parseAsync(['node', 'audience', ...p, '--help']);
    return { code: null, text };
  } catch (e) {
    return { code: (e as { code?: string }).code ?? String(e), text };
  }
}

describe('audience CLI', () => {
  it('prints help for the program and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: audience/);
    expect(r.stdout).toMatch(/--json/);
  });

  // In-process: a dozen spawned processes (tsx start-up each) took most of a minute on a loaded
  // machine; what this checks is commander's wiring, not the process boundary (the test above is that).
  it('has --help on every command, with examples', async () => {
    const paths = commandPaths(buildProgram());
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) {
      const r = await helpOf(p);
      expect(r.code, `audience ${p.join(' ')} --help`).toBe('commander.helpDisplayed');
      expect(r.text, `audience ${p.join(' ')} --help`).toMatch(/Usage: audience/);
      if (p.length > 1 || !buildProgram().commands.find((c) => c.name() === p[0])?.commands.length)
        expect(r.text, `audience ${p.join(' ')} --help shows examples`).toMatch(/Examples?:/i);
    }
  });

  it('rejects an unknown flag with exit 2, and with --json prints one JSON error object on stdout', async () => {
    const r = await runCli(['migrate', '--no-such-flag', '--json']);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ command: 'migrate', ok: false, exitCode: 2, error: { phase: 'usage' } });
    expect(r.stderr).toMatch(/unknown option '--no-such-flag'/);
  });

  it('reports bad configuration with exit 2 and names the variable to fix', async () => {
    const r = await runCli(['migrate', '--json'], { env: { DATABASE_URL: 'mysql://nope' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DATABASE_URL/);
    expect(r.json).toMatchObject({ ok: false, exitCode: 2, error: { phase: 'config' } });
  });

  it('migrates an embedded database: stdout holds exactly the JSON summary, logs go to stderr', async () => {
    const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'audience-cli-')), 'db');
    const r = await runCli(['migrate', '--json'], { env: { AUDIENCE_DATA_DIR: dataDir } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.json).toMatchObject({ command: 'migrate', database: `embedded (${dataDir})` });
    // Applied by this run, or already in the template the new database started from (made at install).
    const applied = r.json!.applied as string[];
    expect(applied.length === 0 || applied[0] === '0001_runs.sql').toBe(true);
    const again = await runCli(['migrate', '--status', '--json'], { env: { AUDIENCE_DATA_DIR: dataDir } });
    expect(again.json).toMatchObject({ pending: [], unknown: [], modified: [] });
    expect((again.json!.applied as string[])[0]).toBe('1_runs');
    expect((again.json!.applied as string[]).length).toBe(listMigrations().length);
  }, 180_000); // two processes, each starting an embedded PostgreSQL: ~10 s quiet, several times that on a loaded machine
});
