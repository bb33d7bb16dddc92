import { sql } from 'kysely';
import { YAHOO_FAMILY_DOMAINS } from '../email/yahoo-family.ts';
import { domainListHits } from './domain-list-match.ts';
import { domainRule } from './domain-rule.ts';
import type { ExclusionRule } from './rule.ts';

const domains = [...YAHOO_FAMILY_DOMAINS.keys()];
const groups = domains.map((d) => YAHOO_FAMILY_DOMAINS.get(d)!);

/** yahoo_family by the static list of src/email/yahoo-family.ts (the MX rule of #5 adds yahoodns.net domains). */
export const yahooFamilyListRule: ExclusionRule = domainRule({
  code: 'yahoo_family',
  description: 'the domain is on the Yahoo-family list (Yahoo, AOL brands, verizon.net, AT&T, cox.net, rogers.com): never mailed',
  static: true,
  domainHits: (ctx) =>
    domainListHits(
      domains,
      groups,
      (listed, domain, note) =>
        sql<string>`case when ${domain} = ${listed} then ${listed} || ' is on the Yahoo-family list (' || ${note} || ')'
        else ${domain} || ' is under ' || ${listed} || ', on the Yahoo-family list (' || ${note} || ')' end`,
      ctx.candidateDomains,
    ),
});
