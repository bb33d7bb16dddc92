import { sql } from 'kysely';
import { normalizeDomain } from '../email/normalize.ts';
import { domainListHits } from './domain-list-match.ts';
import { domainRule } from './domain-rule.ts';
import type { ExclusionRule } from './rule.ts';

/**
 * The operator's email.blockedDomains, reported as `suppressed_domain`: it is an operator
 * suppression of a whole domain, the same meaning as the domain suppressions bounce scrubbing
 * writes (#4), so users filter one code. Like every suppression, an allowlist entry cannot
 * override it: when an operator both blocks a domain and allowlists an address in it, the block wins.
 */
export const blockedDomainRule: ExclusionRule = domainRule({
  code: 'suppressed_domain',
  description: 'the domain is blocked by the operator (email.blockedDomains in the configuration)',
  static: true,
  domainHits: (ctx) => {
    const domains = [...new Set(ctx.config.email.blockedDomains.map(normalizeDomain).filter((d): d is string => d !== null))];
    return domainListHits(
      domains,
      domains,
      (listed, domain) => sql<string>`case when ${domain} = ${listed} then ${listed} else ${domain} || ' (under ' || ${listed} || ')' end || ' is blocked by email.blockedDomains'`,
      ctx.candidateDomains,
    );
  },
});
