/**
 * The cap decision reads addresses in rank-key order through a window that grows until its picks
 * are provably those of judging every candidate (src/push/reserve.ts). Over random universes —
 * tiers, holds that empty the best tier, suppressions, per-segment limits — a decision started
 * from a window of a few addresses must pick exactly what one window holding everything picks.
 */
import fc from 'fast-check';
import { sql, type Transaction } from 'kysely';
import type { Database } from '../src/db/database.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reserve } from '../src/push/reserve.ts';
import { RULES } from '../src/rules/index.ts';
import { SEGMENTS } from '../src/segments/index.ts';
import { addHold, addSuppression, DATE, fxConfig, NOW, seedUniverse, type FxCarrier, type FxDomain } from './build-fixture.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const DOMAINS: Record<string, FxDomain> = {
  'roadrunner-freight.test': { provider: 'google' },
  'lonestar-carriers.example': { provider: 'microsoft365' },
  'hotmail-like.example': { provider: 'outlook_consumer' },
  'mesa-trucking.test': { provider: 'other' },
  'defunct-freight.test': { verdict: 'dead', provider: null },
  'yahoo.com': { provider: 'yahoo' },
};
const domainNames = Object.keys(DOMAINS);

describe('rank window', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  async function picks(cap: number, maxPerSegment: number | null, firstRound?: { limit: number; window: number }, beforeLock?: (trx: Transaction<Database>) => Promise<void>) {
    const config = fxConfig({}, cap);
    return store.db.transaction().execute(async (trx) => {
      const r = await reserve(trx, {
        date: DATE, cap, runId: 1, segments: SEGMENTS, maxPerSegment, providerTiers: config.build.providerTiers,
        dryRun: true, rules: RULES, ruleCtx: { config, date: DATE, now: NOW }, ...(firstRound ? { firstRound } : {}), ...(beforeLock ? { beforeLock } : {}),
      });
      const rows = await sql<{ email: string; segment: string; rank: number }>`select email, segment, rank from pg_temp.picked order by rank`.execute(trx);
      return { picked: r.picked, rows: rows.rows, reselected: r.reselected };
    });
  }

  it('a window grown from a few addresses picks what judging every candidate picks', async () => {
    const carrierArb = fc.record({
      emails: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.constantFrom(...domainNames)).map(([i, d]) => `c${i}@${d}`), { minLength: 1, maxLength: 2 }),
      isNew: fc.boolean(),
      // Inactive carriers are in no segment: their addresses take window room without rows.
      inactive: fc.constantFrom(true, true, false),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(carrierArb, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 40 }),
        fc.option(fc.integer({ min: 1, max: 15 }), { nil: null }),
        fc.boolean(),
        fc.integer({ min: 1, max: 4 }),
        // A window much larger than the judged rows links only the best few addresses first.
        fc.integer({ min: 1, max: 40 }),
        async (cs, cap, maxPer, holdGoogle, first, window) => {
          const carriers: FxCarrier[] = cs.map((c, i) => ({
            dot: 1000 + i * 7,
            emails: c.emails,
            ...(c.isNew ? { added: '2026-11-20', mcs150: '2026-11-20' } : {}),
            ...(c.inactive ? { status: 'inactive' as const } : {}),
          }));
          await sql`truncate suppressions, holds, push_ledger`.execute(store.db);
          await seedUniverse(store.db, carriers, DOMAINS);
          await addSuppression(store.db, 'address', carriers[0]!.emails[0]!);
          if (holdGoogle) await addHold(store.db, 'provider', 'google', new Date(NOW.getTime() + 86_400_000));
          const everyone = await picks(cap, maxPer);
          const grown = await picks(cap, maxPer, { limit: first, window });
          expect(grown).toEqual(everyone);
          expect(everyone.reselected).toBe(false);
        },
      ),
      { numRuns: 12 },
    );
  }, 300_000);

  it('selects again under the lock when another build reserved during the unlocked selection', async () => {
    const carriers: FxCarrier[] = Array.from({ length: 6 }, (_, i) => ({ dot: 2000 + i * 10, emails: [`d${i}@roadrunner-freight.test`] }));
    await sql`truncate suppressions, holds, push_ledger`.execute(store.db);
    await seedUniverse(store.db, carriers, DOMAINS);
    const alone = await picks(3, null);
    expect(alone.rows).toHaveLength(3);
    const taken = alone.rows[0]!.email;
    // "Another build" reserves the best pick after this one selected and before it locks.
    const raced = await picks(3, null, undefined, async (trx) => {
      await sql`insert into push_ledger (send_date, segment, address, email_id, dot_number, rank, run_id)
        select ${DATE}::date, 'mcs150', address, id, 2000, 1, 99 from emails where address = ${taken}`.execute(trx);
    });
    expect(raced.reselected).toBe(true);
    expect(raced.rows.map((r) => r.email)).not.toContain(taken);
    expect(raced.rows).toHaveLength(2); // the cap of 3 counts the other build's reservation
    expect(raced.rows[0]!.rank).toBe(2); // ranks continue after the ledger's
  });
});
