import { describe, expect, it } from 'vitest';
import { disposableMatch, disposableSources } from '../src/email/disposable.ts';
import { fmcsaTestAddressReason } from '../src/email/fmcsa-test.ts';
import { roleTier } from '../src/email/role-accounts.ts';
import { TYPO_DOMAINS, typoSuggestion } from '../src/email/typos.ts';
import { isYahooFamilyDomain, YAHOO_FAMILY_DOMAINS, yahooFamilyMatch } from '../src/email/yahoo-family.ts';

const BIG_PROVIDERS = [
  'gmail.com', 'googlemail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'live.com', 'msn.com', 'aol.com', 'icloud.com', 'me.com',
  'mac.com', 'comcast.net', 'att.net', 'sbcglobal.net', 'bellsouth.net', 'verizon.net', 'cox.net', 'charter.net', 'ymail.com',
  'protonmail.com', 'proton.me', 'gmx.com', 'mail.com', 'zoho.com', 'yandex.ru', 'comcast.com', 'verizon.com', 'cox.com',
];
// Deliverable domains of the demo universe (data-samples/README.md): no list may flag them.
const SAMPLE_GOOD = ['roadrunner-freight.test', 'blue-ox-hauling.test', 'prairie-logistics.example', 'lonestar-carriers.example', 'great-lakes-transport.test', 'hotmail-like.example', 'example.com', 'example.net', 'example.org', 'mesa-trucking.test', 'cascade-moving.test'];

describe('Yahoo-family list (research/mx.md §3 tier A)', () => {
  it('holds every tier-A domain, AT&T all twelve', () => {
    const att = ['att.net', 'ameritech.net', 'bellsouth.net', 'currently.com', 'flash.net', 'nvbell.net', 'pacbell.net', 'prodigy.net', 'sbcglobal.net', 'snet.net', 'swbell.net', 'wans.net'];
    for (const d of [...att, 'yahoo.com', 'ymail.com', 'rocketmail.com', 'myyahoo.com', 'yahoo.co.uk', 'yahoo.com.mx', 'aol.com', 'aim.com', 'cs.com', 'compuserve.com', 'netscape.net', 'verizon.net', 'cox.net', 'rogers.com'])
      expect(isYahooFamilyDomain(d), d).toBe(true);
    expect([...YAHOO_FAMILY_DOMAINS].filter(([, g]) => g === 'AT&T (Yahoo back end)').map(([d]) => d).sort()).toEqual([...att].sort());
  });
  it('leaves out LY Corporation, shut-down and unconfirmed domains', () => {
    for (const d of ['yahoo.co.jp', 'ymail.ne.jp', 'yahoo.cn', 'yahoo.co.kr', 'frontier.com', 'btinternet.com', 'sky.com', 'comcast.net', 'telus.net', 'gmail.com'])
      expect(isYahooFamilyDomain(d), d).toBe(false);
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
  it('flags mailinator.com and its subdomains, and names the lists', () => {
    expect(disposableMatch('mailinator.com')?.lists.length).toBe(2);
    expect(disposableMatch('x.mailinator.com')?.domain).toBe('mailinator.com');
  });
  it('flags no big provider and no deliverable domain of the sample universe', () => {
    for (const d of [...BIG_PROVIDERS, ...SAMPLE_GOOD]) expect(disposableMatch(d), d).toBeNull();
  });
});

describe('role accounts', () => {
  it('always excludes machine and complaint mailboxes, with or without a +tag or suffix', () => {
    for (const l of ['postmaster', 'abuse', 'noreply', 'no-reply', 'no_reply', 'donotreply', 'do-not-reply', 'mailer-daemon', 'noreply+x', 'noreply-fmcsa', 'no.reply2'])
      expect(roleTier(l), l).toBe('always');
  });
  it('leaves info@, office@, dispatch@ to configuration, and people alone', () => {
    for (const l of ['info', 'office', 'dispatch', 'sales', 'info+web']) expect(roleTier(l), l).toBe('configured');
    for (const l of ['john', 'information', 'norep', 'replyno', 'postmasters', 'adam']) expect(roleTier(l), l).toBeNull();
  });
});

describe('FMCSA test addresses', () => {
  it('recognizes uat...@ accounts and DOT domains', () => {
    expect(fmcsaTestAddressReason('uat.tester', 'dot.gov.test')).toMatch(/user-acceptance-test/);
    expect(fmcsaTestAddressReason('uat1', 'example.com')).toMatch(/uat/);
    expect(fmcsaTestAddressReason('someone', 'fmcsa.dot.gov')).toMatch(/FMCSA\/DOT/);
  });
  it('does not flag ordinary addresses that merely contain the letters', () => {
    for (const [l, d] of <[string, string][]>[['uatkins', 'example.com'], ['guat', 'example.com'], ['jd', 'notdot.gov'], ['jd', 'dot.gov.example']]) expect(fmcsaTestAddressReason(l, d), `${l}@${d}`).toBeNull();
  });
});
