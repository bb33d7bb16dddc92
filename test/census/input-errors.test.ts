import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDetected } from '../../src/census/load-file.ts';
import { InputError } from '../../src/errors.ts';
import { REPO_ROOT } from '../helpers/samples.ts';

/**
 * A census file that cannot be read whole is an InputError that says what to do, never a crash
 * reported as a bug (issue #18, point 5): the error comes out of the byte stream the scanner and
 * the COPY read, so the ingest fails with it and merges nothing.
 */
const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/census');
let dir: string;
beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'census-input-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opens the file and reads every byte after its header, as the ingest does. */
async function readAll(file: string): Promise<number> {
  const opened = await openDetected(file);
  let n = 0;
  try {
    for await (const chunk of opened.rest) n += chunk.length;
  } finally {
    opened.stream.destroy();
  }
  return n;
}

function damaged(name: string, from: string, edit: (b: Buffer) => Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, edit(readFileSync(path.join(FIXTURES, from))));
  return file;
}

describe('census files that cannot be read', () => {
  it('a truncated .gz: an InputError saying it is cut short, not an unexpected end of file reported as a bug', async () => {
    const file = damaged('cut.txt.gz', 'FMCSA_CENSUS1_2026Nov.txt.gz', (b) => b.subarray(0, b.length - 1500));
    const e = await readAll(file).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/cut\.txt\.gz ends before its compressed data does .*Download it again; nothing was loaded/);
  });

  it('corrupt compressed data in a .gz or inside the FMCSA .zip; an empty .gz', async () => {
    const flip = (b: Buffer) => {
      const c = Buffer.from(b);
      for (let i = 2000; i < 2100; i++) c[i]! ^= 0x55;
      return c;
    };
    await expect(readAll(damaged('bad.txt.gz', 'FMCSA_CENSUS1_2026Nov.txt.gz', flip))).rejects.toThrow(/bad\.txt\.gz holds damaged compressed data/);
    await expect(readAll(damaged('bad.zip', 'FMCSA_CENSUS1_2026Nov.zip', flip))).rejects.toThrow(/bad\.zip \(FMCSA_CENSUS1_2026Nov\.txt\) holds damaged compressed data/);
    await expect(readAll(damaged('cut.zip', 'FMCSA_CENSUS1_2026Nov.zip', (b) => b.subarray(0, 3000)))).rejects.toThrow(/not a readable zip archive/);
    await expect(readAll(damaged('empty.txt.gz', 'FMCSA_CENSUS1_2026Nov.txt.gz', () => Buffer.alloc(0)))).rejects.toThrow(InputError);
  });

  it('a directory: says so and names census files inside it, instead of "no such file"', async () => {
    const folder = path.join(dir, 'census');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'FMCSA_CENSUS1_2026Nov.txt'), '');
    await expect(readAll(folder)).rejects.toThrow(`${folder} is a directory: pass the census file itself, e.g. ${path.join(folder, 'FMCSA_CENSUS1_2026Nov.txt')}.`);
    await expect(readAll(path.join(dir, 'missing.txt'))).rejects.toThrow(/missing\.txt: no such file/);
  });

  it('an empty file, and a device', async () => {
    writeFileSync(path.join(dir, 'empty.txt'), '');
    await expect(readAll(path.join(dir, 'empty.txt'))).rejects.toThrow(/is empty/);
    await expect(readAll('/dev/null')).rejects.toThrow(/not a regular file/);
  });
});
