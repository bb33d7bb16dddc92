/**
 * `audience build --help | head -1`: the reader closes the pipe after one line. The process must
 * finish quietly with its own exit code, not die on an unhandled EPIPE with a Node stack trace.
 * A spawned process, because the pipe between two processes is the point.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'audience.mjs');

it('a reader that closes the pipe early does not crash the CLI (EPIPE)', async () => {
  const child = spawn(process.execPath, [BIN, 'build', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Like a `head` that has already exited: our end is closed before the CLI writes a byte, so its
  // first write meets a closed pipe every time (a live `head -1` hits it only by timing).
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  expect(stderr).not.toMatch(/EPIPE|Unhandled 'error' event/);
  expect(code).toBe(0);
}, 60_000);
