/**
 * `yahoo_family` by MX: every lowest-preference MX host of the domain is Yahoo's (yahoodns.net,
 * i.e. provider `yahoo` in src/mx/providers.ts). This catches what no list can: custom domains
 * hosted by Yahoo (Yahoo Small Business / Turbify) and Yahoo country domains missing from the
 * static list (src/rules/yahoo-family-list.ts reports the same code). Applies whatever the verdict,
 * and keeps applying while a later check is unknown (the last known hosts are kept).
 * Judged at run time, not kept (not `static`): check-mx rewrites mx_domains every night
 * (src/rules/static-verdicts.ts).
 */
import { sql } from 'kysely';
import { domainRule } from './domain-rule.ts';
import type { DomainHit, ExclusionRule } from './rule.ts';

export const yahooFamilyMxRule: ExclusionRule = domainRule({
  code: 'yahoo_family',
  description: 'the domain receives its mail at Yahoo (all lowest-preference MX hosts under yahoodns.net): never mailed',
  domainHits: () => sql<DomainHit>`
    select d.domain,
           d.domain || ' receives its mail at Yahoo: MX ' || array_to_string(m.mx_hosts, ', ') as detail,
           m.checked_at as since
    from pg_temp.candidate_domains d
    join mx_domains m on m.domain = d.domain
    where m.provider = 'yahoo'`,
});
