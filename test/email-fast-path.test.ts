/**
 * normalizeField's fast path (one plain ASCII address) against its general path, which it must
 * equal on every input: the fields it takes and the ones next to them that it must leave alone.
 * And AddressIds, the first normalize's table of distinct addresses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressIds } from '../src/email/address-ids.ts';
import { normalizeField, normalizeFieldGeneral } from '../src/email/normalize.ts';

const unit = (set: string) => fc.constantFrom(...set);
// Characters of the plain shape and the ones right at its edges (wrappers, separators, dots, case, non-ASCII).
const near = unit('abcXYZ09._%+-@@..--"\'<>();:,/ \tmailtoMAILTO\u00e9\uff20\u3002\u200b!#$&*=?^`{|}~[]');
const plain = unit('abcdefgXYZ0123456789._%+-');

describe('normalizeField fast path', () => {
  it('equals the general path on fields of the plain shape and near it', () => {
    const field = fc.oneof(
      fc.tuple(fc.string({ unit: plain, minLength: 0, maxLength: 12 }), fc.string({ unit: plain, minLength: 0, maxLength: 14 })).map(([l, d]) => `${l}@${d}`),
      fc.string({ unit: near, maxLength: 30 }),
      fc.tuple(fc.string({ unit: near, maxLength: 4 }), fc.string({ unit: plain, maxLength: 10 }), fc.string({ unit: plain, maxLength: 10 }), fc.string({ unit: near, maxLength: 4 })).map(
        ([a, l, d, b]) => `${a}${l}@${d}${b}`,
      ),
    );
    fc.assert(
      fc.property(field, (raw) => {
        expect(normalizeField(raw)).toEqual(normalizeFieldGeneral(raw));
      }),
      { numRuns: 20_000 },
    );
  });

  it('judges the cases the census holds most alike', () => {
    for (const raw of ['Dispatch@Example.COM', 'a@gmail.con', '-x@example.com', 'a..b@example.com', 'a@b', 'a@-b.com', 'a@b.c0m', 'x@123.com', 'x@example.com.', 'mailto:x@example.com'])
      expect(normalizeField(raw)).toEqual(normalizeFieldGeneral(raw));
  });
});

describe('AddressIds', () => {
  it('gives each distinct address one id, in first-seen order, across growth and rehashing', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3000 }), (xs) => {
        const ids = new AddressIds();
        const ref = new Map<string, number>();
        for (const x of xs) {
          const got = ids.idOf(x);
          const known = ref.get(x);
          if (known === undefined) {
            ref.set(x, ref.size + 1);
            expect(got).toBe(-ref.size);
          } else expect(got).toBe(known);
        }
        expect(ids.size).toBe(ref.size);
      }),
      { numRuns: 50 },
    );
  });

  // Room for 400k at the start: the table grows within its array (rehashed in place); room for
  // the default 64k: it grows by new, longer arrays; room for 8M: the table starts with room for
  // an eighth of that, more than these addresses, and never grows.
  for (const capacity of [undefined, 400_000, 8_000_000]) {
    it(`holds 300k addresses, long and non-ASCII ones too (capacity ${capacity ?? 'default'})`, () => {
      const ids = new AddressIds(capacity);
      let wrong = 0;
      for (let i = 1; i <= 300_000; i++) if (ids.idOf(`user${i}@d${i % 97}.example`) !== -i) wrong++;
      for (let i = 1; i <= 300_000; i++) if (ids.idOf(`user${i}@d${i % 97}.example`) !== i) wrong++;
      expect(wrong).toBe(0);
      expect(ids.idOf('x'.repeat(5000) + '@\u00e9.example')).toBe(-300_001);
      expect(ids.idOf('x'.repeat(5000) + '@\u00e9.example')).toBe(300_001);
    });
  }
});
