import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectFormat, type DetectedFormat } from '../../src/census/formats.ts';
import { RefreshWriter, StoredRows } from '../../src/census/refresh-writer.ts';
import { RowTyper } from '../../src/census/row-typer.ts';
import { CensusScanner, type RecordWriter } from '../../src/census/scanner.ts';
import { TYPED_COLUMNS } from '../../src/census/typed-columns.ts';
import { hostileLine, pieces } from '../helpers/hostile-bytes.ts';
import { REPO_ROOT } from '../helpers/samples.ts';

/**
 * The refresh's untyped skip (RefreshWriter.skipUnchanged, issue #15): a line whose digest equals
 * its carrier's line_hash is left out before the scanner checks or types it. Held, over damaged
 * months made from the lines of a month before (kept, dropped, replaced, repeated, CRLF or LF),
 * to the scan that checks and types every line: the same COPY bytes, counts, duplicate DOT
 * numbers, rows left out and their newest dates, carriers listed and gone; and, typed in another
 * context (two-digit-year pivot, header), to nothing left out untyped at all.
 */
const SAMPLE = readFileSync(path.join(REPO_ROOT, 'data-samples/census/FMCSA_CENSUS1_2026Nov.txt'));
const [HEADER, ...ROWS] = SAMPLE.toString('latin1').split(/\r?\n/).filter(Boolean).map((l) => Buffer.from(l, 'latin1'));
const DETECTED = detectFormat(HEADER!, 'skip.txt');
// The same columns with FAX and EMAIL_ADDRESS named otherwise upper-case: another header, the same positions.
const OTHER_HEADER = detectFormat(Buffer.from(HEADER!.toString('latin1').replace('"FAX"', '"fax"')), 'skip.txt');
const NOT_AFTER = '2026-11-30';
const EPOCH_2000 = Date.UTC(2000, 0, 1);

const typer = (o: { pivot?: number; detected?: DetectedFormat } = {}) =>
  new RowTyper({ detected: o.detected ?? DETECTED, config: { absurdCount: 100_000, absurdMileage: 1_000_000_000 }, pivot: o.pivot ?? 26, year: 2026 });

function scanner(writer: RecordWriter): CensusScanner {
  return new CensusScanner({ fieldCount: DETECTED.header.length, dotIndex: DETECTED.positions.dot_number!, encoding: 'WIN1252', firstLine: 2, writer, chunkBytes: 4096 });
}

const join = (lines: Buffer[], crlf: boolean) => Buffer.concat(lines.flatMap((l) => [l, Buffer.from(crlf ? '\r\n' : '\n')]));
const days = (iso: string) => (iso ? Math.round((Date.parse(`${iso}T00:00:00Z`) - EPOCH_2000) / 86_400_000) : undefined);

type Stored = { dot: number; hash: number; line: number; active: boolean; mcs150?: number; add?: number };

/**
 * What carriers hold after a load of `body` typed by `t`: each DOT number's last good row (a later
 * line supersedes), its digests, status and dates; `damage` marks rows whose line_hash or
 * row_hash is unknown (loaded before the column, cleared).
 */
function loaded(body: Buffer, t: RowTyper, damage: (i: number) => 'line' | 'row' | null): Stored[] {
  const s = scanner(t);
  const typed = Buffer.concat([...s.push(body), ...s.end()]);
  const rows = parse(typed, { encoding: 'latin1' }) as string[][];
  const col = (name: (typeof TYPED_COLUMNS)[number]) => TYPED_COLUMNS.indexOf(name);
  const byDot = new Map<number, Stored>();
  for (const r of rows) {
    if (r[col('reject')]) continue;
    byDot.set(Number(r[col('dot_number')]), {
      dot: Number(r[col('dot_number')]),
      hash: Number(r[col('row_hash')]),
      line: Number(r[col('line_hash')]),
      active: r[col('status')] !== 'inactive',
      mcs150: days(r[col('mcs150_date')]!),
      add: days(r[col('add_date')]!),
    });
  }
  return [...byDot.values()].map((x, i) => {
    const d = damage(i);
    return d === 'line' ? { ...x, line: -1 } : d === 'row' ? { ...x, hash: -1 } : x;
  });
}

/** StoredRows as StoredRows.load reads them: the rows in `order` (the heap's), then sorted. */
function storedRows(rows: Stored[], order: number[]): StoredRows {
  const s = new StoredRows();
  for (const i of order) {
    const r = rows[i]!;
    s.add(r.dot, r.hash, r.line, r.active, r.mcs150, r.add);
  }
  s.sortTail();
  return s;
}

