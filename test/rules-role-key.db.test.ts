/**
 * The role_account rule strips a '+' tag with string functions instead of a regular expression
 * (src/rules/role-account.ts: the regex cost ~1 s over a census-scale summary), and runs the
 * no-reply pattern only on keys that start as its matches do. Same key and same verdict, checked
 * on generated local parts against the regexp_replace and the bare pattern they replaced.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_EXCLUDED_LOCAL_PARTS, ALWAYS_EXCLUDED_PATTERN, ROLE_LOCAL_PARTS } from '../src/email/role-accounts.ts';
import { alwaysExcluded, keyStarts, localKey } from '../src/rules/role-account.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

describe('role_account key', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  it('string functions strip the +tag as regexp_replace(local, (.)\\+.*$, \\1) did, and the prefix test keeps the no-reply verdict', async () => {
    const local = fc
      .array(fc.constantFrom('a', 'o', 'd', 'n', '+', '.', '-', '_', '1', 'no', 'do', 'not', 'reply', 'info', 'abuse'), { maxLength: 8 })
      .map((p) => p.join(''));
    await fc.assert(
      fc.asyncProperty(fc.array(local, { minLength: 1, maxLength: 50 }), async (ls) => {
        const r = await sql<{ l: string; regex: string; plain: string; always: boolean; bare: boolean }>`
          select l, k.regex, k.plain, ${alwaysExcluded(sql`k.plain`)} as always,
                 (k.regex = any(${[...ALWAYS_EXCLUDED_LOCAL_PARTS]}::text[]) or k.regex ~ ${ALWAYS_EXCLUDED_PATTERN}) as bare
          from unnest(${ls}::text[]) as l
          cross join lateral (select regexp_replace(l, '(.)\\+.*$', '\\1') as regex, ${localKey(sql`l || '@carrier.test'`)} as plain) k`.execute(store.db);
        for (const row of r.rows) {
          expect(row.plain, row.l).toBe(row.regex);
          expect(row.always, row.l).toBe(row.bare);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('the first-two-characters filter keeps every address whose key the rule excludes (short keys, leading +, tags)', async () => {
    const keys = [...ALWAYS_EXCLUDED_LOCAL_PARTS, ...ROLE_LOCAL_PARTS, 'x'];
    const starts = keyStarts(keys);
    const local = fc
      .array(fc.constantFrom('a', 'x', 'p', 'r', 'i', 'n', 'd', '+', '.', '-', '_', '1', 'no', 'do', 'not', 'reply', 'info', 'ap', 'abuse', 'postmaster'), { maxLength: 6 })
      .map((p) => p.join(''));
    // Every key with a tag, and the short and odd shapes, besides the generated ones.
    const known = [...keys.flatMap((k) => [k, `${k}+tag`, `+${k}`]), '', '+', '++x', 'x+', '+x+y', 'no-reply7', 'do_not_reply.x'];
    let matched = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(local, { minLength: 1, maxLength: 50 }).map((ls) => [...ls, ...known]), async (ls) => {
        const r = await sql<{ email: string; hit: boolean; kept: boolean }>`
          select email, (${alwaysExcluded(sql`k.key`)} or k.key = any(${keys}::text[])) as hit,
                 (left(email, 2) = any(${starts}::text[]) or strpos(left(email, 2), '@') > 0 or strpos(left(email, 2), '+') > 0) as kept
          from (select l || '@carrier.test' as email from unnest(${ls}::text[]) as l) a
          cross join lateral (select ${localKey(sql`a.email`)} as key) k`.execute(store.db);
        for (const row of r.rows) {
          if (row.hit) matched++;
          expect(!row.hit || row.kept, row.email).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
    expect(matched).toBeGreaterThan(60 * keys.length);
  });
});
