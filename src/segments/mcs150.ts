/**
 * `mcs150`: active carriers due or overdue for the MCS-150 biennial update on the send date.
 * The rule (mcs150-rule.ts) gives every carrier one of 20 slots (last digit × year parity), and on
 * a given date all carriers of a slot share the same deadlines. So the date arithmetic runs once
 * per slot, in TypeScript, through the very functions that state the rule; the set-based SQL only
 * compares each carrier's dates with its slot's (a 20-row join instead of date arithmetic on
 * millions of rows). A test checks the SQL against mcs150Status() on generated carriers.
 */
import { sql } from 'kysely';
import { InternalError } from '../errors.ts';
import { daysBetween } from '../warmup/calendar.ts';
import { lastDeadline, nextDeadline, windowStart } from './mcs150-rule.ts';
import { amongCarriers, carrierColumn, type Segment } from './segment.ts';

export interface SlotDates {
  lastDigit: number;
  parity: 0 | 1;
  /** The deadline before the date, and the exclusive start of its 12-month filing window. */
  lastDeadline: string;
  lastWindowStart: string;
  /** The deadline on or after the date, its window start, and whether it is within leadDays. */
  nextDeadline: string;
  nextWindowStart: string;
  dueSoon: boolean;
}

/** The deadlines of each of the 20 slots on `date`. */
export function slotDates(date: string, leadDays: number): SlotDates[] {
  const out: SlotDates[] = [];
  for (const parity of [0, 1] as const) {
    for (let lastDigit = 0; lastDigit <= 9; lastDigit++) {
      // A representative USDOT number of the slot: 1, then next-to-last digit = parity, last = lastDigit.
      const dot = 100 + parity * 10 + lastDigit;
      const last = lastDeadline(dot, date);
      const next = nextDeadline(dot, date);
      out.push({ lastDigit, parity, lastDeadline: last, lastWindowStart: windowStart(last), nextDeadline: next, nextWindowStart: windowStart(next), dueSoon: daysBetween(date, next) <= leadDays });
    }
  }
  return out;
}

/** The dates' distinct slot tables, each with the bits of the dates (days[i]: bit i) it serves. */
function slotForms(days: readonly string[], leadDays: number): { slots: SlotDates[]; mask: bigint }[] {
  const forms: { slots: SlotDates[]; mask: bigint }[] = [];
  const seen = new Map<string, number>();
  days.forEach((date, i) => {
    const slots = slotDates(date, leadDays);
    const key = JSON.stringify(slots);
    let f = seen.get(key);
    if (f === undefined) {
      f = forms.push({ slots, mask: 0n }) - 1;
      seen.set(key, f);
    }
    forms[f]!.mask |= 1n << BigInt(i);
  });
  return forms;
}

