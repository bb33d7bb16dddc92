import { sql } from 'kysely';
import { ALWAYS_EXCLUDED_LOCAL_PARTS, ALWAYS_EXCLUDED_PATTERN, ROLE_LOCAL_PARTS } from '../email/role-accounts.ts';
import type { ExclusionRule, RuleHit } from './rule.ts';

/**
 * role_account: postmaster@, abuse@, no-reply@... always (mailing them is a complaint or a bounce
 * by design); info@, office@, dispatch@... only with email.excludeRoleAccounts (small firms often
 * have no other address). Both tiers report the same code; the detail says which.
 */
export const roleAccountRule: ExclusionRule = {
  code: 'role_account',
  description: 'a role mailbox: postmaster/abuse/no-reply always; info@, office@... when email.excludeRoleAccounts is on',
  hits: (ctx) => {
    const configured = ctx.config.email.excludeRoleAccounts ? [...ROLE_LOCAL_PARTS] : [];
    return sql<RuleHit>`
      select email_id,
             case when always then key || '@ is a machine or complaint mailbox (postmaster, abuse, no-reply...): always excluded'
                  else key || '@ is a role mailbox (email.excludeRoleAccounts is on)' end as detail,
             null::timestamptz as since
      from (
        select c.email_id, k.key,
               (k.key = any(${[...ALWAYS_EXCLUDED_LOCAL_PARTS]}::text[]) or k.key ~ ${ALWAYS_EXCLUDED_PATTERN}) as always,
               k.key = any(${configured}::text[]) as configured
        from pg_temp.candidates c
        -- The local part up to a '+' tag (a leading '+' is kept): what regexp_replace(local,
        -- '(.)\\+.*$', '\\1') yields, with plain string functions (the regex cost ~1 s over the
        -- 770k candidates of a census-scale summary).
        cross join lateral (select split_part(c.email, '@', 1) as local) l
        cross join lateral (select case when strpos(substr(l.local, 2), '+') > 0 then left(l.local, strpos(substr(l.local, 2), '+')) else l.local end as key) k
        where c.email like '%@%'
      ) r
      where always or configured`;
  },
};
