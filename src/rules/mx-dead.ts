/**
 * `mx_dead`: the address's domain cannot receive mail, by the last MX check (src/mx/verdict.ts):
 * NXDOMAIN, null MX, no MX and no address, every MX host missing or non-public; or `unresolvable`
 * (unknown on mx.unresolvableAfterDays distinct days). A dead verdict applies even after its
 * expiry: it stands until a re-check says otherwise. `since` is when it was first observed dead.
 * Judged at run time, not kept (not `static`): check-mx rewrites mx_domains every night
 * (src/rules/static-verdicts.ts).
 */
import { sql } from 'kysely';
import { domainRule } from './domain-rule.ts';
import type { DomainHit, ExclusionRule } from './rule.ts';

export const mxDeadRule: ExclusionRule = domainRule({
  code: 'mx_dead',
  description: 'the domain cannot receive mail (NXDOMAIN, null MX, no MX and no address, MX hosts missing or non-public), or its DNS has failed for days',
  domainHits: () => sql<DomainHit>`
    select d.domain,
           d.domain || ' ' || m.verdict || ' (' || m.reason || ')'
             || case when cardinality(m.mx_hosts) > 0 then '; MX ' || array_to_string(m.mx_hosts, ', ') else '' end
             || coalesce('; ' || m.last_error, '')
             || '; checked ' || to_char(m.checked_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' as detail,
           coalesce(m.dead_since, m.checked_at) as since
    from pg_temp.candidate_domains d
    join mx_domains m on m.domain = d.domain
    where m.verdict in ('dead', 'unresolvable')`,
});
