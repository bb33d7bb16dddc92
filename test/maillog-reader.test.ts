import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { chunkLines, MAX_LINE_BYTES, readChunks } from '../src/maillog/reader.ts';

/**
 * A plain log is read into two buffers taking turns, each chunk its whole lines and the partial
 * line carried to the next: every line once, in order, with the offset after each chunk, whatever
 * the chunk size, lines longer than a buffer, a checkpoint to start from, and the live file's
 * incomplete last line (left for the next run) against a rotated file's (read).
 */
let dir: string;
beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'reader-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reads every line once, in order, with exact offsets', async () => {
  const lines = Array.from({ length: 1500 }, (_, i) => (i % 97 === 0 ? 'L'.repeat(9000 + i) : `line ${i} ${'x'.repeat(i % 200)}`));
  const file = path.join(dir, 'mail.log');
  for (const live of [false, true]) {
    for (const tail of ['\n', '\npartial']) {
      const text = lines.join('\n') + tail;
      writeFileSync(file, text);
      for (const chunkBytes of [4096, 1 << 16]) {
        for (const skip of [0, 5]) {
          const from = skip ? Buffer.byteLength(lines.slice(0, skip).join('\n') + '\n') : 0;
          const got: string[] = [];
          let end = from;
          for await (const c of readChunks({ path: file, gz: false, live }, from, { chunkBytes })) {
            got.push(...chunkLines(c));
            end = c.endOffset;
          }
          const partial = tail !== '\n';
          expect(got).toEqual([...lines.slice(skip), ...(partial && !live ? ['partial'] : [])]);
          expect(end).toBe(Buffer.byteLength(text) - (partial && live ? 'partial'.length : 0));
        }
      }
    }
  }
});

it('hands a line longer than MAX_LINE_BYTES over (as its head when no buffer holds it), with the offset after its real end (plain and gzip)', async () => {
  const long = (n: number) => 'x'.repeat(n);
  const lines = ['first', long(MAX_LINE_BYTES + 1), 'between', long(300_000), long(3 * MAX_LINE_BYTES), 'last'];
  const text = lines.join('\n') + '\n';
  const plainFile = path.join(dir, 'long.log');
  const gzFile = path.join(dir, 'long.log.gz');
  writeFileSync(plainFile, text);
  writeFileSync(gzFile, gzipSync(text));
  const want = lines.map((l) => (l.length > MAX_LINE_BYTES ? l.slice(0, MAX_LINE_BYTES + 1) : l));
  for (const file of [{ path: plainFile, gz: false, live: true }, { path: gzFile, gz: true, live: false }]) {
    for (const chunkBytes of [4096, 1 << 16, 1 << 20]) {
      const got: string[] = [];
      let end = 0;
      for await (const c of readChunks(file, 0, { chunkBytes })) {
        got.push(...chunkLines(c));
        end = c.endOffset;
      }
      // Whole when the buffer holds it, else its head: either way the parser sees it is too long.
      expect(got.map((l) => l.slice(0, MAX_LINE_BYTES + 1)), `${file.path} ${chunkBytes}`).toEqual(want);
      expect(end).toBe(Buffer.byteLength(text));
    }
  }
  // Unfinished in a live file: left for the next run, like any incomplete line.
  writeFileSync(plainFile, 'a\n' + long(200_000));
  const live: string[] = [];
  for await (const c of readChunks({ path: plainFile, gz: false, live: true }, 0, { chunkBytes: 4096 })) live.push(...chunkLines(c));
  expect(live).toEqual(['a']);
});

it('reads a damaged .gz up to the damage and reports it once new text was read', async () => {
  const text = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'y'.repeat(i % 50)}`).join('\n') + '\n';
  const z = gzipSync(text);
  const file = { path: path.join(dir, 'cut.log.gz'), gz: true, live: false };
  writeFileSync(file.path, z.subarray(0, Math.floor(z.length * 0.6)));
  const damage: string[] = [];
  const got: string[] = [];
  let end = 0;
  for await (const c of readChunks(file, 0, { chunkBytes: 1 << 16, onDamage: (m) => damage.push(m) })) {
    got.push(...chunkLines(c));
    end = c.endOffset;
  }
  expect(damage).toEqual([expect.stringContaining('cut.log.gz is damaged')]);
  // Every whole line before the damage, then the part of the line it cut.
  const whole = got.slice(0, -1);
  expect(whole).toEqual(text.split('\n').slice(0, whole.length));
  expect(text.startsWith(got.join('\n'))).toBe(true);
  // A second read from where the first ended finds nothing new and stays quiet.
  const again: string[] = [];
  for await (const c of readChunks(file, end, { onDamage: (m) => damage.push(m) })) again.push(...chunkLines(c));
  expect(again).toEqual([]);
  expect(damage).toHaveLength(1);
});
