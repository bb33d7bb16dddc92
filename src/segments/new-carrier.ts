/**
 * `new-carrier`: active carriers added to the census in the last N days (default 30). New entrants
 * face the safety audit, drug and alcohol, ELD and UCR obligations in their first months.
 */
import { sql } from 'kysely';
import { carrierColumn, type Segment } from './segment.ts';

export const newCarrier: Segment = {
  name: 'new-carrier',
  description: 'active carriers whose census ADD_DATE is within the last `days` days (the send date included)',
  configSection: 'new-carrier',
  carriers(ctx) {
    const days = ctx.config.segments['new-carrier'].days;
    // add_date in (date - days, date]: "within the last 30 days" counts the send date as day 1.
    // The partial index carriers_active_add_date_idx serves this range. It ignores ctx.among on
    // purpose: the range yields a few thousand carriers, fewer than the build asks about.
    return sql<{ dot_number: number; note: string }>`
      select c.dot_number, 'added ' || c.add_date as note
      from carriers c
      where c.status = 'active'
        and c.add_date > ${ctx.date}::date - ${days}::int
        and c.add_date <= ${ctx.date}::date`;
  },
  carriersOnDays(ctx, days) {
    // A carrier added on A is new on the dates A .. A + days − 1: bits lo..hi of the dates
    // (days[i] = days[0] + i), one range of the same partial index for all of them.
    const n = ctx.config.segments['new-carrier'].days;
    const first = days[0]!;
    const last = days[days.length - 1]!;
    return sql<{ dot_number: number; days: string }>`
      select c.dot_number,
             ((1::bigint << (least(${days.length - 1}::int, (c.add_date - ${first}::date) + ${n}::int - 1) + 1))
               - (1::bigint << greatest(0, c.add_date - ${first}::date)))::text as days
      from carriers c
      where c.status = 'active'
        and c.add_date > ${first}::date - ${n}::int
        and c.add_date <= ${last}::date`;
  },
  carrierDays(ctx, days, alias) {
    // carriersOnDays() for one row: the same range and the same bits.
    const n = ctx.config.segments['new-carrier'].days;
    const first = days[0]!;
    const last = days[days.length - 1]!;
    const added = carrierColumn(alias, 'add_date');
    return sql<string>`case when ${carrierColumn(alias, 'status')} = 'active' and ${added} > ${first}::date - ${n}::int and ${added} <= ${last}::date
      then (1::bigint << (least(${days.length - 1}::int, (${added} - ${first}::date) + ${n}::int - 1) + 1)) - (1::bigint << greatest(0, ${added} - ${first}::date))
      else 0::bigint end`;
  },
};
