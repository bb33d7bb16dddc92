/**
 * The days a report covers and the instant it describes. "Today" is the injected clock's day in
 * the firm's time zone (or --date): the report covers the N days ending on it, and describes the
 * state at `asOf`, which is now for today and the end of the day for a past date (a past report
 * shows the holds that were in force that evening, not this morning's).
 */
import { UsageError } from '../errors.ts';
import { addDays, localDate, parseIsoDate, zonedTime } from '../warmup/calendar.ts';

export const MAX_REPORT_DAYS = 366;

export interface ReportRange {
  /** First and last day covered (firm's time zone), both included. */
  from: string;
  to: string;
  /** Every day from `from` to `to`, in order. */
  days: string[];
  /** The instant the report describes. */
  asOf: Date;
  /** The instant `from` starts. */
  start: Date;
}

export function reportRange(opts: { date?: string; days: number }, now: Date, timeZone: string): ReportRange {
  if (!Number.isInteger(opts.days) || opts.days < 1 || opts.days > MAX_REPORT_DAYS) throw new UsageError(`--days must be a whole number from 1 to ${MAX_REPORT_DAYS}, got ${opts.days}`);
  const today = localDate(now, timeZone);
  const to = opts.date ?? today;
  parseIsoDate(to);
  if (to > today) throw new UsageError(`--date ${to} is after today (${today} in ${timeZone}): a report covers days that happened. For the days ahead, see \`audience plan\`.`);
  const from = addDays(to, -(opts.days - 1));
  const endOfDay = new Date(zonedTime(addDays(to, 1), 0, timeZone).getTime() - 1);
  return {
    from,
    to,
    days: Array.from({ length: opts.days }, (_, i) => addDays(from, i)),
    asOf: to === today ? now : endOfDay,
    start: zonedTime(from, 0, timeZone),
  };
}
