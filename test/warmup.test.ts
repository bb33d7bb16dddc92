import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, SafetyGateError } from '../src/errors.ts';
import { addDays, daysBetween, formatZoned, localDate, zonedTime } from '../src/warmup/calendar.ts';
import { warmupConfigSchema } from '../src/warmup/config.ts';
import { capForDay, dayCap, rampAhead, warmupDay } from '../src/warmup/ramp.ts';
import { resolveWarmupStart } from '../src/warmup/start.ts';

const TZ = 'America/Chicago';
const defaults = warmupConfigSchema.parse({});

describe('warmup start', () => {
  it('is a safety gate (exit 3) naming AUDIENCE_WARMUP_START when missing', () => {
    const e = (() => {
      try {
        resolveWarmupStart(undefined, TZ);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(SafetyGateError);
    expect((e as SafetyGateError).exitCode).toBe(3);
    expect((e as Error).message).toMatch(/set AUDIENCE_WARMUP_START/i);
  });

  it('reads a day, an RFC 3339 time and a file of epoch seconds, in the firm time zone', () => {
    expect(resolveWarmupStart('2026-11-20', TZ).day).toBe('2026-11-20');
    // 03:00Z on the 21st is still the 20th in Chicago.
    expect(resolveWarmupStart('2026-11-21T03:00:00Z', TZ).day).toBe('2026-11-20');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'warmup-'));
    const file = path.join(dir, 'pw-warmup-start');
    writeFileSync(file, '1764547200\n'); // 2025-12-01T00:00:00Z = 2025-11-30 18:00 in Chicago
    const s = resolveWarmupStart(file, TZ);
    expect(s.day).toBe('2025-11-30');
    expect(s.instant.toISOString()).toBe('2025-12-01T00:00:00.000Z');
    expect(s.source).toBe(`file ${file}`);
    expect(resolveWarmupStart(file, 'UTC').day).toBe('2025-12-01');
  });

  it('rejects a missing file or a file without epoch seconds with a config error that says what to do', () => {
    expect(() => resolveWarmupStart('/nonexistent/pw-warmup-start', TZ)).toThrow(ConfigError);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'warmup-'));
    const file = path.join(dir, 'bad');
    writeFileSync(file, 'yesterday');
    expect(() => resolveWarmupStart(file, TZ)).toThrow(/date \+%s/);
  });
});

describe('warmup day and cap', () => {
  const start = resolveWarmupStart('2026-11-20', TZ);

  it('counts whole calendar days since the start day', () => {
    expect(warmupDay(start, '2026-11-20')).toBe(0);
    expect(warmupDay(start, '2026-11-28')).toBe(8);
    expect(warmupDay(start, '2027-01-01')).toBe(42);
  });

  it('follows the ramp of the domain notes by default', () => {
    const daily = [0, 1, 2, 3, 4, 6, 7, 30].map((d) => capForDay(defaults, d).daily);
    expect(daily).toEqual([500, 500, 1500, 1500, 2500, 2500, 3000, 3000]);
    expect(capForDay(defaults, 5).hourly).toBe(250);
  });

  it('never goes above the hard ceiling, which configuration cannot raise above 4,000', () => {
    expect(() => warmupConfigSchema.parse({ hardCeiling: 5000 })).toThrow();
    expect(() => warmupConfigSchema.parse({ ramp: [{ fromDay: 0, hourly: 500, daily: 4500 }] })).toThrow(/hardCeiling/);
    const w = warmupConfigSchema.parse({ hardCeiling: 2000, ramp: [{ fromDay: 0, hourly: 100, daily: 1000 }, { fromDay: 3, hourly: 200, daily: 2000 }] });
    for (let d = 0; d < 400; d++) expect(capForDay(w, d).daily).toBeLessThanOrEqual(2000);
  });

  it('refuses a send date before the warmup began, and plans zero for it', () => {
    expect(() => dayCap(defaults, start, '2026-11-19')).toThrow(SafetyGateError);
    expect(dayCap(defaults, start, '2026-11-22')).toEqual({ date: '2026-11-22', warmupDay: 2, hourly: 150, daily: 1500 });
    const plan = rampAhead(defaults, start, '2026-11-18', 4);
    expect(plan.map((p) => [p.date, p.warmupDay, p.daily])).toEqual([
      ['2026-11-18', -2, 0],
      ['2026-11-19', -1, 0],
      ['2026-11-20', 0, 500],
      ['2026-11-21', 1, 500],
    ]);
  });
});

describe('calendar', () => {
  it('adds days across month and year ends', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(daysBetween('2026-11-28', '2027-01-27')).toBe(60);
  });

  it('places a send hour on the firm wall clock, across DST', () => {
    expect(zonedTime('2026-11-28', 9, TZ).toISOString()).toBe('2026-11-28T15:00:00.000Z'); // CST
    expect(zonedTime('2026-07-01', 9, TZ).toISOString()).toBe('2026-07-01T14:00:00.000Z'); // CDT
    expect(formatZoned(zonedTime('2026-11-28', 9, TZ), TZ)).toBe('2026-11-28T09:00:00-06:00');
    expect(localDate(new Date('2026-11-28T05:59:00Z'), TZ)).toBe('2026-11-27');
  });
});
