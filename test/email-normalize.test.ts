import { describe, expect, it } from 'vitest';
import { normalizeAddress, normalizeDomain, normalizeField } from '../src/email/normalize.ts';
import { splitEmailField } from '../src/email/split.ts';

const addrs = (raw: string | null) => normalizeField(raw).map((a) => a.address);

describe('splitEmailField', () => {
  it('splits on ; , / whitespace and " or ", in field order', () => {
    expect(splitEmailField('a@x.com; b@y.com, c@z.com / d@w.com e@v.com or f@u.com OR g@t.com')).toEqual([
      'a@x.com', 'b@y.com', 'c@z.com', 'd@w.com', 'e@v.com', 'f@u.com', 'g@t.com',
    ]);
  });
  it('keeps a field without @ whole instead of splitting it into fragments', () => {
    expect(splitEmailField('SHEEPSHEARR2YAHOO.COM')).toEqual(['SHEEPSHEARR2YAHOO.COM']);
    expect(splitEmailField('N/A')).toEqual(['N/A']);
    expect(splitEmailField('see  above')).toEqual(['see above']);
  });
  it('drops display names and filler but keeps mangled addresses next to real ones', () => {
    expect(splitEmailField('John Doe <jd@example.com>')).toEqual(['jd@example.com']);
    expect(splitEmailField('bob.gmail.com, joe@example.com')).toEqual(['bob.gmail.com', 'joe@example.com']);
  });
  it('joins an address broken by spaces around the @', () => {
    expect(splitEmailField('jd @ example.com')).toEqual(['jd@example.com']);
  });
  it('is empty for null, empty and blank fields', () => {
    expect(splitEmailField(null)).toEqual([]);
    expect(splitEmailField('')).toEqual([]);
    expect(splitEmailField(' \t ')).toEqual([]);
    expect(splitEmailField('""')).toEqual([]);
  });
});

describe('normalizeField', () => {
  it('trims, lower-cases, strips mailto:, angle brackets, quotes and the trailing dot', () => {
    expect(addrs('  JD@Example.COM.  ')).toEqual(['jd@example.com']);
    expect(addrs('mailto:JD@example.com?subject=hi')).toEqual(['jd@example.com']);
    expect(addrs('<mailto:jd@example.com>')).toEqual(['jd@example.com']);
    expect(addrs('"jd@example.com",')).toEqual(['jd@example.com']);
    expect(addrs('(jd@example.com.)')).toEqual(['jd@example.com']);
    expect(addrs('jd@example.com..')).toEqual(['jd@example.com']);
  });
  it('maps fullwidth and other compatibility forms, and removes invisible characters', () => {
    expect(addrs('ｊｄ＠ｅｘａｍｐｌｅ．ｃｏｍ')).toEqual(['jd@example.com']);
    expect(addrs('jd@exam\u200bple.com\ufeff')).toEqual(['jd@example.com']);
    expect(addrs('jd@example。com')).toEqual(['jd@example.com']);
    expect(addrs('jd\u00a0@\u00a0example.com')).toEqual(['jd@example.com']);
  });
  it('converts IDN domains to ASCII A-labels', () => {
    expect(addrs('info@Bücher.DE')).toEqual(['info@xn--bcher-kva.de']);
    expect(addrs('a@faß.de')).toEqual(['a@xn--fa-hia.de']);
  });
  it('deduplicates an address written twice in one field', () => {
    expect(addrs('jd@example.com, JD@EXAMPLE.COM; <jd@example.com>')).toEqual(['jd@example.com']);
  });
  it('returns the valid parts of the census sample values', () => {
    expect(normalizeField('HAMILTON-11-@HOTMAIL.COM')[0]).toMatchObject({ address: 'hamilton-11-@hotmail.com', valid: true });
    expect(normalizeField('BIENNIAL+217729@DOTSERVICE.COM')[0]).toMatchObject({ address: 'biennial+217729@dotservice.com', valid: true });
    expect(normalizeField('ADMIN@MANIFESTSOLUTIONS.CO.SITE')[0]).toMatchObject({ valid: true });
  });
});

