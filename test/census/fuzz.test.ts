import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/census/formats.ts';
import { openDetected } from '../../src/census/load-file.ts';
import { RowTyper } from '../../src/census/row-typer.ts';
import { CensusScanner, MAX_RECORD_LINES, type RecordWriter } from '../../src/census/scanner.ts';
import { InputError } from '../../src/errors.ts';
import { REPO_ROOT } from '../helpers/samples.ts';
import { hostileText, pieces } from '../helpers/hostile-bytes.ts';

/**
 * Fuzzing the census scanner with damaged files (issue #18): whatever the bytes, the scan does not
 * throw, and every physical line is accounted for: it starts an accepted record, is rejected with
 * a reason, is blank, or continues the accepted record before it (a quoted field spanning lines).
 * The result does not depend on how the stream cuts the bytes. A cut-short .gz is an InputError.
 */
const SAMPLE = readFileSync(path.join(REPO_ROOT, 'data-samples/census/FMCSA_CENSUS1_2026Nov.txt'));
const [HEADER, ...ROWS] = SAMPLE.toString('latin1').split(/\r?\n/).filter(Boolean).map((l) => Buffer.from(l, 'latin1'));
const detected = detectFormat(HEADER!, 'fuzz.txt');

interface Scan {
  accepted: number[];
  rejected: { line: number; reason: string }[];
  out: Buffer;
  stats: CensusScanner['stats'];
}

function scan(bytes: Buffer, cuts: readonly number[]): Scan {
  const typer = new RowTyper({ detected, config: { absurdCount: 100_000, absurdMileage: 1_000_000_000 }, pivot: 26, year: 2026 });
  const accepted: number[] = [];
  // The real writer, watched: the line of each record it typed.
  const writer: RecordWriter = {
    valueColumns: typer.valueColumns,
    overhead: typer.overhead,
    get reject() {
      return typer.reject;
    },
    write(buf, starts, ends, out, pos, line) {
      const r = typer.write(buf, starts, ends, out, pos);
      if (r >= 0) accepted.push(line);
      return r;
    },
  };
  const rejected: { line: number; reason: string }[] = [];
  const scanner = new CensusScanner({
    fieldCount: detected.header.length,
    dotIndex: detected.positions.dot_number!,
    encoding: 'WIN1252',
    firstLine: 2,
    writer,
    chunkBytes: 4096,
    onReject: (line, reason) => rejected.push({ line, reason: reason.toString('latin1') }),
  });
  const out: Buffer[] = [];
  for (const p of pieces(bytes, cuts)) out.push(...scanner.push(p));
  out.push(...scanner.end());
  return { accepted, rejected, out: Buffer.concat(out), stats: scanner.stats };
}

// Each scan allocates the scanner's 8 MB DOT-number bitmap: runs are bounded to keep the file at a few seconds.
const RUNS = { numRuns: 80 };

describe('census scanner fuzz', () => {
  it('never throws; every line is accepted, rejected with a reason, blank, or part of the accepted record before it; chunking changes nothing', () => {
    fc.assert(
      fc.property(hostileText(ROWS, { maxLines: 30 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), (body, cuts) => {
        const whole = scan(body, []);
        const cut = scan(body, cuts);
        expect(cut.out.equals(whole.out)).toBe(true);
        expect(cut.rejected).toEqual(whole.rejected);
        expect(cut.accepted).toEqual(whole.accepted);

        const { accepted, rejected, stats } = whole;
        expect(stats.read).toBe(stats.accepted + stats.rejected);
        expect(accepted).toHaveLength(stats.accepted);
        expect(rejected).toHaveLength(stats.rejected);
        for (const r of rejected) expect(r.reason).toMatch(/^"[a-z_]+: ./);

        const physical = body.toString('latin1').split('\n');
        if (physical[physical.length - 1] === '') physical.pop();
        const kind = new Map<number, 'accepted' | 'rejected'>();
        for (const l of accepted) kind.set(l, 'accepted');
        for (const r of rejected) {
          expect(kind.has(r.line), `line ${r.line} counted twice`).toBe(false);
          kind.set(r.line, 'rejected');
        }
        const starts = [...kind.keys()].sort((a, b) => a - b);
        for (let i = 0; i < physical.length; i++) {
          const line = i + 2; // the header is line 1
          if (kind.has(line) || physical[i] === '' || physical[i] === '\r') continue;
          // A line no record starts on continues the accepted record before it.
          const before = starts.filter((s) => s < line).pop();
          expect(before, `line ${line} is accounted for`).toBeDefined();
          expect(kind.get(before!), `line ${line} continues a record`).toBe('accepted');
          expect(line - before!).toBeLessThan(MAX_RECORD_LINES);
        }
        expect(starts.every((l) => l >= 2 && l <= physical.length + 1)).toBe(true);
      }),
      RUNS,
    );
  });

  it('a field of a hundred kilobytes is rejected (field_too_long or a scan reason), never loaded', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ROWS.length - 1 }), fc.integer({ min: 241, max: 150_000 }), (i, n) => {
        const row = ROWS[i]!.toString('latin1').replace(/^(\d+),"[^"]*"/, (_m, dot: string) => `${dot},"${'N'.repeat(n)}"`);
        const r = scan(Buffer.from(row + '\n', 'latin1'), []);
        expect(r.accepted).toEqual([]);
        expect(r.rejected).toEqual([{ line: 2, reason: expect.stringMatching(/^"field_too_long: LEGAL_NAME is \d+ bytes, at most 240"$/) }]);
      }),
      { numRuns: 20 },
    );
  });
});

describe('damaged compressed census files', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'census-fuzz-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a .gz cut anywhere, or with a damaged byte, is read whole or refused with an InputError', async () => {
    const gz = gzipSync(SAMPLE);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: gz.length }), fc.option(fc.tuple(fc.integer({ min: 0, max: gz.length - 1 }), fc.integer({ min: 1, max: 255 }))), async (cut, flip) => {
        const bytes = Buffer.from(gz.subarray(0, cut));
        if (flip && flip[0] < bytes.length) bytes[flip[0]]! ^= flip[1];
        const file = path.join(dir, `f${n++}.txt.gz`);
        writeFileSync(file, bytes);
        try {
          const opened = await openDetected(file);
          try {
            for await (const _ of opened.rest);
          } finally {
            opened.stream.destroy();
          }
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
        }
      }),
      { numRuns: 60 },
    );
  });
});
