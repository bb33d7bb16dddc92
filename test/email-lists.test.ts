/**
 * The lists held in TypeScript, on what TypeScript does with them: the typo table (normalize's
 * suggestion), the Yahoo-family match the mail-log provider counts use, and the loading of the npm
 * disposable lists. What the exclusion rules decide with these lists is tested through the SQL
 * engine (rules-lists.db.test.ts, rules-static.db.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { disposableDomainTable, disposableSources } from '../src/email/disposable.ts';
import { TYPO_DOMAINS, typoSuggestion } from '../src/email/typos.ts';
import { YAHOO_FAMILY_DOMAINS, yahooFamilyMatch } from '../src/email/yahoo-family.ts';

const BIG_PROVIDERS = [
  'gmail.com', 'googlemail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'live.com', 'msn.com', 'aol.com', 'icloud.com', 'me.com',
  'mac.com', 'comcast.net', 'att.net', 'sbcglobal.net', 'bellsouth.net', 'verizon.net', 'cox.net', 'charter.net', 'ymail.com',
  'protonmail.com', 'proton.me', 'gmx.com', 'mail.com', 'zoho.com', 'yandex.ru', 'comcast.com', 'verizon.com', 'cox.com',
];
// Deliverable domains of the demo universe (data-samples/README.md): no list may flag them.
const SAMPLE_GOOD = ['roadrunner-freight.test', 'blue-ox-hauling.test', 'prairie-logistics.example', 'lonestar-carriers.example', 'great-lakes-transport.test', 'hotmail-like.example', 'example.com', 'example.net', 'example.org', 'mesa-trucking.test', 'cascade-moving.test'];

describe('Yahoo-family match (the provider counts of the mail-log scrub)', () => {
  it('groups AT&T\'s twelve domains together', () => {
    const att = ['att.net', 'ameritech.net', 'bellsouth.net', 'currently.com', 'flash.net', 'nvbell.net', 'pacbell.net', 'prodigy.net', 'sbcglobal.net', 'snet.net', 'swbell.net', 'wans.net'];
    expect([...YAHOO_FAMILY_DOMAINS].filter(([, g]) => g === 'AT&T (Yahoo back end)').map(([d]) => d).sort()).toEqual([...att].sort());
  });
  it('matches subdomains on a label boundary only', () => {
    expect(yahooFamilyMatch('mail.yahoo.com')).toEqual({ domain: 'yahoo.com', group: 'Yahoo Mail' });
    expect(yahooFamilyMatch('yahoo.com.')).toEqual({ domain: 'yahoo.com', group: 'Yahoo Mail' });
    expect(yahooFamilyMatch('notyahoo.com')).toBeNull();
    expect(yahooFamilyMatch('yahoo.com.evil.example')).toBeNull();
  });
});

describe('typo table', () => {
  it('covers the misspellings the issue names', () => {
    for (const [t, s] of <[string, string][]>[['gmial.com', 'gmail.com'], ['gmal.com', 'gmail.com'], ['hotmial.com', 'hotmail.com'], ['yaho.com', 'yahoo.com'], ['outlok.com', 'outlook.com'], ['gmail.con', 'gmail.com']])
      expect(typoSuggestion(t)).toBe(s);
  });
  it('never lists a real provider domain or a Yahoo-family domain as a typo', () => {
    for (const d of [...BIG_PROVIDERS, ...YAHOO_FAMILY_DOMAINS.keys(), ...SAMPLE_GOOD]) expect(TYPO_DOMAINS.has(d), d).toBe(false);
  });
  it('every suggestion is a big provider, and every entry is a valid domain shape', () => {
    for (const [typo, s] of TYPO_DOMAINS) {
      expect(BIG_PROVIDERS, typo).toContain(s);
      expect(typo).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
    }
  });
});

describe('disposable lists (npm, not hand-typed)', () => {
  it('loads both maintained lists with their versions', () => {
    const names = disposableSources().map((s) => s.name);
    expect(names).toEqual([expect.stringMatching(/^disposable-email-domains-js@\d/), expect.stringMatching(/^mailchecker@\d/)]);
    for (const s of disposableSources()) expect(s.domains.size).toBeGreaterThan(5000);
  });
  it('hands the rule every listed domain once, with the lists naming it', () => {
    const { domains, lists } = disposableDomainTable();
    expect(new Set(domains).size).toBe(domains.length);
    expect(lists[domains.indexOf('mailinator.com')]).toMatch(/^disposable-email-domains-js@\d\S*, mailchecker@\d/);
  });
});
