import { sql } from 'kysely';
import { domainRule } from './domain-rule.ts';
import type { DomainHit, ExclusionRule } from './rule.ts';

/**
 * suppressed_domain: the whole domain is suppressed: it does not exist or accepts no mail
 * (NXDOMAIN, null MX at send time), or several of its recipients failed with no delivery in the
 * window, or an operator said so.
 */
export const suppressedDomainRule: ExclusionRule = domainRule({
  code: 'suppressed_domain',
  description: 'the domain failed in mail.log (dead, or repeated failures to several recipients and no delivery) or an operator suppressed it',
  domainHits: (ctx) => sql<DomainHit>`
    select d.domain,
           s.reason || coalesce(' (' || (s.evidence->>'class') || ', ' || (s.evidence->>'count') || 'x to ' || (s.evidence->>'recipients')
             || ' recipient(s), first ' || (s.evidence->>'firstSeen') || ', last ' || (s.evidence->>'lastSeen') || ')', '')
             || coalesce(': ' || left(s.evidence->>'sample', 240), '')
             || coalesce(' [operator ' || (s.evidence->>'operator') || ': ' || (s.evidence->>'note') || ']', '') as detail,
           s.first_seen as since
    from pg_temp.candidate_domains d
    join suppressions s on s.kind = 'domain' and s.value = d.domain
    where s.lifted_at is null and (s.expires_at is null or s.expires_at > ${ctx.now}::timestamptz)`,
});
