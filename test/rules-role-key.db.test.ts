/**
 * The role_account rule strips a '+' tag with string functions instead of a regular expression
 * (src/rules/role-account.ts: the regex cost ~1 s over a census-scale summary). Same key, checked
 * on generated local parts against the regexp_replace it replaced.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore, type TestStore } from './helpers/store.ts';

describe('role_account key', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  it('string functions strip the +tag as regexp_replace(local, (.)\\+.*$, \\1) did', async () => {
    const local = fc.array(fc.constantFrom('a', 'o', '+', '.', '-', '_', '1', 'no', 'reply', 'info'), { maxLength: 8 }).map((p) => p.join(''));
    await fc.assert(
      fc.asyncProperty(fc.array(local, { minLength: 1, maxLength: 50 }), async (ls) => {
        const r = await sql<{ l: string; regex: string; plain: string }>`
          select l, regexp_replace(l, '(.)\\+.*$', '\\1') as regex,
                 case when strpos(substr(l, 2), '+') > 0 then left(l, strpos(substr(l, 2), '+')) else l end as plain
          from unnest(${ls}::text[]) as l`.execute(store.db);
        for (const row of r.rows) expect(row.plain, row.l).toBe(row.regex);
      }),
      { numRuns: 30 },
    );
  });
});
