import { sql } from 'kysely';
import { disposableDomainTable, disposableDomainTableFor } from '../email/disposable.ts';
import { domainListHits, domainSuffixes } from './domain-list-match.ts';
import { domainRule } from './domain-rule.ts';
import type { ExclusionRule } from './rule.ts';

/** disposable: the domain (or a parent) is on a maintained throwaway-mailbox list from npm. */
export const disposableRule: ExclusionRule = domainRule({
  code: 'disposable',
  description: 'the domain is a throwaway mailbox service (disposable-email-domains-js, mailchecker)',
  static: true,
  domainHits: (ctx) => {
    // A few candidates (explain): only their suffixes' rows, without building the whole table.
    const { domains, lists } = ctx.candidateDomains ? disposableDomainTableFor(domainSuffixes(ctx.candidateDomains)) : disposableDomainTable();
    return domainListHits(
      domains,
      lists,
      (listed, domain, note) => sql<string>`case when ${domain} = ${listed} then ${listed} else ${domain} || ' (under ' || ${listed} || ')' end || ' is listed as disposable by ' || ${note}`,
      ctx.candidateDomains,
    );
  },
});
