/**
 * Warmup day and daily cap. Warmup day = whole calendar days from the stamp's day to the send date,
 * both in the firm's time zone: a cron at 06:00 and an analyst at 23:00 get the same cap for a day.
 */
import { SafetyGateError } from '../errors.ts';
import { addDays, daysBetween } from './calendar.ts';
import type { WarmupConfig } from './config.ts';
import type { WarmupStart } from './start.ts';

export interface DayCap {
  date: string;
  warmupDay: number;
  /** Hourly rate Listmonk's sliding window should not exceed on this day. */
  hourly: number;
  /** Most addresses that may be pushed for this date, all segments together. */
  daily: number;
}

export function warmupDay(start: WarmupStart, date: string): number {
  return daysBetween(start.day, date);
}

/** The ramp step in force on `day`; the ceiling applies even if a config slipped past validation. */
export function capForDay(w: WarmupConfig, day: number): { hourly: number; daily: number } {
  if (day < 0) return { hourly: 0, daily: 0 };
  let step = w.ramp[0]!;
  for (const s of w.ramp) if (s.fromDay <= day) step = s;
  return { hourly: step.hourly, daily: Math.min(step.daily, w.hardCeiling) };
}

/** The cap of a send date; refuses dates before the warmup began. */
export function dayCap(w: WarmupConfig, start: WarmupStart, date: string): DayCap {
  const day = warmupDay(start, date);
  if (day < 0)
    throw new SafetyGateError(
      'warmup',
      `warmup starts on ${start.day} (${start.source}), after the send date ${date}: nothing may be pushed before it. Pick --date ${start.day} or later, or correct AUDIENCE_WARMUP_START.`,
    );
  return { date, warmupDay: day, ...capForDay(w, day) };
}

/** Caps of `days` consecutive dates from `from`; days before the start have cap 0. */
export function rampAhead(w: WarmupConfig, start: WarmupStart, from: string, days: number): DayCap[] {
  return Array.from({ length: days }, (_, i) => {
    const date = addDays(from, i);
    const day = warmupDay(start, date);
    return { date, warmupDay: day, ...capForDay(w, day) };
  });
}
