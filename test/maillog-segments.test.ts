import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogFile } from '../src/maillog/files.ts';
import { chunkLines } from '../src/maillog/reader.ts';
import { planSegments, segmentChunks } from '../src/maillog/segments.ts';

/**
 * Segments are read by different threads, each finding its own start and end: together they must
 * hold every line of the file once, in order, with the offsets a plain read gives.
 */
let dir: string;
beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'segments-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function linesBySegments(file: LogFile, from: number, bytes: number, chunkBytes: number) {
  const plan = planSegments(file, from, statSync(file.path).size, bytes);
  const lines: string[] = [];
  let offset = from;
  for (let k = 0; k < plan.count; k++) {
    for await (const c of segmentChunks(plan, k, chunkBytes)) {
      lines.push(...chunkLines(c));
      expect(c.endOffset).toBeGreaterThan(offset);
      offset = c.endOffset;
    }
  }
  return { lines, offset, count: plan.count };
}

function write(name: string, text: string): LogFile {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return { path: p, gz: false, live: false };
}

describe('segments of a plain log', () => {
  const all = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat((i * 37) % 90)}`);
  const text = all.join('\n') + '\n';

  it('hold every line once, in order, whatever the segment and chunk sizes', async () => {
    const file = write('a.log', text);
    for (const bytes of [1, 37, 333, 4096, 1 << 20]) {
      for (const chunkBytes of [16, 4096]) {
        const r = await linesBySegments(file, 0, bytes, chunkBytes);
        expect(r.lines, `segments of ${bytes}, chunks of ${chunkBytes}`).toEqual(all);
        expect(r.offset).toBe(Buffer.byteLength(text));
      }
    }
  });

  it('start at a checkpoint and end at a line boundary', async () => {
    const file = write('b.log', text);
    const from = Buffer.byteLength(all.slice(0, 123).join('\n') + '\n');
    const r = await linesBySegments(file, from, 333, 128);
    expect(r.lines).toEqual(all.slice(123));
  });

  it('a line longer than a segment leaves the segments it spans empty', async () => {
    const long = ['short', 'y'.repeat(5000), 'after'];
    const file = write('c.log', long.join('\n') + '\n');
    const r = await linesBySegments(file, 0, 512, 256);
    expect(r.count).toBeGreaterThan(5);
    expect(r.lines).toEqual(long);
  });

  it("the live file's incomplete last line waits; a rotated file's is read", async () => {
    const partial = 'one\ntwo\nthr';
    const live = { ...write('d.log', partial), live: true };
    expect((await linesBySegments(live, 0, 3, 16)).lines).toEqual(['one', 'two']);
    expect((await linesBySegments({ ...live, live: false }, 0, 3, 16)).lines).toEqual(['one', 'two', 'thr']);
  });

  it('nothing new past the checkpoint: no segment', () => {
    expect(planSegments({ path: '/x', gz: false, live: true }, 100, 100, 10).count).toBe(0);
    expect(planSegments({ path: '/x.gz', gz: true, live: false }, 100, 50, 10).count).toBe(1);
  });
});
