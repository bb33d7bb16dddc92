import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectFormat, type DetectedFormat } from '../../src/census/formats.ts';
import { RowTyper } from '../../src/census/row-typer.ts';
import { CensusScanner, type ScanOptions } from '../../src/census/scanner.ts';
import { writeInt } from '../../src/census/scan-bytes.ts';
import { REPO_ROOT } from '../helpers/samples.ts';
import { hostileText, pieces } from '../helpers/hostile-bytes.ts';

/**
 * The scanner's two paths agree: scanLine (a well-formed record of one line, field by field) and
 * scanRecord (the byte-state machine, which decides every other record). The reference scanner
 * sends every record through scanRecord; whatever the bytes and however the stream cuts them, both
 * give the same COPY rows, rejects (line, reason, raw text), e-mail hook calls and counts, in
 * Windows-1252 and UTF-8, with the real RowTyper.
 */
class ReferenceScanner extends CensusScanner {
  protected override scanLine(): number {
    return -1;
  }
}

function lines(file: string): { header: Buffer; rows: Buffer[] } {
  const text = readFileSync(path.join(REPO_ROOT, 'data-samples/census', file)).toString('latin1');
  const [header, ...rows] = text
    .split(/\r?\n/)
    .filter(Boolean)
    .map((l) => Buffer.from(l, 'latin1'));
  return { header: header!, rows };
}

const CENSUS1 = lines('FMCSA_CENSUS1_2026Nov.txt');
const COMPANY = lines('Company_Census_File_sample.csv');
/** The Company Census File's rows with every field quoted: UTF-8 bytes inside quotes. */
const COMPANY_QUOTED = {
  header: COMPANY.header,
  rows: COMPANY.rows.map((r) => {
    const [fields] = parse(r, { relax_quotes: true }) as string[][];
    return Buffer.from(fields!.map((f) => `"${f.replaceAll('"', '""')}"`).join(','), 'utf8');
  }),
};

function scan(Scanner: typeof CensusScanner, detected: DetectedFormat, bytes: Buffer, cuts: readonly number[], chunkBytes: number) {
  const writer = new RowTyper({ detected, config: { absurdCount: 100_000, absurdMileage: 1_000_000_000 }, pivot: 26, year: 2026, tail: { active: Buffer.from(','), inactive: Buffer.from(',2026-11-01') } });
  const rejects: string[] = [];
  const emails: string[] = [];
  const field = detected.positions.email_raw!;
  const o: ScanOptions = {
    fieldCount: detected.header.length,
    dotIndex: detected.positions.dot_number!,
    encoding: detected.format.encoding,
    firstLine: 2,
    writer,
    chunkBytes,
    onReject: (line, reason, raw) => rejects.push(`${line} ${reason.toString('latin1')} ${raw.toString('latin1')}`),
    onAccepted: (dot, buf, starts, ends) => emails.push(`${dot} ${buf.toString('latin1', starts[field], ends[field])}`),
  };
  const scanner = new Scanner(o);
  const out: Buffer[] = [];
  for (const p of pieces(bytes, cuts)) out.push(...scanner.push(p));
  out.push(...scanner.end());
  const { duplicateDots, ...counts } = scanner.stats;
  return { out: Buffer.concat(out).toString('latin1'), rejects, emails, counts, duplicates: [...duplicateDots] };
}

/** Damage the fast path must hand over or read exactly as the state machine does, at field edges. */
const FIELD_EDITS: [RegExp, string][] = [
  [/","/, '"\r,"'],
  [/","/, '",\r"'],
  [/","/, '"x,"'],
  [/","/, '""",""'],
  [/","/, '","",""'],
  [/","/, ',,'],
  [/","/, 'a""b","'],
  [/","/, 'a,b\r\nc","'],
  [/","/, 'a,\rb","'],
  [/","/, '"\n"'],
  [/","/, '\xc3\x91\xe2\x82\xac","'],
  [/","/, '\xc3","'],
  [/","/, '\x81","'],
  [/","/, '\x00","'],
  [/"$/, '"\r'],
  [/"$/, '"\r\r'],
  [/"$/, '""'],
  [/"$/, '",'],
  [/"$/, '","'],
  [/^"?\d+"?/, '"0"'],
  [/^"?\d+"?/, '12345678901234567'],
  [/^"?\d+"?/, '"007"'],
  [/^"?\d+"?/, ''],
];

function edited(samples: Buffer[]): fc.Arbitrary<Buffer> {
  const line = fc.tuple(fc.constantFrom(...samples), fc.integer({ min: -1, max: FIELD_EDITS.length - 1 })).map(([l, k]) => {
    if (k < 0) return l;
    const [re, to] = FIELD_EDITS[k]!;
    return Buffer.from(l.toString('latin1').replace(re, to), 'latin1');
  });
  return fc.tuple(fc.array(line, { maxLength: 25 }), fc.boolean(), fc.boolean()).map(([ls, crlf, finalBreak]) => {
    const sep = crlf ? '\r\n' : '\n';
    return Buffer.concat(ls.flatMap((l, i) => (i < ls.length - 1 || finalBreak ? [l, Buffer.from(sep)] : [l])));
  });
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 });

describe.each([
  ['FMCSA_CENSUS1 (Windows-1252)', CENSUS1],
  ['Company Census File (UTF-8)', COMPANY],
  ['Company Census File, every field quoted (UTF-8)', COMPANY_QUOTED],
])('census scanner paths, %s', (_name, sample) => {
  const detected = detectFormat(sample.header, 'paths.txt');

  it('the field-by-field path and the byte-state machine give the same rows, rejects and e-mail fields, however the bytes are cut', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText(sample.rows, { maxLines: 25 }), edited(sample.rows)), cuts, fc.constantFrom(64, 4096, 1 << 20), (body, at, chunkBytes) => {
        const fast = scan(CensusScanner, detected, body, at, chunkBytes);
        expect(fast).toEqual(scan(ReferenceScanner, detected, body, at, chunkBytes));
        // And the same as the whole file in one piece.
        expect(fast).toEqual(scan(CensusScanner, detected, body, [], 1 << 20));
      }),
      { numRuns: 60 },
    );
  });

  it('the sample itself: every line the same both ways, cut byte by byte at the start', () => {
    const body = Buffer.concat(sample.rows.flatMap((l) => [l, Buffer.from('\r\n')]));
    const fast = scan(CensusScanner, detected, body, Array.from({ length: 40 }, (_, i) => i / body.length), 256);
    expect(fast.counts.accepted).toBeGreaterThan(0);
    expect(fast).toEqual(scan(ReferenceScanner, detected, body, [], 256));
  });
});

describe('writeInt', () => {
  it('writes what String() writes, from 0 to 2^53', () => {
    const out = Buffer.alloc(32);
    const check = (n: number) => {
      expect(out.toString('latin1', 0, writeInt(out, 0, n))).toBe(String(n));
    };
    for (const n of [0, 1, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 99_999_999, 100_000_000, 100_000_001, 1e15, 2 ** 53 - 1]) check(n);
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), check), { numRuns: 2000 });
    fc.assert(fc.property(fc.nat(), check), { numRuns: 2000 });
  });
});
