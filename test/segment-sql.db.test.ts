/**
 * The segments' SQL against their rules: the mcs150 SQL must agree with mcs150-rule.ts on generated
 * carriers and dates (year ends, October slots, leap Februaries, missing and future dates), and
 * each segment's carriersOnDays() with its carriers() run date by date.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { mcs150 } from '../src/segments/mcs150.ts';
import { mcs150Status } from '../src/segments/mcs150-rule.ts';
import { newCarrier } from '../src/segments/new-carrier.ts';
import type { Segment } from '../src/segments/segment.ts';
import { addDays } from '../src/warmup/calendar.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

interface Row {
  dot_number: number;
  mcs150_date: string | null;
  add_date: string | null;
  status: 'active' | 'inactive';
}

async function loadCarriers(store: TestStore, rows: Row[]) {
  await sql`truncate carriers`.execute(store.db);
  await sql`insert into carriers (dot_number, status, mcs150_date, add_date, source_format, source_file, source_line, first_run_id, changed_run_id)
    select u.dot, u.status, u.mcs, u.added, 'test', 'test', 0, 0, 0
    from unnest(${rows.map((r) => r.dot_number)}::bigint[], ${rows.map((r) => r.status)}::text[],
                ${rows.map((r) => r.mcs150_date)}::date[], ${rows.map((r) => r.add_date)}::date[]) as u(dot, status, mcs, added)`.execute(store.db);
}

describe('segment SQL', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  const day = fc.integer({ min: 0, max: 365 * 8 }).map((n) => addDays('2022-01-01', n));
  const carrierArb = fc.record({
    dot_number: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 10, max: 99 }), fc.integer({ min: 100, max: 4_500_000 })),
    mcs150_date: fc.option(day, { nil: null }),
    add_date: fc.option(day, { nil: null }),
    status: fc.constantFrom('active' as const, 'active' as const, 'inactive' as const),
  });

  it('mcs150 SQL agrees with the TypeScript rule on generated carriers and dates', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(carrierArb, { selector: (c) => c.dot_number, minLength: 1, maxLength: 60 }),
        day,
        fc.integer({ min: 0, max: 120 }),
        async (rows, date, leadDays) => {
          await loadCarriers(store, rows);
          const config = loadConfig({ env: {}, cwd: '/nonexistent', overrides: { segments: { mcs150: { leadDays } } } });
          const got = await mcs150.carriers({ config, date }).execute(store.db);
          const bySql = new Map(got.rows.map((r) => [r.dot_number, r.note]));
          for (const r of rows) {
            const v = r.status === 'active' ? mcs150Status(r, date, leadDays) : null;
            const expected = v ? (v.status === 'overdue' ? `overdue since ${v.deadline}` : `due ${v.deadline}`) : undefined;
            expect({ dot: r.dot_number, date, note: bySql.get(r.dot_number) }).toEqual({ dot: r.dot_number, date, note: expected });
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('new-carrier takes active carriers added in the last N days, the send date included', async () => {
    await loadCarriers(store, [
      { dot_number: 11, add_date: '2026-11-28', mcs150_date: null, status: 'active' },
      { dot_number: 12, add_date: '2026-10-30', mcs150_date: null, status: 'active' }, // day 30
      { dot_number: 13, add_date: '2026-10-29', mcs150_date: null, status: 'active' }, // day 31
      { dot_number: 14, add_date: '2026-11-27', mcs150_date: null, status: 'inactive' },
      { dot_number: 15, add_date: '2026-11-29', mcs150_date: null, status: 'active' }, // after the date
      { dot_number: 16, add_date: null, mcs150_date: null, status: 'active' },
    ]);
    const config = loadConfig({ env: {}, cwd: '/nonexistent' });
    const got = await newCarrier.carriers({ config, date: '2026-11-28' }).execute(store.db);
    expect(got.rows.map((r) => r.dot_number).sort()).toEqual([11, 12]);
    expect(got.rows.find((r) => r.dot_number === 11)?.note).toBe('added 2026-11-28');
  });

  for (const segment of [mcs150, newCarrier] as Segment[]) {
    it(`${segment.name}: carriersOnDays and carrierDays say what carriers() says date by date`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(carrierArb, { selector: (c) => c.dot_number, minLength: 1, maxLength: 60 }),
          day,
          fc.integer({ min: 1, max: 62 }),
          fc.integer({ min: 0, max: 120 }),
          fc.integer({ min: 1, max: 120 }),
          async (rows, from, n, leadDays, newDays) => {
            await loadCarriers(store, rows);
            const config = loadConfig({ env: {}, cwd: '/nonexistent', overrides: { segments: { mcs150: { leadDays }, 'new-carrier': { days: newDays } } } });
            const dates = Array.from({ length: n }, (_, i) => addDays(from, i));
            const expected = new Map<number, bigint>();
            for (const [i, date] of dates.entries())
              for (const r of (await segment.carriers({ config, date }).execute(store.db)).rows) expected.set(Number(r.dot_number), (expected.get(Number(r.dot_number)) ?? 0n) | (1n << BigInt(i)));
            const got = await segment.carriersOnDays!({ config, date: from }, dates).execute(store.db);
            const byDays = new Map(got.rows.map((r) => [Number(r.dot_number), BigInt(r.days)]));
            expect(got.rows.length).toBe(byDays.size); // one row per carrier
            expect({ from, n, byDays }).toEqual({ from, n, byDays: expected });
            // The same days as an expression over each carrier row (the kept static verdicts' scan).
            const perRow = await sql<{ dot_number: number; days: string }>`
              select dot_number, days::text as days from (select k.dot_number, ${segment.carrierDays!({ config, date: from }, dates, 'k')} as days from carriers k) t
              where days <> 0`.execute(store.db);
            expect({ from, n, byRow: new Map(perRow.rows.map((r) => [Number(r.dot_number), BigInt(r.days)])) }).toEqual({ from, n, byRow: expected });
          },
        ),
        { numRuns: 40 },
      );
    }, 120_000);
  }
});
