import { sql } from 'kysely';
import type { ExclusionRule, RuleHit } from './rule.ts';

/**
 * suppressed_address: the bounce scrub (or an operator) suppressed this exact address: a hard
 * bounce for an unknown recipient, a mailbox full for days, an expired message whose last try was
 * refused for the recipient. Active as the suppressions contract says, at the rule's clock.
 */
export const suppressedAddressRule: ExclusionRule = {
  code: 'suppressed_address',
  description: 'the address bounced in mail.log (unknown recipient, full for days, expired) or an operator suppressed it',
  hits: (ctx) => sql<RuleHit>`
    select c.email_id,
           s.reason || coalesce(' (' || (s.evidence->>'class') || ', ' || (s.evidence->>'count') || 'x, first ' || (s.evidence->>'firstSeen')
             || ', last ' || (s.evidence->>'lastSeen') || ')', '')
             || coalesce(': ' || left(s.evidence->>'sample', 240), '')
             || coalesce(' [operator ' || (s.evidence->>'operator') || ': ' || (s.evidence->>'note') || ']', '') as detail,
           s.first_seen as since
    from pg_temp.candidates c
    join suppressions s on s.kind = 'address' and s.value = c.email
    where s.lifted_at is null and (s.expires_at is null or s.expires_at > ${ctx.now}::timestamptz)`,
};
