/**
 * `cooldown`: the address was pushed (or reserved for a push) on an earlier send date within the
 * last build.cooldownDays days, by any segment. Rows of the send date itself are the build's own
 * ledger for that day, not a previous contact, so a re-run of a date sees the same audience.
 */
import { sql } from 'kysely';
import type { ExclusionRule } from './rule.ts';

export const cooldown: ExclusionRule = {
  code: 'cooldown',
  description: 'pushed to a Listmonk list by any segment within the last build.cooldownDays days (before the send date)',
  hits(ctx) {
    const days = ctx.config.build.cooldownDays;
    return sql`
      select c.email_id,
             'pushed to ' || l.segment || ' list for ' || l.send_date
               || ' (cooldown ' || ${days}::int || ' days, until ' || (l.send_date + ${days}::int) || ')' as detail,
             coalesce(l.pushed_at, l.reserved_at) as since
      from pg_temp.candidates c
      join push_ledger l on l.address = c.email
      where l.status in ('reserved', 'pushed')
        and l.send_date < ${ctx.date}::date
        and l.send_date >= ${ctx.date}::date - ${days}::int`;
  },
};
