import { sql } from 'kysely';
import type { ExclusionRule, RuleHit } from './rule.ts';

/** typo_domain: a misspelled big-provider domain (src/email/typos.ts), judged at normalization. */
export const typoDomainRule: ExclusionRule = {
  code: 'typo_domain',
  description: 'the domain is a known misspelling of a big provider (gmial.com...); never mailed or corrected silently',
  static: true,
  hits: () => sql<RuleHit>`
    select c.email_id, r.detail, r.since from pg_temp.candidates c
    join email_reasons r on r.email_id = c.email_id and r.code = 'typo_domain'`,
};
