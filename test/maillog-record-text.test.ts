import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { domainOf } from '../src/maillog/delivery.ts';
import { LineParser } from '../src/maillog/parse.ts';
import { INT_STRIDE, RecordText } from '../src/maillog/records.ts';
import { fnv1a } from '../src/text/fnv1a.ts';

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

  it("a record's queue-id hash is fnv1a of its bytes, and interning by it returns the queue id (either parse path)", () => {
    const parser = new LineParser();
    const lines = [
      'Nov 20 00:00:00 app1 postfix/smtpd[20001]: 1A2B3C4D21: client=unknown[172.18.0.5]',
      'Nov 20 00:00:02 app1 postfix/qmgr[1187]: 1A2B3C4D21: from=<bounces@firm-logistics.example>, size=20085, nrcpt=1 (queue active)',
      // Not a standard header: the string path writes the queue id.
      '<22>Nov 20 00:00:03 app1 postfix/qmgr[1187]: 3Fq9Zk5mwqz1xyz: removed',
    ];
    const cache: (string | undefined)[] = new Array(16);
    for (const bytePath of [true, false]) {
      parser.bytePath = bytePath;
      const qids: string[] = [];
      for (const [i, line] of lines.entries()) {
        const p = parser.parseString(line, i + 1);
        const text = new RecordText(p.bytes);
        for (let r = 0; r < p.n; r++) {
          const k = r * INT_STRIDE;
          expect(p.ints[k + 5]).toBe(fnv1a(p.bytes, text.at, p.ints[k + 3]!));
          qids.push(text.nextInternedHashed(p.ints[k + 3]!, p.ints[k + 5]!, cache));
          text.next(p.ints[k + 4]!, false);
        }
      }
      expect(qids).toEqual(['1A2B3C4D21', '1A2B3C4D21', '3Fq9Zk5mwqz1xyz']);
    }
  });

  it('UTF-8 fields decode as UTF-8', () => {
    const bytes = Buffer.from('qidjösé@bücher.example', 'utf8');
    const text = new RecordText(bytes);
    expect(text.next(3, false)).toBe('qid');
    expect(text.next(bytes.length, true)).toBe('jösé@bücher.example');
  });
});
