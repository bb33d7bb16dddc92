/**
 * `opted_out`: the recipient opted out in Listmonk: blocklisted there, or unsubscribed from one of
 * our lists (or any list, with listmonk.optOutScope = 'all'), read back by the sync or answered to a
 * push. Permanent (CAN-SPAM: an opt-out from the sender is honoured for good) until an operator's
 * `audience unsuppress ADDRESS --reason T` lifts it.
 */
import { sql } from 'kysely';
import type { ExclusionRule, RuleHit } from './rule.ts';

export const optedOutRule: ExclusionRule = {
  code: 'opted_out',
  description: 'blocklisted in Listmonk, or unsubscribed from a Listmonk list of ours (listmonk.optOutScope); lifted only by `audience unsuppress`',
  hits: () => sql<RuleHit>`
    select c.email_id,
           case o.kind
             when 'blocklisted' then 'blocklisted in Listmonk'
             else 'unsubscribed in Listmonk'
           end
           || case when o.list_id is null then ''
                   else case o.kind when 'blocklisted' then ', refused a push to list ' else ' from list ' end
                        || coalesce('"' || o.list_name || '" ', '') || '(id ' || o.list_id || ')' end
           || coalesce(' (subscriber ' || o.subscriber_id || ')', '')
           || case o.source when 'push' then ', answered to a push' else ', read by the opt-out sync' end
           || ' (run ' || o.run_id || ')' as detail,
           o.seen_at as since
    from pg_temp.candidates c
    join opt_outs o on o.address = c.email
    where o.lifted_at is null`,
};
