/**
 * `mcs150`: active carriers due or overdue for the MCS-150 biennial update on the send date.
 * The set-based twin of mcs150-rule.ts (read that file for the rule); a test checks they agree.
 */
import { sql } from 'kysely';
import type { Segment } from './segment.ts';

export const mcs150: Segment = {
  name: 'mcs150',
  description: 'active carriers whose MCS-150 biennial update (49 CFR 390.19) is due within leadDays or overdue',
  configSection: 'mcs150',
  carriers(ctx) {
    const d = ctx.date;
    const lead = ctx.config.segments.mcs150.leadDays;
    // slot: month from the last digit (0 = October), parity of the next-to-last digit.
    // ny: the year of the next deadline on or after d. y0 is the first year >= year(d) with the
    // slot's parity; its deadline (last day of `month`) is on or after d unless month < month(d).
    const deadline = (yearExpr: ReturnType<typeof sql>) => sql`((make_date(${yearExpr}, s.month, 1) + interval '1 month')::date - 1)`;
    return sql<{ dot_number: number; note: string }>`
      select dot_number,
             case when overdue then 'overdue since ' || last_dl else 'due ' || next_dl end as note
      from (
        select s.dot_number,
               ${deadline(sql`n.ny`)} as next_dl,
               ${deadline(sql`n.ny - 2`)} as last_dl,
               (s.add_date is null or s.add_date <= ${deadline(sql`n.ny - 2`)})
                 and (s.mcs150_date is null or s.mcs150_date <= ${deadline(sql`n.ny - 3`)}) as overdue,
               ${deadline(sql`n.ny`)} - ${d}::date <= ${lead}::int
                 and (s.mcs150_date is null or s.mcs150_date <= ${deadline(sql`n.ny - 1`)}) as due
        from (
          select c.dot_number, c.mcs150_date, c.add_date,
                 case when c.dot_number % 10 = 0 then 10 else (c.dot_number % 10)::int end as month,
                 ((c.dot_number / 10) % 10 % 2)::int as parity
          from carriers c
          where c.status = 'active'
        ) s
        cross join lateral (
          select y0 + case when y0 > yd or s.month >= md then 0 else 2 end as ny
          from (select extract(year from ${d}::date)::int as yd, extract(month from ${d}::date)::int as md) p
          cross join lateral (select p.yd + (p.yd + s.parity) % 2 as y0) q
        ) n
      ) t
      where overdue or due`;
  },
};
