/**
 * The MCS-150 biennial update slot rule (49 CFR 390.19), in plain TypeScript. The build runs the
 * same rule as set-based SQL (mcs150.ts); a test generates cases and checks both agree, so this
 * file is the readable statement of the rule and the SQL its fast twin.
 *
 * - Month: the USDOT number's last digit, 1 = January … 9 = September, 0 = October. The deadline
 *   is the last day of that month.
 * - Year: the next-to-last digit's parity, odd → odd-numbered years, even → even. A one-digit USDOT
 *   number has no next-to-last digit; we read it as 0 (even years), as a leading zero would be.
 * - A filing counts for deadline D when it is dated in the 12 months before D: after the last day
 *   of the same month one year earlier, up to and including D.
 * - Due: the next deadline (on or after the send date) is at most leadDays away and no filing
 *   counts for it yet.
 * - Overdue: the last deadline (before the send date) passed without a filing counting for it and
 *   none since (a late filing cures it). A carrier added to the census after that deadline could
 *   not have missed it.
 */
import { isoDate, lastDayOfMonth, parseIsoDate, daysBetween } from '../warmup/calendar.ts';

export type Mcs150Status = 'due' | 'overdue';

export function slotMonth(dot: number): number {
  const last = dot % 10;
  return last === 0 ? 10 : last;
}

/** 1 when the carrier files in odd-numbered years, 0 for even. */
export function slotParity(dot: number): 0 | 1 {
  return (Math.floor(dot / 10) % 10) % 2 === 1 ? 1 : 0;
}

function deadlineIn(year: number, month: number): string {
  return isoDate(year, month, lastDayOfMonth(year, month));
}

/** The first deadline on or after `date` (filing on the deadline day itself is on time). */
export function nextDeadline(dot: number, date: string): string {
  const { y } = parseIsoDate(date);
  const month = slotMonth(dot);
  const year = y % 2 === slotParity(dot) ? y : y + 1;
  const d = deadlineIn(year, month);
  return d >= date ? d : deadlineIn(year + 2, month);
}

/** The deadline before the next one: the most recent that has passed. */
export function lastDeadline(dot: number, date: string): string {
  const next = nextDeadline(dot, date);
  return deadlineIn(parseIsoDate(next).y - 2, slotMonth(dot));
}

/** The exclusive start of the 12-month window of deadline `d`: same month's last day, a year earlier. */
export function windowStart(deadline: string): string {
  const { y, m } = parseIsoDate(deadline);
  return deadlineIn(y - 1, m);
}

export interface Mcs150Carrier {
  dot_number: number;
  mcs150_date: string | null;
  add_date: string | null;
}

export interface Mcs150Verdict {
  status: Mcs150Status;
  /** The deadline the carrier is due for, or the one it missed. */
  deadline: string;
}

/** The carrier's segment status on `date`, or null when it is not in the segment. */
export function mcs150Status(c: Mcs150Carrier, date: string, leadDays: number): Mcs150Verdict | null {
  const last = lastDeadline(c.dot_number, date);
  const filed = c.mcs150_date;
  const existedAtLast = c.add_date === null || c.add_date <= last;
  if (existedAtLast && (filed === null || filed <= windowStart(last))) return { status: 'overdue', deadline: last };
  const next = nextDeadline(c.dot_number, date);
  if (daysBetween(date, next) <= leadDays && (filed === null || filed <= windowStart(next))) return { status: 'due', deadline: next };
  return null;
}
