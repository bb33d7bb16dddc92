/**
 * Calendar arithmetic on 'YYYY-MM-DD' days and wall-clock times in the firm's time zone.
 * A send date is a calendar day in config.timezone, never a JS Date (which would carry the
 * machine's offset); instants are converted only at the edges (warmup stamp, campaign send_at).
 */
import { UsageError } from '../errors.ts';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Parses 'YYYY-MM-DD' and checks it is a real day. */
export function parseIsoDate(s: string): { y: number; m: number; d: number } {
  const m = ISO_DATE.exec(s);
  if (!m) throw new UsageError(`"${s}" is not a date: use YYYY-MM-DD, e.g. 2026-11-28`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > lastDayOfMonth(y, mo)) throw new UsageError(`"${s}" is not a calendar day: check the month and day`);
  return { y, m: mo, d };
}

export function isIsoDate(s: string): boolean {
  try {
    parseIsoDate(s);
    return true;
  } catch {
    return false;
  }
}

export function isoDate(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** Days in month `m` (1–12) of year `y`. */
export function lastDayOfMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function toUtcMs(s: string): number {
  const { y, m, d } = parseIsoDate(s);
  return Date.UTC(y, m - 1, d);
}

export function addDays(s: string, n: number): string {
  const t = new Date(toUtcMs(s) + n * DAY_MS);
  return isoDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** Whole calendar days from `a` to `b` (positive when b is later). */
export function daysBetween(a: string, b: string): number {
  return Math.round((toUtcMs(b) - toUtcMs(a)) / DAY_MS);
}

/** The calendar day `instant` falls on in time zone `tz`. */
export function localDate(instant: Date, tz: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(instant);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** Offset of `tz` from UTC at `instant`, in minutes (e.g. -360 for America/Chicago in winter). */
function offsetMinutes(instant: Date, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((wall - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/**
 * The instant when the wall clock in `tz` shows `date` at `hour`:00. Two passes settle the offset
 * across a DST change; an hour skipped by spring-forward resolves to the hour after it.
 */
export function zonedTime(date: string, hour: number, tz: string): Date {
  const { y, m, d } = parseIsoDate(date);
  const wall = Date.UTC(y, m - 1, d, hour);
  let t = wall - offsetMinutes(new Date(wall), tz) * 60_000;
  t = wall - offsetMinutes(new Date(t), tz) * 60_000;
  return new Date(t);
}

/** RFC 3339 with the zone's own offset (what Listmonk echoes back), e.g. 2026-11-28T09:00:00-06:00. */
export function formatZoned(instant: Date, tz: string): string {
  const off = offsetMinutes(instant, tz);
  const local = new Date(instant.getTime() + off * 60_000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local.toISOString().slice(0, 19)}${sign}${hh}:${mm}`;
}
