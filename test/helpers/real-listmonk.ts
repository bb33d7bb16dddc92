/**
 * A real Listmonk per test file, through scripts/listmonk.sh: built once (cached in .cache/listmonk),
 * its own PostgreSQL database, `--install`, a free 127.0.0.1 port, an API user whose token the
 * install printed. Where it cannot be had (no `go`, the module cannot be downloaded, no PostgreSQL),
 * `describeReal` skips with a one-line note saying why; REAL_LISTMONK=require makes that a failure.
 * LISTMONK_HOME points the script at a Listmonk you already have (see the script).
 */
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe } from 'vitest';
import { REPO_ROOT } from './samples.ts';

const SCRIPT = path.join(REPO_ROOT, 'scripts/listmonk.sh');
const run = promisify(execFile);

export interface RealListmonk {
  url: string;
  /** The API user the install created (Super Admin role). */
  apiUser: string;
  apiToken: string;
  adminUser: string;
  adminPassword: string;
  pid: number;
  database: string;
  dir: string;
  version: string;
  stop(): Promise<void>;
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((l) => !/^listmonk\.sh: building/.test(l))
      .pop() ?? ''
  ).trim();
}

/** null when a real Listmonk can be started here, else why not (one line). Probed once per test file. */
export const realListmonkUnavailable: string | null = (() => {
  const probe = spawnSync('bash', [SCRIPT, 'build'], { encoding: 'utf8', cwd: REPO_ROOT });
  if (probe.status === 0) return null;
  const why = probe.status === 3 ? lastLine(probe.stderr) : `scripts/listmonk.sh build exited ${probe.status}: ${lastLine(probe.stderr)}`;
  // The go error above the script's own line says what the proxy or toolchain answered.
  const goError = probe.stderr.split('\n').find((l) => /^go: |403|404|not found/.test(l));
  return goError && !why.includes(goError.trim()) ? `${why} — ${goError.trim()}` : why;
})();

if (realListmonkUnavailable && process.env.REAL_LISTMONK === 'require') throw new Error(`REAL_LISTMONK=require, but ${realListmonkUnavailable}`);

/** describe() that runs only with a real Listmonk at hand, and says once why it skipped otherwise. */
export function describeReal(name: string, fn: () => void): void {
  if (realListmonkUnavailable) {
    describe.skip(`${name} (skipped: ${realListmonkUnavailable})`, fn);
    return;
  }
  describe(name, fn);
}

export async function startRealListmonk(): Promise<RealListmonk> {
  const { stdout } = await run('bash', [SCRIPT, 'start', '--json'], { cwd: REPO_ROOT, maxBuffer: 1 << 20 });
  const info = JSON.parse(stdout.trim().split('\n').pop()!) as Omit<RealListmonk, 'stop'>;
  return {
    ...info,
    async stop() {
      await run('bash', [SCRIPT, 'stop', String(info.pid), info.database, info.dir], { cwd: REPO_ROOT });
    },
  };
}
