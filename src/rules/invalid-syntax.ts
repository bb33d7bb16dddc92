import { sql } from 'kysely';
import type { ExclusionRule, RuleHit } from './rule.ts';

/** invalid_syntax: judged at normalization (src/email/validate.ts), evidence in email_reasons. */
export const invalidSyntaxRule: ExclusionRule = {
  code: 'invalid_syntax',
  description: 'not a valid address (practical RFC 5321: one @, dot-atom local part, host-name domain with a real TLD)',
  static: true,
  hits: () => sql<RuleHit>`
    select c.email_id, r.detail, r.since from pg_temp.candidates c
    join email_reasons r on r.email_id = c.email_id and r.code = 'invalid_syntax'`,
};