describe('normalizeAddress validation (practical RFC 5321)', () => {
  const problem = (t: string) => normalizeAddress(t).problem;
  it('never guesses a missing @', () => {
    const a = normalizeAddress('SHEEPSHEARR2YAHOO.COM');
    expect(a).toMatchObject({ address: 'sheepshearr2yahoo.com', valid: false, domain: null });
    expect(a.problem).toMatch(/no @/);
  });
  it.each([
    ['a@@b.com', /more than one @/],
    ['@example.com', /nothing before/],
    ['jd@', /nothing after/],
    ['jd@localhost', /no top-level domain/],
    ['jd@example.c0m', /not a top-level domain/],
    ['jd@example.123', /not a top-level domain/],
    ['jd@-example.com', /hyphen/],
    ['jd@example-.com', /hyphen/],
    ['jd@exa_mple.com', /not a valid internationalized domain/],
    ['jd@[192.0.2.1]', /address literal/],
    ['.jd@example.com', /starts or ends with a dot/],
    ['jd.@example.com', /starts or ends with a dot/],
    ['j..d@example.com', /consecutive dots/],
    ['jd@example..com', /consecutive dots|not a valid/],
    [`${'a'.repeat(65)}@example.com`, /at most 64/],
    [`jd@${'a'.repeat(64)}.com`, /at most 63|not a valid/],
    [`jd@${Array.from({ length: 64 }, () => 'abcd').join('.')}.com`, /at most 253|not a valid/],
    ['jd(x)@example.com', /not allowed/],
    ['jé@example.com', /non-ASCII/],
  ])('%s is invalid', (token, re) => {
    expect(normalizeAddress(token).valid).toBe(false);
    expect(problem(token)).toMatch(re);
  });
  it.each(['a@b.co', "o'brien@example.com", 'first.last+tag@sub.example.co.uk', 'x@xn--bcher-kva.de', 'a-b_c@ex-ample.travel', `${'a'.repeat(64)}@example.com`])(
    '%s is valid',
    (token) => {
      expect(normalizeAddress(token)).toMatchObject({ valid: true, problem: null, address: token });
    },
  );
});

describe('typos are recorded, never corrected', () => {
  it.each([
    ['jd@gmial.com', 'gmail.com'],
    ['jd@GMAL.com', 'gmail.com'],
    ['jd@hotmial.com', 'hotmail.com'],
    ['jd@yaho.com', 'yahoo.com'],
    ['jd@outlok.com', 'outlook.com'],
    ['jd@gmail.con', 'gmail.com'],
    ['jd@yahoo.cm', 'yahoo.com'],
  ])('%s suggests %s and keeps the domain as written', (token, suggestion) => {
    const a = normalizeAddress(token);
    expect(a.typo).toBe(suggestion);
    expect(a.valid).toBe(true);
    expect(a.domain).not.toBe(suggestion);
  });
  it('has no suggestion for correct domains', () => {
    for (const d of ['gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'comcast.com', 'example.com']) expect(normalizeAddress(`jd@${d}`).typo).toBeNull();
  });
});

describe('normalizeDomain (operator input, explain)', () => {
  it('accepts @domain, *.domain, trailing dots, case and IDN', () => {
    expect(normalizeDomain('@Example.COM')).toBe('example.com');
    expect(normalizeDomain('*.example.com.')).toBe('example.com');
    expect(normalizeDomain('bücher.de')).toBe('xn--bcher-kva.de');
  });
  it('rejects what is not a domain', () => {
    expect(normalizeDomain('')).toBeNull();
    expect(normalizeDomain('localhost')).toBeNull();
    expect(normalizeDomain('exa mple.com')).toBeNull();
  });
});

describe('addresses that start a spreadsheet formula', () => {
  it('a local part starting with = + or - is invalid_syntax evidence, whatever else follows; inside the local part they are fine', () => {
    for (const a of ['=cmd@gmail.com', "=cmd|' /C calc'!A0@gmail.com", '+1555@example.com', '-dispatch@example.com', '=HYPERLINK@example.com']) {
      const n = normalizeAddress(a);
      expect(n.valid, a).toBe(false);
      expect(n.problem, a).toMatch(/^local part starts with "[=+-]", which spreadsheets run as a formula|character not allowed|spaces/);
    }
    expect(normalizeAddress('=cmd@gmail.com').problem).toBe('local part starts with "=", which spreadsheets run as a formula (not mailed)');
    expect(normalizeAddress('a-b+c=d@example.com')).toMatchObject({ valid: true, address: 'a-b+c=d@example.com' });
    // A field with "@" first is not an address at all.
    expect(normalizeAddress('@evil@example.com')).toMatchObject({ valid: false, problem: 'more than one @ sign' });
  });
});
