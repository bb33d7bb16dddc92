/**
 * The year of a traditional syslog timestamp (issue #14): the latest year that puts the line at or
 * before its file's reference (mtime, bounded by the run's clock) plus a day. Every instant here
 * is relative to a pinned clock, so the tests mean the same on any day they run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TraditionalClock, YEAR_SKEW_MS, yearReference, ZoneClock } from '../src/maillog/timestamp.ts';

const NOW = new Date('2026-12-06T12:00:00Z');
const DAY = 86_400_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Mmm dd HH:MM:SS` of an instant in a zone, as rsyslog writes it (space-padded day). */
function syslogStamp(ms: number, timeZone: string): string {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const p: Record<string, string> = {};
  for (const x of f.formatToParts(new Date(ms))) p[x.type] = x.value;
  return `${MONTHS[Number(p.month) - 1]} ${p.day!.padStart(2, ' ')} ${p.hour}:${p.minute}:${p.second}`;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('traditional timestamps: the year', () => {
  const utc = new ZoneClock('UTC');

  it('an old log copied on Dec 6: its "Dec 15" lines are last year\'s, not nine days ahead (main: this year)', () => {
    const clock = new TraditionalClock(utc, NOW);
    expect(iso(clock.parse('Dec 15 07:48:10'))).toBe('2025-12-15T07:48:10.000Z');
    expect(iso(clock.parse('Dec  6 11:00:00'))).toBe('2026-12-06T11:00:00.000Z');
    // Within the day of skew (a syslog zone ahead of the firm's): still this year.
    expect(iso(clock.parse('Dec  7 06:00:00'))).toBe('2026-12-07T06:00:00.000Z');
    expect(iso(clock.parse('Dec  8 06:00:00'))).toBe('2025-12-08T06:00:00.000Z');
    expect(iso(clock.parse('Jan  3 00:00:00'))).toBe('2026-01-03T00:00:00.000Z');
  });

  it('a log crossing New Year, written until Jan 2: Dec 30 and 31 are the old year, Jan 1 and 2 the new one', () => {
    const newYear = Date.UTC(new Date(NOW).getUTCFullYear() + 1, 0, 1);
    const mtime = new Date(newYear + DAY + 10 * 3_600_000);
    const clock = new TraditionalClock(utc, mtime);
    // A line every 5 hours from Dec 30 00:00 to the mtime.
    const instants: number[] = [];
    for (let t = newYear - 2 * DAY; t <= mtime.getTime(); t += 5 * 3_600_000) instants.push(t);
    const read = instants.map((t) => clock.parse(syslogStamp(t, 'UTC')));
    expect(read).toEqual(instants);
    expect(read.filter((t) => t! < newYear).map((t) => new Date(t!).getUTCFullYear())).toEqual(new Array(10).fill(new Date(newYear).getUTCFullYear() - 1));
  });

  it('the same in the firm\'s zone: Chicago\'s New Year is 06:00 UTC', () => {
    const chicago = new ZoneClock('America/Chicago');
    const clock = new TraditionalClock(chicago, new Date('2027-01-02T08:00:00Z'));
    expect(iso(clock.parse('Dec 31 23:30:00'))).toBe('2027-01-01T05:30:00.000Z');
    expect(iso(clock.parse('Jan  1 00:30:00'))).toBe('2027-01-01T06:30:00.000Z');
    expect(iso(clock.parse('Jan  2 01:00:00'))).toBe('2027-01-02T07:00:00.000Z');
  });

  it('Feb 29 takes the latest leap year that fits; a day no year has is not a timestamp', () => {
    const clock = new TraditionalClock(utc, new Date('2027-03-10T00:00:00Z'));
    expect(iso(clock.parse('Feb 29 10:00:00'))).toBe('2024-02-29T10:00:00.000Z');
    expect(iso(clock.parse('Feb 28 10:00:00'))).toBe('2027-02-28T10:00:00.000Z');
    expect(clock.parse('Feb 30 10:00:00')).toBeNull();
    expect(clock.parse('Apr 31 10:00:00')).toBeNull();
    expect(clock.parse('Apr  0 10:00:00')).toBeNull();
  });

  it('the reference is the mtime, never later than the run\'s clock', () => {
    expect(yearReference(new Date(NOW.getTime() - DAY), NOW).getTime()).toBe(NOW.getTime() - DAY);
    // A file stamped months ahead (a copy from a machine whose clock runs ahead): the clock wins.
    const ahead = new Date(NOW.getTime() + 90 * DAY);
    const clock = new TraditionalClock(utc, yearReference(ahead, NOW));
    expect(iso(clock.parse(syslogStamp(NOW.getTime() + 40 * DAY, 'UTC')))).toBe(iso(NOW.getTime() + 40 * DAY - 365 * DAY));
  });

  it('property: a line written at most 11 months before its reference reads back exactly, and never past the reference plus the skew', () => {
    for (const timeZone of ['UTC', 'America/Chicago', 'Pacific/Auckland']) {
      const zone = new ZoneClock(timeZone);
      fc.assert(
        fc.property(
          // References within four years around the pinned clock; lines up to 330 days before.
          fc.integer({ min: -2 * 365, max: 2 * 365 }),
          fc.integer({ min: 0, max: 330 * 24 * 60 }),
          (refDay, minutesBefore) => {
            const ref = NOW.getTime() + refDay * DAY;
            const line = Math.floor((ref - minutesBefore * 60_000) / 1000) * 1000;
            const stamp = syslogStamp(line, timeZone);
            const read = new TraditionalClock(zone, new Date(ref)).parse(stamp);
            expect(read).not.toBeNull();
            expect(read!).toBeLessThanOrEqual(ref + YEAR_SKEW_MS);
            // The wall clock repeats an hour when DST ends: the earlier instant of the two is read.
            expect(syslogStamp(read!, timeZone)).toBe(stamp);
            expect(Math.abs(read! - line)).toBeLessThanOrEqual(3_600_000);
          },
        ),
        { numRuns: 300 },
      );
    }
  });
});
