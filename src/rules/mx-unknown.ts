/**
 * `mx_unknown`: we do not know that the address's domain takes mail, so it is not pushed yet:
 * - never checked (no mx_domains row): "not checked yet; run audience check-mx". An address whose
 *   domain was never looked up must not be pushed: it could be dead, or Yahoo-hosted;
 * - the last check was a transient failure (SERVFAIL, REFUSED, timeout): retried by the next run;
 * - a deliverable verdict past its expiry (the records' TTL): the cron runs check-mx before build,
 *   so this only shows when check-mx did not run.
 * Addresses judged invalid at normalization are left to invalid_syntax (check-mx never looks at
 * their domains). Judged at the run's clock, so `explain` and the build agree.
 */
import { sql } from 'kysely';
import type { ExclusionRule, RuleHit } from './rule.ts';

export const mxUnknownRule: ExclusionRule = {
  code: 'mx_unknown',
  description: "the domain's MX was never checked, its last check failed transiently (SERVFAIL, timeout...), or its verdict expired",
  hits: (ctx) => sql<RuleHit>`
    select c.email_id, u.detail, u.since
    from pg_temp.candidates c
    -- Judged once per distinct domain, then joined back (a join of every candidate to mx_domains
    -- cost ~1 s at census scale).
    join (
    select d.domain,
           case
             when m.domain is null then 'not checked yet; run audience check-mx'
             when m.verdict = 'unknown' then
               'DNS unknown (' || m.reason || ')' || coalesce(': ' || m.last_error, '')
               || '; retried by the next audience check-mx'
             else 'deliverable verdict expired at ' || to_char(m.expires_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI')
               || ' UTC; run audience check-mx'
           end as detail,
           case when m.domain is null then null::timestamptz when m.verdict = 'unknown' then m.unknown_since else m.expires_at end as since
    from pg_temp.candidate_domains d
    left join mx_domains m on m.domain = d.domain
    where d.domain <> ''
      and (m.domain is null or m.verdict = 'unknown' or (m.verdict = 'deliverable' and m.expires_at <= ${ctx.now}::timestamptz))
    ) u on u.domain = c.domain
    where not exists (select 1 from emails e where e.id = c.email_id and not e.valid)`,
};
