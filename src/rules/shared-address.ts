import { sql } from 'kysely';
import type { ExclusionRule, RuleHit } from './rule.ts';

/**
 * shared_address: an address listed by email.sharedAddressThreshold carriers or more belongs to an
 * agent or filing service, not to a carrier. emails.carrier_count is kept by normalize; the
 * threshold is read here, so changing it needs no re-normalization.
 */
export const sharedAddressRule: ExclusionRule = {
  code: 'shared_address',
  description: 'listed by many carriers (email.sharedAddressThreshold): a filing agent or service, not the carrier',
  static: true,
  hits: (ctx) => {
    const threshold = ctx.config.email.sharedAddressThreshold;
    return sql<RuleHit>`
      select c.email_id, 'listed by ' || e.carrier_count || ' carriers (threshold ' || ${threshold}::int || ', email.sharedAddressThreshold)' as detail,
             null::timestamptz as since
      from pg_temp.candidates c join emails e on e.id = c.email_id
      where e.carrier_count >= ${threshold}::int`;
  },
};
