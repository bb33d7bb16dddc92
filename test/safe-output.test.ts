import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../src/errors.ts';
import { checkOutputTarget, OutputFile, writeOutputFile } from '../src/files/safe-output.ts';

/**
 * Every --out/--rejects/--export file goes through src/files/safe-output.ts: a new temporary file
 * beside the target, then link (no --force) or rename (--force); never over a file the run did not
 * create, never through a symbolic link (issue #18, point 3).
 */
let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'safe-output-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const o = (force = false) => ({ force, flag: '--rejects' });
const leftovers = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('safe output files', () => {
  it('writes a new file whole, and only once it is complete', async () => {
    const target = path.join(dir, 'out.csv');
    const f = await OutputFile.create(target, o());
    await f.write('a,b\n');
    await f.write(Buffer.from('x'.repeat(300_000) + '\n'));
    expect(() => lstatSync(target)).toThrow(); // not there until commit
    await f.commit();
    expect(readFileSync(target, 'utf8')).toBe('a,b\n' + 'x'.repeat(300_000) + '\n');
    expect(f.committed).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it('refuses to replace an existing file without --force (exit 2 with the fix), and replaces it with --force', async () => {
    const target = path.join(dir, 'out.csv');
    writeFileSync(target, 'precious\n');
    expect(() => checkOutputTarget(target, o())).toThrow(UsageError);
    await expect(writeOutputFile(target, o(), (f) => f.write('new\n'))).rejects.toThrow(/already exists.*pass --force to replace it, or choose another path for --rejects/);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    await writeOutputFile(target, o(true), (f) => f.write('new\n'));
    expect(readFileSync(target, 'utf8')).toBe('new\n');
    expect(leftovers()).toEqual([]);
  });

  it('a file that appears while the run writes is not replaced either (link(2) decides at the commit)', async () => {
    const target = path.join(dir, 'late.csv');
    const f = await OutputFile.create(target, o());
    await f.write('ours\n');
    writeFileSync(target, 'theirs\n');
    await expect(f.commit()).rejects.toThrow(UsageError);
    expect(readFileSync(target, 'utf8')).toBe('theirs\n');
    expect(leftovers()).toEqual([]);
  });

  it('never writes through a symbolic link, with or without --force, dangling or not', async () => {
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, 'untouched\n');
    for (const [name, to] of [
      ['link.csv', victim],
      ['dangling.csv', path.join(dir, 'nowhere.txt')],
    ] as const) {
      const link = path.join(dir, name);
      symlinkSync(to, link);
      for (const force of [false, true]) await expect(writeOutputFile(link, o(force), (f) => f.write('rows\n'))).rejects.toThrow(/is a symbolic link/);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
    }
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
    expect(readdirSync(dir)).not.toContain('nowhere.txt');
    expect(leftovers()).toEqual([]);
  });

  it('refuses a directory, a missing folder and a device, saying which flag to change', () => {
    mkdirSync(path.join(dir, 'sub'));
    expect(() => checkOutputTarget(path.join(dir, 'sub'), o(true))).toThrow(/is a directory: --rejects takes a file path/);
    expect(() => checkOutputTarget(path.join(dir, 'no', 'such', 'out.csv'), o())).toThrow(/the folder .* does not exist/);
    expect(() => checkOutputTarget('/dev/null', o(true))).toThrow(/not a regular file/);
  });

  it('discards the temporary file when the writer fails, and leaves the target as it was', async () => {
    const target = path.join(dir, 'out.csv');
    const boom = new InputError('the data source failed');
    await expect(writeOutputFile(target, o(), async (f) => {
      await f.write('half\n');
      throw boom;
    })).rejects.toBe(boom);
    expect(readdirSync(dir)).toEqual([]);
  });
});
