/**
 * The first safety invariant (no Yahoo family) as properties: no Yahoo-family address survives normalization
 * as a valid non-Yahoo address, in any spelling. Plus: valid addresses round-trip, normalization
 * is idempotent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeAddress, normalizeField } from '../src/email/normalize.ts';
import { YAHOO_FAMILY_DOMAINS, yahooFamilyMatch } from '../src/email/yahoo-family.ts';

const isYahooFamilyDomain = (domain: string) => yahooFamilyMatch(domain) !== null;

const RUNS = { numRuns: 2000 };

// --- generators ------------------------------------------------------------------------------
const lower = 'abcdefghijklmnopqrstuvwxyz';
const alnum = lower + '0123456789';
const chars = (set: string, min: number, max: number) => fc.string({ unit: fc.constantFrom(...set), minLength: min, maxLength: max });
/** An atom of a local part, as filers type them (letters, digits, . _ - +), no edge dot. */
const localPart = fc
  .tuple(chars(alnum, 1, 12), fc.array(fc.tuple(fc.constantFrom('.', '_', '-', '+', ''), chars(alnum, 1, 8)), { maxLength: 3 }))
  .map(([head, rest]) => head + rest.map(([s, a]) => s + a).join(''));
const label = fc
  .tuple(chars(alnum, 1, 1), chars(alnum + '-', 0, 10), chars(alnum, 0, 1))
  .map(([a, b, c]) => (a + b + c).replace(/-+$/, ''))
  .filter((l) => l.length > 0 && !l.endsWith('-') && l.slice(2, 4) !== '--');
const tld = chars(lower, 2, 6);
const domain = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), tld).map(([ls, t]) => [...ls, t].join('.'));
const validAddress = fc.tuple(localPart, domain).map(([l, d]) => `${l}@${d}`);
const yahooDomain = fc.constantFrom(...YAHOO_FAMILY_DOMAINS.keys());

/** Unicode spellings that NFKC / UTS #46 map back to the ASCII letter. */
const FULLWIDTH = (ch: string) => String.fromCodePoint(ch.codePointAt(0)! + 0xfee0);
const confusable = (ch: string): fc.Arbitrary<string> => {
  if (/[a-z]/.test(ch)) {
    const i = ch.charCodeAt(0) - 97;
    return fc.constantFrom(ch, ch.toUpperCase(), FULLWIDTH(ch), FULLWIDTH(ch.toUpperCase()), String.fromCodePoint(0x1d41a + i), String.fromCodePoint(0x24d0 + i));
  }
  if (/[0-9]/.test(ch)) return fc.constantFrom(ch, FULLWIDTH(ch), String.fromCodePoint(0x1d7ce + Number(ch)));
  if (ch === '.') return fc.constantFrom('.', '\u3002', '\uff0e', '\uff61');
  if (ch === '@') return fc.constantFrom('@', '\uff20', ' @ ');
  return fc.constant(ch);
};
/** Any spelling of `s`: per-character confusables, with invisible characters sprinkled in. */
const spell = (s: string) =>
  fc
    .tuple(...[...s].map((ch) => fc.tuple(confusable(ch), fc.constantFrom('', '', '', '\u200b', '\u00ad', '\u2060'))))
    .map((parts) => parts.map(([c, z]) => c + z).join(''));
/** Wrappers a census field puts around one address. */
const wrap = (s: string) =>
  fc
    .tuple(fc.constantFrom('', ' ', '\t', '  '), fc.constantFrom('', 'mailto:', 'MAILTO:', '<', '<mailto:', '"', '('), fc.constantFrom('', '.', '..', ',', ';'), fc.constantFrom('', ' ', '\u00a0'))
    .map(([sp, pre, post, sp2]) => {
      const close = pre.startsWith('<') ? '>' : pre === '"' ? '"' : pre === '(' ? ')' : '';
      return `${sp}${pre}${s}${close}${post}${sp2}`;
    });
const separator = fc.constantFrom('; ', ',', ' / ', ' ', ' or ', ' OR ', ';;', '\n');

