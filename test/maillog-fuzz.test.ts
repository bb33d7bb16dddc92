import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Linker } from '../src/maillog/linker.ts';
import { LineParser, parseFile } from '../src/maillog/parse.ts';
import type { ParsedChunk } from '../src/maillog/records.ts';
import { SKIP_REASONS } from '../src/maillog/skipped-lines.ts';
import type { LogFile } from '../src/maillog/files.ts';
import { ZoneClock } from '../src/maillog/timestamp.ts';
import { REPO_ROOT } from './helpers/samples.ts';
import { hostileText } from './helpers/hostile-bytes.ts';

/**
 * Fuzzing the mail.log reader and parser with damaged files (issue #18): plain, live, gzip and
 * gzip cut short. Whatever the bytes: no throw; every line is read once and is either a syslog
 * line or skipped with a reason (counted, and listed when asked); the offset after the last chunk
 * is the end of what could be read (the checkpoint covers every byte); reading again from there
 * finds nothing; and no NUL reaches a string the linker stores.
 */
const SAMPLE = readFileSync(path.join(REPO_ROOT, 'data-samples/maillog/mail.log'));
const LINES = SAMPLE.toString('utf8').split('\n').filter(Boolean).map((l) => Buffer.from(l, 'utf8'));
const zone = new ZoneClock('America/Chicago');

let dir: string;
let n = 0;
beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'maillog-fuzz-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Kind = 'plain' | 'live' | 'gz' | 'cut-gz';

/** Writes the file; returns it and the text a reader can get out of it. */
function write(text: Buffer, kind: Kind, cut: number): { file: LogFile; readable: Buffer } {
  const name = path.join(dir, `f${n++}.log${kind.endsWith('gz') ? '.gz' : ''}`);
  if (kind === 'plain' || kind === 'live') {
    writeFileSync(name, text);
    return { file: { path: name, gz: false, live: kind === 'live' }, readable: text };
  }
  let z = gzipSync(text);
  if (kind === 'cut-gz') z = z.subarray(0, Math.floor(cut * z.length));
  writeFileSync(name, z);
  // What can be decompressed before the cut (a sync flush returns it without an error).
  const readable = z.length ? gunzipSync(z, { finishFlush: constants.Z_SYNC_FLUSH }) : Buffer.alloc(0);
  return { file: { path: name, gz: true, live: false }, readable };
}

async function readAll(file: LogFile, from: number, chunkBytes: number) {
  const parser = new LineParser();
  parser.keepSkipped = true;
  const linker = new Linker({ zone, campaignClients: new Map([['172.18.0.5', 'trucking']]), ownDomains: new Set(), maxOpen: 10_000, maxOpenAgeMs: 5 * 86_400_000 });
  const chunks: ParsedChunk[] = [];
  const damage: string[] = [];
  for await (const c of parseFile(parser, zone, file, { from, firstLineNo: 1, yearRef: new Date('2026-11-28T00:00:00Z'), chunkBytes, onDamage: (m) => damage.push(m) })) {
    chunks.push(c);
    linker.apply(c);
  }
  return { chunks, batch: linker.takeBatch(), state: JSON.stringify(linker.serialize()), damage };
}

describe('mail.log reader and parser fuzz', () => {
  it('every line read once and accounted for, the checkpoint at the end of what is readable, a second read empty', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileText(LINES, { huge: true, maxLines: 40 }),
        fc.constantFrom<Kind>('plain', 'live', 'gz', 'cut-gz'),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(4096, 1 << 16),
        async (text, kind, cut, chunkBytes) => {
          const { file, readable } = write(text, kind, cut);
          const { chunks, batch, state, damage } = await readAll(file, 0, chunkBytes);
          // Lines: every line break ends one; an unterminated last line counts unless the file is live.
          const breaks = readable.filter((c) => c === 0x0a).length;
          const partial = readable.length > 0 && readable[readable.length - 1] !== 0x0a;
          const expectedLines = breaks + (partial && !file.live ? 1 : 0);
          const lines = chunks.reduce((a, c) => a + c.lines, 0);
          expect(lines).toBe(expectedLines);
          const end = chunks.length ? chunks[chunks.length - 1]!.endOffset : 0;
          expect(end).toBe(file.live && partial ? readable.lastIndexOf(0x0a) + 1 : readable.length);
          // Skipped lines: counted per reason, listed with their number, each line at most once.
          const skipped = chunks.flatMap((c) => c.skipped);
          const counted = chunks.reduce((a, c) => a + SKIP_REASONS.reduce((s, r) => s + c.counts[r], 0), 0);
          expect(skipped).toHaveLength(counted);
          expect(new Set(skipped.map((s) => s.line)).size).toBe(skipped.length);
          for (const s of skipped) {
            expect(SKIP_REASONS).toContain(s.reason);
            expect(s.line).toBeGreaterThanOrEqual(1);
            expect(s.line).toBeLessThanOrEqual(lines);
            expect(s.raw).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/);
          }
          expect(batch.counts.lines).toBe(lines);
          // Nothing with a NUL reaches what is stored (events, the linker's saved state).
          expect(JSON.stringify(batch.events)).not.toContain('\\u0000');
          expect(state).not.toContain('\\u0000');
          if (kind !== 'cut-gz') expect(damage).toEqual([]);
          // The checkpoint covers everything: reading on from it finds nothing new.
          const again = await readAll(file, end, chunkBytes);
          expect(again.chunks.reduce((a, c) => a + c.lines, 0)).toBe(0);
        },
      ),
      { numRuns: 120 },
    );
  });
});
