/**
 * Runs the real `audience` binary (bin/audience.mjs) in a child process, for end-to-end tests of
 * flags, exit codes and the --json contract.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { openStore, type Store } from '../../src/db/store.ts';
import { REPO_ROOT } from './samples.ts';
import { createTestStore, testBackend, type TestStore } from './store.ts';

export interface CliResult {
  code: number;
  /** The signal that ended the process (a kill test), else null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is exactly one JSON object, else undefined. */
  json: Record<string, unknown> | undefined;
}

export async function runCli(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; input?: string; onStderr?: (chunk: string, child: ChildProcess) => void } = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('AUDIENCE_') && k !== 'DATABASE_URL' && !k.startsWith('VITEST')) env[k] = v;
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/audience.mjs'), ...args], { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(String(d), child);
    });
    child.on('error', reject);
    child.stdin.end(opts.input ?? '');
    child.on('close', (code, signal) => {
      let json: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(stdout);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, signal, stdout, stderr, json });
    });
  });
}

/**
 * Where a CLI run writes: a fresh pg test database (kept in `stores`, for the caller to close), or a
 * PGlite data dir of its own under `dir`; `open` gives a store on it, `done` closes that store.
 */
export async function cliTarget(dir: string, stores: TestStore[]): Promise<{ env: Record<string, string>; open: () => Promise<Store>; done: (s: Store) => Promise<void> }> {
  if (testBackend() === 'pg') {
    const store = await createTestStore();
    stores.push(store);
    return { env: { DATABASE_URL: store.url! }, open: async () => store, done: async () => {} };
  }
  const dataDir = mkdtempSync(path.join(dir, 'pglite-'));
  return { env: { AUDIENCE_DATA_DIR: dataDir }, open: () => openStore({ dataDir }), done: (s) => s.close() };
}
