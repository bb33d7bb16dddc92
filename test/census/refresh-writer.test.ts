import { describe, expect, it } from 'vitest';
import { StoredRows } from '../../src/census/refresh-writer.ts';
import { rowHash, rowHashSeed } from '../../src/census/row-hash.ts';
import { mulberry32 } from '../helpers/prng.ts';

describe('StoredRows: the stored digests the refresh looks up', () => {
  it('finds every carrier whatever order the table returned them in, and lists the gone ones in DOT order', () => {
    const rnd = mulberry32(5);
    const dots = Array.from({ length: 5000 }, (_, i) => 1000 + i * 3);
    // The heap order after merges: mostly ascending, the rows a merge moved at the end.
    const moved = new Set(dots.filter(() => rnd() < 0.05));
    const order = [...dots.filter((d) => !moved.has(d)), ...[...moved].sort(() => rnd() - 0.5)];
    const rows = new StoredRows();
    for (const d of order) rows.add(d, d * 7, d % 10 !== 0);
    rows.sortTail();
    expect(rows.size).toBe(dots.length);
    expect(rows.active).toBe(dots.filter((d) => d % 10 !== 0).length);
    // Looked up in file order, with some out of order and some missing.
    const lookups = [...dots, 999, 1001, 2500, ...dots.slice(0, 50).reverse(), 1e9];
    for (const d of lookups) {
      const i = rows.find(d);
      if (dots.includes(d)) expect(rows.hashAt(i), String(d)).toBe(d * 7);
      else expect(i, String(d)).toBe(-1);
    }
    const fresh = new StoredRows();
    for (const d of order) fresh.add(d, 0, d % 10 !== 0);
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
