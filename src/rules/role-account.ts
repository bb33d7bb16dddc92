import { sql, type RawBuilder } from 'kysely';
import { ALWAYS_EXCLUDED_LOCAL_PARTS, ALWAYS_EXCLUDED_PATTERN, ROLE_LOCAL_PARTS } from '../email/role-accounts.ts';
import type { ExclusionRule, RuleHit } from './rule.ts';

// Every match of the pattern starts with one of these: the SQL tests them first, so the regex runs
// on a handful of local parts instead of every candidate (~0.3 s of CPU on the full census).
const PATTERN_PREFIXES = ['no', 'do'];
if (ALWAYS_EXCLUDED_PATTERN !== '^(no[-_.]?reply|do[-_.]?not[-_.]?reply)([-_.0-9].*)?$')
  throw new Error(`ALWAYS_EXCLUDED_PATTERN changed: check that every match still starts with ${PATTERN_PREFIXES.join(' or ')} (role-account.ts)`);

/**
 * SQL: the local part of `email` up to a '+' tag, a leading '+' kept (what regexp_replace(local,
 * '(.)\\+.*$', '\\1') yields), with plain string functions.
 */
export function localKey(email: RawBuilder<string>): RawBuilder<string> {
  return sql<string>`case when left(split_part(${email}, '@', 1), 1) = '+' then '+' || split_part(substr(split_part(${email}, '@', 1), 2), '+', 1)
                          else split_part(split_part(${email}, '@', 1), '+', 1) end`;
}

/** SQL: whether a local-part key is always excluded (a listed machine mailbox, or the no-reply pattern). */
export function alwaysExcluded(key: RawBuilder<string>): RawBuilder<boolean> {
  return sql<boolean>`(${key} = any(${[...ALWAYS_EXCLUDED_LOCAL_PARTS]}::text[]) or (left(${key}, 2) = any(${PATTERN_PREFIXES}::text[]) and ${key} ~ ${ALWAYS_EXCLUDED_PATTERN}))`;
}

/**
 * The first two characters of every local-part key the rule can match (`keys`, and the pattern's
 * prefixes). A key of two characters or more is a prefix of its address (the local part up to a
 * '+', or '+' and what follows up to the next), so the address starts with the same two; a
 * shorter key leaves an '@' or a '+' among the address's first two characters. The SQL computes
 * the key only for addresses that start so, where computing it for every candidate cost ~0.3 s
 * of CPU on the census-scale audience.
 */
export function keyStarts(keys: readonly string[]): string[] {
  return [...new Set([...keys, ...PATTERN_PREFIXES].filter((k) => k.length >= 2).map((k) => k.slice(0, 2)))];
}

/**
 * role_account: postmaster@, abuse@, no-reply@... always (mailing them is a complaint or a bounce
 * by design); info@, office@, dispatch@... only with email.excludeRoleAccounts (small firms often
 * have no other address). Both tiers report the same code; the detail says which.
 */
export const roleAccountRule: ExclusionRule = {
  code: 'role_account',
  description: 'a role mailbox: postmaster/abuse/no-reply always; info@, office@... when email.excludeRoleAccounts is on',
  static: true,
  hits: (ctx) => {
    const configured = ctx.config.email.excludeRoleAccounts ? [...ROLE_LOCAL_PARTS] : [];
    const starts = keyStarts([...ALWAYS_EXCLUDED_LOCAL_PARTS, ...configured]);
    return sql<RuleHit>`
      select email_id,
             case when always then key || '@ is a machine or complaint mailbox (postmaster, abuse, no-reply...): always excluded'
                  else key || '@ is a role mailbox (email.excludeRoleAccounts is on)' end as detail,
             null::timestamptz as since
      from (
        select k.email_id, k.key,
               ${alwaysExcluded(sql`k.key`)} as always,
               k.key = any(${configured}::text[]) as configured
        -- The local part up to a '+' tag (a leading '+' is kept): what regexp_replace(local,
        -- '(.)\\+.*$', '\\1') yields, with plain string functions (the regex cost ~1 s over the
        -- 770k candidates of a census-scale summary). Computed once per candidate (offset 0 keeps
        -- the planner from copying the expression into each test of it).
        from (select c.email_id,
                     ${localKey(sql`c.email`)} as key
              from pg_temp.candidates c
              where c.email like '%@%'
                and (left(c.email, 2) = any(${starts}::text[]) or strpos(left(c.email, 2), '@') > 0 or strpos(left(c.email, 2), '+') > 0)
              offset 0) k
      ) r
      where always or configured`;
  },
};
