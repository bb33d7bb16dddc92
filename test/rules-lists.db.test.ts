/**
 * The list rules (Yahoo family, disposable, FMCSA test addresses, role mailboxes) on the cases their
 * lists exist for, through the engine the build and `explain` run (createCandidates +
 * evaluateExclusions): the SQL is the only place these lists decide anything, so it is what is
 * tested. Candidates are given as normalized (address, domain) pairs, as the emails table holds them.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigOverrides } from '../src/config.ts';
import { createCandidates, evaluateExclusions } from '../src/rules/engine.ts';
import { blockedDomainRule } from '../src/rules/blocked-domain.ts';
import { disposableRule } from '../src/rules/disposable.ts';
import { arrayText } from '../src/rules/domain-list-match.ts';
import { fmcsaTestRecordRule } from '../src/rules/fmcsa-test-record.ts';
import { roleAccountRule } from '../src/rules/role-account.ts';
import type { ExclusionRule } from '../src/rules/rule.ts';
import { yahooFamilyListRule } from '../src/rules/yahoo-family-list.ts';
import { testContext } from './email-helpers.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const BIG_PROVIDERS = [
  'gmail.com', 'googlemail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'live.com', 'msn.com', 'aol.com', 'icloud.com', 'me.com',
  'mac.com', 'comcast.net', 'att.net', 'sbcglobal.net', 'bellsouth.net', 'verizon.net', 'cox.net', 'charter.net', 'ymail.com',
  'protonmail.com', 'proton.me', 'gmx.com', 'mail.com', 'zoho.com', 'yandex.ru', 'comcast.com', 'verizon.com', 'cox.com',
];
// Deliverable domains of the demo universe (data-samples/README.md): no list may flag them.
const SAMPLE_GOOD = ['roadrunner-freight.test', 'blue-ox-hauling.test', 'prairie-logistics.example', 'lonestar-carriers.example', 'great-lakes-transport.test', 'hotmail-like.example', 'example.com', 'example.net', 'example.org', 'mesa-trucking.test', 'cascade-moving.test'];

describe('list rules through the engine', () => {
  let store: TestStore;

  /** address -> the hits of `rule` on it ([] when it passes), each as the detail the rule wrote. */
  async function hits(rule: ExclusionRule, addresses: readonly string[], email: ConfigOverrides['email'] = {}): Promise<Record<string, string[]>> {
    const ctx = testContext(store, { email });
    const now = ctx.now();
    return store.db.transaction().execute(async (trx) => {
      await createCandidates(
        trx,
        sql`select i::bigint as email_id, a as email, split_part(a, '@', 2) as domain from unnest(${[...addresses]}::text[]) with ordinality as t(a, i)`,
      );
      await evaluateExclusions(trx, { config: ctx.config, date: now.toISOString().slice(0, 10), now }, [rule]);
      const rows = await sql<{ email: string; details: string[] }>`
        select c.email, coalesce(array_agg(h.detail order by h.detail) filter (where h.code is not null), '{}') as details
        from pg_temp.candidates c left join pg_temp.exclusion_hits h on h.email_id = c.email_id group by c.email`.execute(trx);
      return Object.fromEntries(rows.rows.map((r) => [r.email, r.details]));
    });
  }
  const excluded = (v: Record<string, string[]>) => Object.keys(v).filter((a) => v[a]!.length > 0).sort();

  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  it('yahoo_family: every listed domain, AT&T all twelve, and subdomains on a label boundary', async () => {
    const att = ['att.net', 'ameritech.net', 'bellsouth.net', 'currently.com', 'flash.net', 'nvbell.net', 'pacbell.net', 'prodigy.net', 'sbcglobal.net', 'snet.net', 'swbell.net', 'wans.net'];
    const family = [...att, 'yahoo.com', 'ymail.com', 'rocketmail.com', 'myyahoo.com', 'yahoo.co.uk', 'yahoo.com.mx', 'aol.com', 'aim.com', 'cs.com', 'compuserve.com', 'netscape.net', 'verizon.net', 'cox.net', 'rogers.com'];
    // LY Corporation, shut-down and unconfirmed domains, look-alikes: not the family.
    const others = ['yahoo.co.jp', 'ymail.ne.jp', 'yahoo.cn', 'yahoo.co.kr', 'frontier.com', 'btinternet.com', 'sky.com', 'comcast.net', 'telus.net', 'gmail.com', 'notyahoo.com', 'yahoo.com.evil.example', 'xn--yhoo-53d.com'];
    const v = await hits(yahooFamilyListRule, [...family, ...others, 'mail.yahoo.com'].map((d) => `jd@${d}`));
    expect(excluded(v)).toEqual([...family, 'mail.yahoo.com'].map((d) => `jd@${d}`).sort());
    expect(v['jd@att.net']).toEqual(['att.net is on the Yahoo-family list (AT&T (Yahoo back end))']);
    expect(v['jd@mail.yahoo.com']).toEqual(['mail.yahoo.com is under yahoo.com, on the Yahoo-family list (Yahoo Mail)']);
  });

  it('disposable: mailinator.com and its subdomains, named by both npm lists; no big provider, no sample domain', async () => {
    const v = await hits(disposableRule, ['x@mailinator.com', 'x@a.mailinator.com', ...[...BIG_PROVIDERS, ...SAMPLE_GOOD].map((d) => `jd@${d}`)]);
    expect(excluded(v)).toEqual(['x@a.mailinator.com', 'x@mailinator.com']);
    expect(v['x@mailinator.com']![0]).toMatch(/^mailinator\.com is listed as disposable by disposable-email-domains-js@\d\S*, mailchecker@\d/);
    expect(v['x@a.mailinator.com']![0]).toMatch(/^a\.mailinator\.com \(under mailinator\.com\) is listed as disposable by /);
  });

  it('fmcsa_test_record: uat...@ accounts and DOT domains, not addresses that merely contain the letters', async () => {
    const v = await hits(fmcsaTestRecordRule, [
      'uat.tester@dot.gov.test', 'uat1@example.com', 'someone@fmcsa.dot.gov',
      'uatkins@example.com', 'guat@example.com', 'jd@notdot.gov', 'jd@dot.gov.example',
    ]);
    expect(excluded(v)).toEqual(['someone@fmcsa.dot.gov', 'uat.tester@dot.gov.test', 'uat1@example.com']);
    expect(v['uat1@example.com']).toEqual(['local part "uat1" is an FMCSA user-acceptance-test account (uat...@)']);
    expect(v['someone@fmcsa.dot.gov']).toEqual(["domain fmcsa.dot.gov is FMCSA/DOT's own, not a carrier's"]);
  });

  it('role_account: machine and complaint mailboxes always (with a +tag or suffix), info@ and the like only when configured, people never', async () => {
    const always = ['postmaster', 'abuse', 'noreply', 'no-reply', 'no_reply', 'donotreply', 'do-not-reply', 'mailer-daemon', 'noreply+x', 'noreply-fmcsa', 'no.reply2'];
    const configured = ['info', 'office', 'dispatch', 'sales', 'info+web'];
    const people = ['john', 'information', 'norep', 'replyno', 'postmasters', 'adam'];
    const addresses = [...always, ...configured, ...people].map((l) => `${l}@cascade-moving.test`);
    const byDefault = await hits(roleAccountRule, addresses);
    expect(excluded(byDefault)).toEqual(always.map((l) => `${l}@cascade-moving.test`).sort());
    expect(byDefault['noreply+x@cascade-moving.test']).toEqual(['noreply@ is a machine or complaint mailbox (postmaster, abuse, no-reply...): always excluded']);
    const on = await hits(roleAccountRule, addresses, { excludeRoleAccounts: true });
    expect(excluded(on)).toEqual([...always, ...configured].map((l) => `${l}@cascade-moving.test`).sort());
    expect(on['info+web@cascade-moving.test']).toEqual(['info@ is a role mailbox (email.excludeRoleAccounts is on)']);
  });

  it('the domain-list rules say the same with the candidates\' domains handed to them (the list cut to what can match) as with the whole list', async () => {
    // explain and the build's judged prefix hand the rules the candidates' few domains; the full
    // summary does not. Both paths must give the same hits, detail for detail.
    const domains = ['yahoo.com', 'mail.yahoo.com', 'sbcglobal.net', 'mailinator.com', 'x.mailinator.com', 'guerrillamail.com', 'gmail.com', 'blocked.example', 'a.blocked.example',
      'notyahoo.com', 'yahoo.com.evil.example', 'a..b', 'com', '.', 'trailing.example.'];
    const addresses = [...domains.map((d) => `jd@${d}`), 'nodomain', 'jd@'];
    const ctx = testContext(store, { email: { blockedDomains: ['blocked.example'] } });
    const now = ctx.now();
    const ruleCtx = { config: ctx.config, date: now.toISOString().slice(0, 10), now };
    await store.db.transaction().execute(async (trx) => {
      await createCandidates(
        trx,
        sql`select i::bigint as email_id, a as email, nullif(split_part(a, '@', 2), '') as domain from unnest(${addresses}::text[]) with ordinality as t(a, i)`,
      );
      const candidateDomains = (await sql<{ domain: string }>`select domain from pg_temp.candidate_domains`.execute(trx)).rows.map((r) => r.domain);
      for (const rule of [yahooFamilyListRule, disposableRule, blockedDomainRule]) {
        const run = async (c: typeof ruleCtx & { candidateDomains?: readonly string[] }) =>
          (await sql<{ email_id: string; detail: string }>`select h.email_id::text, h.detail from (${rule.hits(c)}) h order by 1, 2`.execute(trx)).rows;
        const whole = await run(ruleCtx);
        expect(whole.length, rule.code).toBeGreaterThan(0);
        expect(await run({ ...ruleCtx, candidateDomains }), rule.code).toEqual(whole);
      }
    });
  });

  it('a list sent as array text reads back as the list sent as an array parameter (quotes, backslashes, braces, commas, NULL, empty)', async () => {
    const odd = ['a.example', 'b"c', 'd\\e', '{f}', 'g,h', ' i ', 'NULL', '', 'ünï.example', "j'k", '\\"'];
    const list = [...odd, ...Array.from({ length: 1000 }, (_, i) => `d${i}.example`)];
    const r = await sql<{ same: boolean; n: number }>`
      select ${arrayText(list)}::text[] = ${list}::text[] as same, cardinality(${arrayText(list)}::text[]) as n`.execute(store.db);
    expect(r.rows[0]).toEqual({ same: true, n: list.length });
    // Made once per array: the same string each time.
    expect(arrayText(list)).toBe(arrayText(list));
  });
});