/** A scan of `body` by the refresh's writer, with the untyped skip or without it (every line checked and typed). */
function refreshScan(body: Buffer, stored: StoredRows, t: RowTyper, skip: boolean, cuts: readonly number[] = []) {
  const rw = new RefreshWriter(t, stored, 0, NOT_AFTER);
  const writer: RecordWriter = skip
    ? rw
    : {
        valueColumns: rw.valueColumns,
        overhead: rw.overhead,
        get reject() {
          return rw.reject;
        },
        write: (buf, starts, ends, out, pos) => rw.write(buf, starts, ends, out, pos),
      };
  const sc = scanner(writer);
  const out: Buffer[] = [];
  for (const p of pieces(body, cuts)) out.push(...sc.push(p));
  out.push(...sc.end());
  const dots = ROWS.map((r) => Number(/^\d+/.exec(r.toString('latin1'))![0]));
  return {
    result: {
      out: Buffer.concat(out).toString('latin1'),
      read: sc.stats.read,
      accepted: sc.stats.accepted,
      rejected: sc.stats.rejected,
      duplicates: [...sc.stats.duplicateDots].sort((a, b) => a - b),
      leftOut: rw.leftOut,
      dates: rw.leftOutDates(),
      gone: stored.gone(),
      leftOutEach: dots.map((d) => rw.leftOutAny([d])),
    },
    untyped: rw.leftOutUntyped,
  };
}

/** A month made from the lines of the one before: kept as they were (most), dropped, replaced by another (damaged) line, or repeated. */
const nextMonth = (before: Buffer[]) =>
  fc.array(fc.oneof({ weight: 6, arbitrary: fc.nat({ max: Math.max(0, before.length - 1) }).map((i) => before[i] ?? Buffer.alloc(0)) }, { weight: 2, arbitrary: hostileLine(ROWS) }), {
    maxLength: 40,
  });

const month = fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ROWS) }, { weight: 1, arbitrary: hostileLine(ROWS) }), { minLength: 1, maxLength: 40 }).chain((lines) =>
  fc.record({
    lines: fc.constant(lines),
    next: nextMonth(lines),
    crlf: fc.tuple(fc.boolean(), fc.boolean()),
    damage: fc.array(fc.constantFrom<'line' | 'row' | null>(null, null, null, null, 'line', 'row'), { minLength: 1, maxLength: 8 }),
    order: fc.array(fc.nat({ max: 80 }), { maxLength: 80 }),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
  }),
);

const RUNS = { numRuns: 60 };

describe('RefreshWriter.skipUnchanged: a line left out untyped', () => {
  it('leaves the scan as it is when every line is checked and typed, however the stream is cut', () => {
    let untyped = 0;
    fc.assert(
      fc.property(month, ({ lines, next, crlf, damage, order, cuts }) => {
        const rows = loaded(join(lines, crlf[0]), typer(), (i) => damage[i % damage.length]!);
        // Every stored row once, some moved to the end (as a heap after merges).
        const moved = [...new Set(order.filter((i) => i < rows.length))];
        const heap = [...[...rows.keys()].filter((i) => !moved.includes(i)), ...moved];
        const body = join(next, crlf[1]);
        const fast = refreshScan(body, storedRows(rows, heap), typer(), true, cuts);
        const slow = refreshScan(body, storedRows(rows, heap), typer(), false);
        expect(fast.result).toEqual(slow.result);
        expect(fast.untyped).toBeLessThanOrEqual(fast.result.leftOut);
        untyped += fast.untyped;
      }),
      RUNS,
    );
    // The property above held with lines actually left out untyped.
    expect(untyped).toBeGreaterThan(20);
  });

  it('leaves no line out untyped when the typing context changed (pivot, header), and the scan is still the full one', () => {
    fc.assert(
      fc.property(month, fc.constantFrom<'pivot' | 'header'>('pivot', 'header'), ({ lines, next, crlf }, change) => {
        const rows = loaded(join(lines, crlf[0]), typer(), () => null);
        const now = change === 'pivot' ? typer({ pivot: 30 }) : typer({ detected: OTHER_HEADER });
        const body = join(next, crlf[1]);
        const heap = [...rows.keys()];
        const fast = refreshScan(body, storedRows(rows, heap), now, true);
        const slow = refreshScan(body, storedRows(rows, heap), now, false);
        expect(fast.untyped).toBe(0);
        expect(fast.result).toEqual(slow.result);
      }),
      { numRuns: 30 },
    );
  });
});
