import { describe, expect, it } from 'vitest';
import { StoredRows } from '../../src/census/refresh-writer.ts';
import { lineContext, lineDigest, rowHash, rowHashSeed } from '../../src/census/row-hash.ts';
import { mulberry32 } from '../helpers/prng.ts';

describe('StoredRows: the stored digests the refresh looks up', () => {
  it('finds every carrier whatever order the table returned them in, and lists the gone ones in DOT order', () => {
    const rnd = mulberry32(5);
    const dots = Array.from({ length: 5000 }, (_, i) => 1000 + i * 3);
    // The heap order after merges: mostly ascending, the rows a merge moved at the end.
    const moved = new Set(dots.filter(() => rnd() < 0.05));
    const order = [...dots.filter((d) => !moved.has(d)), ...[...moved].sort(() => rnd() - 0.5)];
    const rows = new StoredRows();
    for (const d of order) rows.add(d, d * 7, d * 11, d % 10 !== 0, d % 997, (d % 13) - 6);
    rows.sortTail();
    expect(rows.size).toBe(dots.length);
    expect(rows.active).toBe(dots.filter((d) => d % 10 !== 0).length);
    // Looked up in file order, with some out of order and some missing.
    const lookups = [...dots, 999, 1001, 2500, ...dots.slice(0, 50).reverse(), 1e9];
    for (const d of lookups) {
      const i = rows.find(d);
      if (dots.includes(d)) expect([rows.hashAt(i), rows.lineAt(i), rows.mcs150At(i), rows.addDateAt(i)], String(d)).toEqual([d * 7, d * 11, d % 997, (d % 13) - 6]);
      else expect(i, String(d)).toBe(-1);
    }
    // Read as two halves of the heap at once (StoredRows.load on PostgreSQL), then merged: the same rows.
    const half = order.length >> 1;
    const [a, b] = [order.slice(0, half), order.slice(half)].map((part) => {
      const r = new StoredRows();
      for (const d of part) r.add(d, d * 7, d * 11, d % 10 !== 0, d % 997, (d % 13) - 6);
      r.sortTail();
      return r;
    });
    const merged = StoredRows.merge(a!, b!);
    expect([merged.size, merged.active]).toEqual([rows.size, rows.active]);
    for (const d of lookups) {
      const i = merged.find(d);
      if (dots.includes(d)) expect([merged.hashAt(i), merged.lineAt(i), merged.mcs150At(i), merged.addDateAt(i)], String(d)).toEqual([d * 7, d * 11, d % 997, (d % 13) - 6]);
      else expect(i, String(d)).toBe(-1);
    }
    const fresh = new StoredRows();
    for (const d of order) fresh.add(d, 0, 0, d % 10 !== 0);
    fresh.sortTail();
    for (const d of dots.filter((_, k) => k % 2 === 0)) fresh.list(fresh.find(d));
    expect(fresh.gone()).toEqual(dots.filter((d, k) => k % 2 === 1 && d % 10 !== 0));
  });
});

describe('rowHash: the digest of a typed row', () => {
  it('is a whole number below 2^53 that tells apart one changed byte and the encoding', () => {
    const row = Buffer.from('ACME TRUCKING LLC,,active,A,f,f,12 MAIN ST,TULSA,OK,74107,US,,,,,,9185551234,A@B.COM,2024-01-05,1000,2023,2001-03-04,2,3,{},f', 'latin1');
    const seed = rowHashSeed('WIN1252');
    const h = rowHash(row, 0, row.length, seed);
    expect(Number.isSafeInteger(h) && h >= 0).toBe(true);
    expect(rowHash(Buffer.from(row), 0, row.length, seed)).toBe(h);
    for (let i = 0; i < row.length; i++) {
      const other = Buffer.from(row);
      other[i] = other[i]! ^ 1;
      expect(rowHash(other, 0, other.length, seed), `byte ${i}`).not.toBe(h);
    }
    expect(rowHash(row, 0, row.length - 1, seed)).not.toBe(h);
    expect(rowHash(row, 0, row.length, rowHashSeed('UTF8'))).not.toBe(h);
  });
});

describe('lineDigest: the digest of a census line in what its typing depended on', () => {
  const line = Buffer.from('3900011,"ROADRUNNER FREIGHT LLC","","A","N","N","100 INDUSTRIAL PKWY","TULSA","OK","74107"', 'latin1');
  const base = { format: 'fmcsa_census1', encoding: 'WIN1252' as const, header: ['DOT_NUMBER', 'LEGAL_NAME'], firstYear: 1927, absurdCount: 100_000, absurdMileage: 1_000_000_000 };
  it('is a whole number below 2^53, the same for the same line and context, other for another byte or any other context', () => {
    const h = lineDigest(line, 0, line.length, lineContext(base));
    expect(Number.isSafeInteger(h) && h >= 0).toBe(true);
    expect(lineDigest(Buffer.from(line), 0, line.length, lineContext({ ...base, header: [...base.header] }))).toBe(h);
    for (let i = 0; i < line.length; i++) {
      const other = Buffer.from(line);
      other[i] = other[i]! ^ 0x20;
      expect(lineDigest(other, 0, other.length, lineContext(base)), `byte ${i}`).not.toBe(h);
    }
    const others = [
      { ...base, format: 'fmcsa_census1_socrata' },
      { ...base, encoding: 'UTF8' as const },
      { ...base, header: ['DOT_NUMBER', 'LEGAL_NAME', 'FAX'] },
      { ...base, header: ['LEGAL_NAME', 'DOT_NUMBER'] },
      { ...base, firstYear: 1926 },
      { ...base, absurdCount: 99_999 },
      { ...base, absurdMileage: 999_999_999 },
    ];
    const digests = others.map((c) => lineDigest(line, 0, line.length, lineContext(c)));
    expect(new Set([h, ...digests]).size).toBe(others.length + 1);
    for (const d of digests) expect(Number.isSafeInteger(d) && d >= 0).toBe(true);
  });
});
