/**
 * `provider_hold`: the address's receiver is on an active hold set by the bounce scrub after a stop
 * signal (Gmail 550-5.7.1, Yahoo TSS04, Microsoft S3150, a server's "Too many invalid
 * recipients"…). Holds are by scope (src/maillog/holds.ts):
 *
 * - scope `provider`: every domain the provider serves (by MX, view domain_providers) waits;
 * - scope `domain`: a self-hosted receiver (provider `other`) held on its own signal: that domain,
 *   and every domain whose MX hosts include the mail server that answered (one server, one
 *   judgement), wait; the other self-hosted domains go out.
 *
 * Only the held addresses wait; the rest of the day's audience goes out.
 */
import { sql, type RawBuilder } from 'kysely';
import { domainRule } from './domain-rule.ts';
import type { DomainHit, ExclusionRule } from './rule.ts';

export const providerHold: ExclusionRule = domainRule({
  code: 'provider_hold',
  description: "the domain's mail provider (by MX), or the domain itself or its mail server, is on an active hold set by the bounce scrub",
  domainHits(ctx) {
    // Active as the holds contract says (lifted_at null, until in the future), judged at the
    // run's clock so a pinned test clock and `explain` agree with the build.
    const active = sql`h.lifted_at is null and h.until > ${ctx.now}::timestamptz`;
    const until = sql`to_char(h.until at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC: ' || h.reason || ' (' || h.detail || ')'`;
    // The held domains first (a provider's domains by MX, the held domains, the domains behind a held
    // server), then the candidates' distinct domains against them: joining every candidate sorted
    // all of them by domain (~2 s on the full census).
    // With the candidates' few domains at hand (explain, the build's judged prefix) each branch is
    // cut to them, by index (domain_providers is probe-able since sql/0019): listing every domain of
    // a held provider and every domain behind a held server read all of mx_domains (~0.15 s at 200k
    // domains) to judge one address. The same hits either way (test/holds-scope.db.test.ts).
    const only = (domain: RawBuilder<unknown>) => (ctx.candidateDomains ? sql`and ${domain} = any(${[...ctx.candidateDomains]}::text[])` : sql``);
    return sql<DomainHit>`
      select d.domain, held.detail, held.since
      from pg_temp.candidate_domains d
      join (
        select dp.domain, 'provider ' || h.provider || ' on hold until ' || ${until} as detail, h.starts_at as since
        from holds h join domain_providers dp on dp.provider = h.provider
        where h.scope = 'provider' and ${active} ${only(sql`dp.domain`)}
        union all
        select h.domain, 'domain ' || h.domain || ' on hold until ' || ${until}, h.starts_at
        from holds h where h.scope = 'domain' and ${active} ${only(sql`h.domain`)}
        union all
        select m.domain, 'domain ' || m.domain || ' on hold: its mail server ' || h.mx_host || ' is held for ' || h.domain || ' until ' || ${until}, h.starts_at
        from holds h join mx_domains m on m.mx_hosts @> array[h.mx_host] and m.domain <> h.domain
        where h.scope = 'domain' and h.mx_host is not null and ${active} ${only(sql`m.domain`)}
      ) held on held.domain = d.domain`;
  },
});
