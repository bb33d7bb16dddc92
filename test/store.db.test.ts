import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore, type TestStore } from './helpers/store.ts';

describe('store', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
    await sql`create table copy_target (line_no bigint, name text, note text)`.execute(store.db);
  });
  afterAll(async () => {
    await store.close();
  });

  async function* chunks(parts: Uint8Array[]) {
    for (const p of parts) yield p;
  }

  it('copies CSV in Windows-1252 and UTF-8, with quotes, commas and empty fields', async () => {
    const cp1252 = Buffer.concat([Buffer.from('1,"JOS'), Buffer.from([0xc9]), Buffer.from(' PE'), Buffer.from([0xd1]), Buffer.from('A, ""EL TORO"" LLC",\n')]);
    const n1 = await store.copy({ table: 'copy_target', columns: ['line_no', 'name', 'note'], encoding: 'WIN1252' }, chunks([cp1252]));
    const n2 = await store.copy({ table: 'copy_target', columns: ['line_no', 'name', 'note'], encoding: 'UTF8' }, chunks([Buffer.from('2,"Café",x\n3,"",\n')]));
    expect([n1, n2]).toEqual([1, 2]);
    const rows = await sql<{ line_no: number; name: string | null; note: string | null }>`select * from copy_target order by line_no`.execute(store.db);
    expect(rows.rows).toEqual([
      { line_no: 1, name: 'JOSÉ PEÑA, "EL TORO" LLC', note: null },
      { line_no: 2, name: 'Café', note: 'x' },
      { line_no: 3, name: '', note: null },
    ]);
  });

  it('loads many chunks (more than one PGlite batch) without losing or duplicating rows', async () => {
    await sql`truncate copy_target`.execute(store.db);
    const big = Array.from({ length: 40 }, (_, c) => Buffer.from(Array.from({ length: 5000 }, (_, i) => `${c * 5000 + i},"name ${i}",${'x'.repeat(200)}\n`).join('')));
    const n = await store.copy({ table: 'copy_target', columns: ['line_no', 'name', 'note'], encoding: 'UTF8' }, chunks(big));
    expect(n).toBe(200_000);
    const r = await sql<{ n: number; d: number }>`select count(*) as n, count(distinct line_no) as d from copy_target`.execute(store.db);
    expect(r.rows[0]).toEqual({ n: 200_000, d: 200_000 });
  });

  it('returns int8 as numbers and dates as YYYY-MM-DD strings on both backends', async () => {
    const r = await sql<{ c: number; d: string }>`select count(*) as c, date '2026-11-28' as d from copy_target`.execute(store.db);
    expect(r.rows[0]).toEqual({ c: 200_000, d: '2026-11-28' });
  });

  it('withLock without waiting reports a lock held elsewhere', async () => {
    let inner: unknown;
    const outer = await store.withLock('test:lock', async () => {
      inner = await store.withLock('test:lock', async () => 'never', { wait: false });
      return 'outer';
    });
    expect(outer).toEqual({ acquired: true, value: 'outer' });
    // pg: advisory locks are re-entrant per session but the inner call uses another pooled session.
    expect(inner).toEqual({ acquired: false });
  });
});
