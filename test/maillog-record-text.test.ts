import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { domainOf } from '../src/maillog/delivery.ts';
import { RecordText } from '../src/maillog/records.ts';

/** The linker reads record strings from bytes, some interned: they must be the strings decoding gives. */
describe('RecordText', () => {
  const ascii = fc.string({ unit: fc.constantFrom('a', 'B', '@', '.', '-', '1', '+', '_') });

  it('nextDomain is domainOf of the decoded address, and interning returns equal strings', () => {
    fc.assert(
      fc.property(fc.array(ascii, { minLength: 1, maxLength: 20 }), (addresses) => {
        const bytes = Buffer.from(addresses.join(''), 'latin1');
        const cache: (string | undefined)[] = new Array(8);
        const text = new RecordText(bytes);
        let end = 0;
        for (const a of addresses) {
          const start = text.at;
          end += a.length;
          expect(text.nextDomain(end, cache)).toBe(domainOf(a));
          expect(text.decode(start, end, false)).toBe(a);
        }
        const again = new RecordText(bytes);
        end = 0;
        for (const a of addresses) expect(again.nextInterned((end += a.length), cache)).toBe(a);
      }),
    );
  });

  it('UTF-8 fields decode as UTF-8', () => {
    const bytes = Buffer.from('qidjösé@bücher.example', 'utf8');
    const text = new RecordText(bytes);
    expect(text.next(3, false)).toBe('qid');
    expect(text.next(bytes.length, true)).toBe('jösé@bücher.example');
  });
});
