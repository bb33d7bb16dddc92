import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chunkLines, readChunks } from '../src/maillog/reader.ts';

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
