import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField } from '../src/text/csv.ts';
import { isoTime } from '../src/text/iso-time.ts';

describe('isoTime', () => {
  it('equals Date.prototype.toISOString for any millisecond of years 0001-9999, in any order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), { minLength: 1, maxLength: 50 }), (ms) => {
        for (const t of ms) expect(isoTime(t)).toBe(new Date(t).toISOString());
      }),
    );
  });
  it('day and second boundaries, the epoch, before it, and fractions', () => {
    for (const t of [0, -1, 86_399_999, 86_400_000, 1_763_596_799_999, 1_763_596_800_000, 951_782_400_000, 1.5, -0.5]) expect(isoTime(t)).toBe(new Date(t).toISOString());
  });
});

describe('csvField', () => {
  it('quotes only fields with a quote, comma, CR or LF, doubling quotes', () => {
    expect(csvField('plain@example.com')).toBe('plain@example.com');
    expect(csvField('')).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines\r')).toBe('"two\nlines\r"');
  });
  it('agrees with the regex rule it replaces', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', 'é') }), (v) => {
        expect(csvField(v)).toBe(/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
      }),
    );
  });
});