describe('invariant 1: no Yahoo-family address passes in any spelling', () => {
  it('every spelling of a listed address normalizes to that Yahoo-family domain (or to invalid)', () => {
    fc.assert(
      fc.property(
        localPart,
        yahooDomain,
        fc.constantFrom('', 'mail.', 'smtp.'),
        fc.boolean(),
        (local, d, sub, trailingDot) =>
          fc.assert(
            fc.property(spell(`${local}@${sub}${d}${trailingDot ? '.' : ''}`).chain(wrap), (field) => {
              const out = normalizeField(field);
              expect(out.length).toBe(1);
              for (const a of out) expect(!a.valid || isYahooFamilyDomain(a.domain!)).toBe(true);
              expect(out[0]!.valid).toBe(true);
              expect(out[0]!.domain).toBe(`${sub}${d}`);
            }),
            { numRuns: 5 },
          ),
      ),
      { numRuns: 400 },
    );
  });

  it('several addresses in one field: each Yahoo one stays Yahoo, the others stay themselves', () => {
    const entry = fc.oneof(
      fc.tuple(localPart, yahooDomain).chain(([l, d]) => spell(`${l}@${d}`).map((s) => ({ s, yahoo: true, plain: `${l}@${d}` }))),
      validAddress.filter((a) => !isYahooFamilyDomain(a.split('@')[1]!)).map((a) => ({ s: a, yahoo: false, plain: a })),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(entry, separator), { minLength: 2, maxLength: 6 }), (entries) => {
        const field = entries.map(([e, sep]) => e.s + sep).join('');
        const out = normalizeField(field);
        const yahoo = new Set(entries.filter(([e]) => e.yahoo).map(([e]) => e.plain.toLowerCase()));
        const others = new Set(entries.filter(([e]) => !e.yahoo).map(([e]) => e.plain));
        for (const a of out) {
          if (a.valid && !isYahooFamilyDomain(a.domain!)) expect(others.has(a.address)).toBe(true);
        }
        for (const y of yahoo) expect(out.map((a) => a.address)).toContain(y);
      }),
      RUNS,
    );
  });

  it('look-alikes IDNA does not map (Cyrillic а) are a different domain, and yahoo.co.jp is not Yahoo Inc.', () => {
    expect(normalizeAddress('jd@y\u0430hoo.com').domain).toBe('xn--yhoo-53d.com');
    expect(isYahooFamilyDomain('xn--yhoo-53d.com')).toBe(false);
    expect(isYahooFamilyDomain('yahoo.co.jp')).toBe(false);
    expect(isYahooFamilyDomain('notyahoo.com')).toBe(false);
    expect(isYahooFamilyDomain('yahoo.com.attacker.example')).toBe(false);
  });
});

describe('round trip and idempotence', () => {
  it('every valid address in the practical subset round-trips unchanged', () => {
    fc.assert(
      fc.property(validAddress, (a) => {
        expect(normalizeField(a)).toEqual([expect.objectContaining({ address: a, valid: true, problem: null })]);
      }),
      RUNS,
    );
  });

  it('an address that validates normalizes to itself (fast-check RFC addresses)', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (raw) => {
        // RFC local parts may hold '/' or edge quotes, which a census field uses as separators or
        // wrappers: what matters is that whatever the field yields is a fixed point.
        for (const a of normalizeField(raw).filter((x) => x.valid)) expect(normalizeField(a.address)).toEqual([a]);
      }),
      RUNS,
    );
  });

  it('normalizing the output again changes nothing, for any field text', () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: fc.constantFrom(...'aB@.;, /<>"\'-_+ｙ＠。\u200bmailto:or'), maxLength: 40 }),
      fc.array(fc.oneof(validAddress, fc.emailAddress()), { maxLength: 4 }).chain((as) => fc.constantFrom(as.join('; '), as.join(' or '), as.join(','))),
    );
    fc.assert(
      fc.property(text, (raw) => {
        const once = normalizeField(raw);
        const twice = once.flatMap((a) => normalizeField(a.address));
        expect(twice).toEqual(once);
      }),
      { numRuns: 5000 },
    );
  });
});
