import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField } from '../src/text/csv.ts';

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
