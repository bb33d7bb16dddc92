/**
 * `provider_hold`: the address's domain is served by a provider (by MX, view domain_providers) that
 * the bounce scrub put on hold after a stop signal (Gmail 550-5.7.1, Yahoo TSS04, Microsoft S3150…).
 * Only that provider's addresses wait; the rest of the day's audience goes out.
 */
import { sql } from 'kysely';
import type { ExclusionRule } from './rule.ts';

export const providerHold: ExclusionRule = {
  code: 'provider_hold',
  description: "the domain's mail provider (by MX) is on an active hold set by the bounce scrub",
  hits(ctx) {
    // Active as the holds contract says (lifted_at null, until in the future), judged at the
    // run's clock so a pinned test clock and `explain` agree with the build.
    return sql`
      select c.email_id,
             'provider ' || h.provider || ' on hold until ' || to_char(h.until at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC: ' || h.reason || ' (' || h.detail || ')' as detail,
             h.starts_at as since
      from pg_temp.candidates c
      join domain_providers dp on dp.domain = c.domain
      join holds h on h.scope = 'provider' and h.provider = dp.provider
      where h.lifted_at is null and h.until > ${ctx.now}::timestamptz`;
  },
};