export const mcs150: Segment = {
  name: 'mcs150',
  description: 'active carriers whose MCS-150 biennial update (49 CFR 390.19) is due within leadDays or overdue',
  configSection: 'mcs150',
  carriers(ctx) {
    const slots = slotDates(ctx.date, ctx.config.segments.mcs150.leadDays);
    const col = <K extends keyof SlotDates>(k: K) => slots.map((s) => s[k]);
    // (dot / 10) % 2 is the parity of the next-to-last digit (10 is even).
    return sql<{ dot_number: number; note: string }>`
      select dot_number, case when overdue then 'overdue since ' || last_dl else 'due ' || next_dl end as note
      from (
        select c.dot_number, s.last_dl, s.next_dl,
               (c.add_date is null or c.add_date <= s.last_dl) and (c.mcs150_date is null or c.mcs150_date <= s.last_ws) as overdue,
               s.due_soon and (c.mcs150_date is null or c.mcs150_date <= s.next_ws) as due
        from carriers c
        join unnest(${col('lastDigit')}::int[], ${col('parity')}::int[], ${col('lastDeadline')}::date[], ${col('lastWindowStart')}::date[],
                    ${col('nextDeadline')}::date[], ${col('nextWindowStart')}::date[], ${col('dueSoon')}::boolean[])
             as s(last_digit, parity, last_dl, last_ws, next_dl, next_ws, due_soon)
          on s.last_digit = c.dot_number % 10 and s.parity = (c.dot_number / 10) % 2
        where c.status = 'active' ${amongCarriers(ctx, sql`c.dot_number`)}
      ) t
      where overdue or due`;
  },
  carriersOnDays(ctx, days) {
    // The dates' distinct slot tables (they change when a deadline passes or comes within
    // leadDays: a few times a month), each with the bits of the dates it serves; one scan of the
    // carriers judges every table through one 20-row join, with the very conditions of carriers().
    const forms = slotForms(days, ctx.config.segments.mcs150.leadDays);
    // Every form lists the slots in the same order (slotDates), so one row per slot carries them all.
    const base = forms[0]!.slots;
    const arrays = [sql`${base.map((s) => s.lastDigit)}::int[]`, sql`${base.map((s) => s.parity)}::int[]`];
    const names = [sql`last_digit`, sql`parity`];
    const terms = forms.map((f, i) => {
      const col = <K extends keyof SlotDates>(k: K, type: string) => {
        arrays.push(sql`${f.slots.map((s) => s[k])}::${sql.raw(type)}[]`);
        names.push(sql.ref(`${k}_${i}`));
        return sql.ref(`s.${k}_${i}`);
      };
      const lastDl = col('lastDeadline', 'date');
      const lastWs = col('lastWindowStart', 'date');
      const nextWs = col('nextWindowStart', 'date');
      const dueSoon = col('dueSoon', 'boolean');
      return sql`case when ((c.add_date is null or c.add_date <= ${lastDl}) and (c.mcs150_date is null or c.mcs150_date <= ${lastWs}))
                        or (${dueSoon} and (c.mcs150_date is null or c.mcs150_date <= ${nextWs}))
                      then ${String(f.mask)}::bigint else 0::bigint end`;
    });
    if (forms.some((f) => f.slots.some((s, j) => s.lastDigit !== base[j]!.lastDigit || s.parity !== base[j]!.parity))) throw new InternalError('slotDates changed its slot order: mcs150.carriersOnDays joins the forms row by row');
    return sql<{ dot_number: number; days: string }>`
      select dot_number, days::text as days from (
        select c.dot_number, ${sql.join(terms, sql` | `)} as days
        from carriers c
        join unnest(${sql.join(arrays)}) as s(${sql.join(names)})
          on s.last_digit = c.dot_number % 10 and s.parity = (c.dot_number / 10) % 2
        where c.status = 'active'
      ) t
      where days <> 0`;
  },
  carrierDays(ctx, days, alias) {
    // The conditions of carriersOnDays(), with the row's slot looked up by position in each form's
    // arrays instead of joined: slotDates() lists the slots parity first, then last digit, so the
    // slot of USDOT n is element 10 × parity + last digit + 1. A negative number has no slot there
    // (its remainders are negative): the guard keeps it out, as the join does.
    const dot = carrierColumn(alias, 'dot_number');
    const added = carrierColumn(alias, 'add_date');
    const filed = carrierColumn(alias, 'mcs150_date');
    const slot = sql`(10 * ((${dot} / 10) % 2) + ${dot} % 10 + 1)::int`;
    const terms = slotForms(days, ctx.config.segments.mcs150.leadDays).map((f) => {
      f.slots.forEach((s, j) => {
        if (s.parity * 10 + s.lastDigit !== j) throw new InternalError('slotDates changed its slot order: mcs150.carrierDays looks slots up by position');
      });
      const at = <K extends keyof SlotDates>(k: K, type: string) => sql`(${f.slots.map((s) => s[k])}::${sql.raw(type)}[])[${slot}]`;
      return sql`case when ((${added} is null or ${added} <= ${at('lastDeadline', 'date')}) and (${filed} is null or ${filed} <= ${at('lastWindowStart', 'date')}))
                        or (${at('dueSoon', 'boolean')} and (${filed} is null or ${filed} <= ${at('nextWindowStart', 'date')}))
                      then ${String(f.mask)}::bigint else 0::bigint end`;
    });
    return sql<string>`case when ${carrierColumn(alias, 'status')} = 'active' and ${dot} >= 0 then ${sql.join(terms, sql` | `)} else 0::bigint end`;
  },
};
