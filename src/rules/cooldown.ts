/**
 * `cooldown`: the address is in the push ledger (pushed, or reserved for a push) for another send
 * date within build.cooldownDays days before or after the build date, by any segment. Both
 * directions, because dates are not built in order: an analyst builds tomorrow's batch today, then
 * the nightly cron builds today's, and a look-back alone mailed the same people on consecutive
 * days. Rows of the build date itself are the build's own ledger for that day, not another
 * contact, so a re-run of a date sees the same audience. Released rows (a push that provably never
 * reached Listmonk, src/push/release.ts) are not contacts.
 *
 * The detail names the date, the segment and the Listmonk list (its id once the build created it),
 * so `explain` says which contact is in the way and when the window around it ends.
 */
import { sql } from 'kysely';
import type { ExclusionRule } from './rule.ts';

export const cooldown: ExclusionRule = {
  code: 'cooldown',
  description: 'pushed or reserved for another date within build.cooldownDays days before or after the send date, by any segment',
  hits(ctx) {
    const days = ctx.config.build.cooldownDays;
    const prefix = ctx.config.listmonk.listPrefix;
    return sql`
      select c.email_id,
             l.status || ' for ' || l.send_date || ' to '
               || case when coalesce(l.list_id, b.list_id) is null
                       then 'list "' || concat_ws(' ', nullif(${prefix}::text, ''), l.segment, l.send_date::text) || '" (not created yet)'
                       else 'list "' || coalesce(b.list_name, concat_ws(' ', nullif(${prefix}::text, ''), l.segment, l.send_date::text))
                            || '" (#' || coalesce(l.list_id, b.list_id) || ')' end
               || ', segment ' || l.segment
               || ' (cooldown ' || ${days}::int || ' days each way: no other date from '
               || (l.send_date - ${days}::int) || ' to ' || (l.send_date + ${days}::int) || ')' as detail,
             coalesce(l.pushed_at, l.reserved_at) as since
      from pg_temp.candidates c
      join push_ledger l on l.address = c.email
      left join build_lists b on b.send_date = l.send_date and b.segment = l.segment
      where l.status in ('reserved', 'pushed')
        and l.send_date <> ${ctx.date}::date
        and l.send_date between ${ctx.date}::date - ${days}::int and ${ctx.date}::date + ${days}::int`;
  },
  hitDays(ctx, days) {
    // Each ledger row cools the days within cooldownDays of its date except its own: bits lo..hi
    // of the plan's days (days[i] = days[0] + i), minus the row's own day when it is one of them.
    const n = ctx.config.build.cooldownDays;
    const first = days[0]!;
    const last = days[days.length - 1]!;
    return sql`
      select email_id, bit_or(mask)::text as days from (
        select c.email_id,
               ((1::bigint << (hi + 1)) - (1::bigint << lo))
                 & ~(case when own between 0 and ${days.length - 1}::int then 1::bigint << own else 0::bigint end) as mask
        from pg_temp.candidates c
        join push_ledger l on l.address = c.email
        cross join lateral (select greatest(0, (l.send_date - ${n}::int) - ${first}::date) as lo,
                                   least(${days.length - 1}::int, (l.send_date + ${n}::int) - ${first}::date) as hi,
                                   l.send_date - ${first}::date as own) r
        where l.status in ('reserved', 'pushed')
          and l.send_date between ${first}::date - ${n}::int and ${last}::date + ${n}::int
      ) m
      where mask <> 0
      group by email_id`;
  },
};
