/**
 * The built CLI is loaded through V8's code cache (scripts/code-cache.mjs): the cache only ever
 * saves time. A command's first run writes it, the next runs read it back, and a cache V8 rejects
 * or a file that is not one is compiled from the source as if there were none. Run in child
 * processes, since the cache is written when the process exits.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAscii } from 'node:buffer';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { cacheKey } from '../scripts/code-cache.mjs';
import { runCli } from './helpers/cli.ts';
import { REPO_ROOT } from './helpers/samples.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'code-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A CommonJS file like the bundle: require(), an import() of a package left to Node, state of its own.
const file = path.join(dir, 'mod.cjs');
writeFileSync(
  file,
  `const os = require('node:os');
let calls = 0;
exports.run = async () => ({ calls: ++calls, cpus: os.cpus().length > 0, imported: typeof (await __audienceImport('node:path')).join });`,
);
const cacheDir = path.join(dir, 'cache');
const loader = path.join(REPO_ROOT, 'scripts', 'code-cache.mjs');

/** Loads mod.cjs through the cache in a new process; what it returned and what V8 said of the cache. */
function load(): { result: unknown; rejected: boolean | undefined; hadCache: boolean } {
  const code = `
    import { loadCommonJs } from ${JSON.stringify(loader)};
    import vm from 'node:vm';
    let seen;
    const Script = vm.Script;
    vm.Script = class extends Script { constructor(s, o) { super(s, o); seen = { hadCache: Boolean(o.cachedData), rejected: this.cachedDataRejected }; } };
    const m = loadCommonJs(${JSON.stringify(file)}, { cacheDir: ${JSON.stringify(cacheDir)}, key: 'test_run', bundleHash: 'h' });
    console.log(JSON.stringify({ result: await m.run(), ...seen }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { result: unknown; rejected: boolean | undefined; hadCache: boolean };
}

describe('the code cache of the built CLI', () => {
  it('is written by a first run, read back by the next, and made again when V8 rejects it or the file is not a cache', () => {
    const expected = { calls: 1, cpus: true, imported: 'function' };
    expect(load()).toEqual({ result: expected, hadCache: false });
    const files = readdirSync(cacheDir);
    expect(files).toEqual([`h-test_run-${process.version}-${process.arch}.bin`]);
    const cache = path.join(cacheDir, files[0]!);
    // Read back: accepted, and the module's import() still reaches Node's loader.
    expect(load()).toEqual({ result: expected, hadCache: true, rejected: false });
    writeFileSync(cache, 'not a code cache');
    expect(load()).toEqual({ result: expected, hadCache: true, rejected: true });
    expect(readFileSync(cache).length).toBeGreaterThan(100);
    expect(load()).toEqual({ result: expected, hadCache: true, rejected: false });
  });

  it('a cache that cannot be written costs nothing but the time', () => {
    writeFileSync(path.join(dir, 'a-file'), '');
    const code = `
      import { loadCommonJs } from ${JSON.stringify(loader)};
      const m = loadCommonJs(${JSON.stringify(file)}, { cacheDir: ${JSON.stringify(path.join(dir, 'a-file', 'cache'))}, key: 'k', bundleHash: 'h' });
      console.log(JSON.stringify(await m.run()));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr, stdout: JSON.parse(r.stdout) as unknown }).toEqual({ status: 0, stderr: '', stdout: { calls: 1, cpus: true, imported: 'function' } });
  });

  it('a run that fails writes no cache (a mistyped command leaves nothing behind)', () => {
    const code = `
      import { loadCommonJs } from ${JSON.stringify(loader)};
      loadCommonJs(${JSON.stringify(file)}, { cacheDir: ${JSON.stringify(cacheDir)}, key: 'failed', bundleHash: 'h' });
      process.exitCode = 2;`;
    expect(spawnSync(process.execPath, ['--input-type=module', '-e', code]).status).toBe(2);
    expect(readdirSync(cacheDir).filter((f) => f.includes('failed'))).toEqual([]);
  });

  it('keys the cache by the command, skipping global options and their values', () => {
    expect(cacheKey(['node', '/x/bin/audience.mjs', 'explain', 'jd@example.com'])).toBe('audience_explain');
    expect(cacheKey(['node', '/x/bin/audience.mjs', '--config', 'my.json', '--json', 'build', '--dry-run'])).toBe('audience_build');
    expect(cacheKey(['node', '/x/bin/audience.mjs'])).toBe('audience_--help');
    expect(cacheKey(['node', '/x/bin/audience.mjs', '--help'])).toBe('audience_--help');
    expect(cacheKey(['node', '/x/scripts/demo.mjs'])).toBe('demo_--help');
    expect(cacheKey(['node', '/x/bin/audience.mjs', 'ex plain/../'])).toBe('audience_other');
  });

  it('the build is one ASCII file whose import() of PGlite goes through the loader; a command runs from it twice the same', async () => {
    const bundle = readFileSync(path.join(REPO_ROOT, 'dist', 'audience.cjs'));
    expect(isAscii(bundle)).toBe(true);
    const text = bundle.toString('latin1');
    expect(text).not.toContain('import("@electric-sql/pglite")');
    expect(text).toContain('__audienceImport("@electric-sql/pglite")');
    const data = mkdtempSync(path.join(dir, 'db-'));
    const env = { AUDIENCE_DATA_DIR: data, AUDIENCE_NOW: '2031-03-04T12:00:00Z' };
    const first = await runCli(['--json', 'explain', 'jd@gmail.com'], { env });
    const second = await runCli(['--json', 'explain', 'jd@gmail.com'], { env });
    expect(first.code).toBe(0);
    // The clock starts at AUDIENCE_NOW and runs: startedAt and seconds differ by the run's time.
    const { seconds: _a, startedAt: _c, ...a } = first.json!;
    const { seconds: _b, startedAt: _d, ...b } = second.json!;
    expect(b).toEqual(a);
    expect(a).toMatchObject({ command: 'explain', ok: true, addresses: [{ email: 'jd@gmail.com' }] });
  });
});
