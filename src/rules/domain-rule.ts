/**
 * A rule whose verdict depends on the address's domain alone (Yahoo family, blocked, disposable,
 * dead MX, suppressed domain, provider hold): it is written once, over the candidates' distinct
 * domains (`domainHits`), and its address hits are that verdict joined back to the candidates, so
 * the per-address and the per-domain judgements can never disagree.
 */
import { sql } from 'kysely';
import type { DomainHit, ExclusionRule, RuleContext, RuleHit } from './rule.ts';
import type { RawBuilder } from 'kysely';

export function domainRule(r: Pick<ExclusionRule, 'code' | 'description' | 'static'> & { domainHits(ctx: RuleContext): RawBuilder<DomainHit> }): ExclusionRule {
  return {
    code: r.code,
    description: r.description,
    ...(r.static ? { static: true } : {}),
    domainHits: r.domainHits,
    hits: (ctx) => sql<RuleHit>`
      select c.email_id, v.detail, v.since
      from pg_temp.candidates c
      join (${r.domainHits(ctx)}) v on v.domain = c.domain`,
  };
}
