import { describe, expect, it } from 'vitest';
import { lastDeadline, mcs150Status, nextDeadline, slotMonth, slotParity, windowStart } from '../src/segments/mcs150-rule.ts';

const carrier = (dot_number: number, mcs150_date: string | null, add_date: string | null = '2001-01-01') => ({ dot_number, mcs150_date, add_date });

describe('MCS-150 slot (49 CFR 390.19)', () => {
  it('takes the month from the last digit, 0 meaning October', () => {
    expect([1234561, 1234567, 1234569, 1234560].map(slotMonth)).toEqual([1, 7, 9, 10]);
  });

  it('takes odd/even years from the next-to-last digit; a one-digit number files in even years', () => {
    expect(slotParity(1234567)).toBe(0); // 6 -> even
    expect(slotParity(1234577)).toBe(1); // 7 -> odd
    expect(slotParity(7)).toBe(0);
    expect(nextDeadline(7, '2026-01-10')).toBe('2026-07-31');
    expect(nextDeadline(7, '2027-01-10')).toBe('2028-07-31');
  });

  it('finds the next deadline on or after the date, and the one before it', () => {
    expect(nextDeadline(1234567, '2026-06-15')).toBe('2026-07-31');
    expect(nextDeadline(1234567, '2026-07-31')).toBe('2026-07-31'); // the deadline day is still on time
    expect(nextDeadline(1234567, '2026-08-01')).toBe('2028-07-31');
    expect(lastDeadline(1234567, '2026-08-01')).toBe('2026-07-31');
    expect(nextDeadline(1234577, '2026-06-15')).toBe('2027-07-31');
    expect(lastDeadline(1234577, '2026-06-15')).toBe('2025-07-31');
  });

  it('crosses the year boundary: a January slot seen from December', () => {
    // 1234511: January, odd years. From 2026-12-15 the next deadline is 2027-01-31, 47 days away.
    expect(nextDeadline(1234511, '2026-12-15')).toBe('2027-01-31');
    expect(mcs150Status(carrier(1234511, '2024-06-01'), '2026-12-15', 60)).toEqual({ status: 'due', deadline: '2027-01-31' });
    expect(mcs150Status(carrier(1234511, '2024-06-01'), '2026-12-15', 30)).toBeNull();
    // 1234521: January, even years: next is 2028-01-31, last 2026-01-31.
    expect(nextDeadline(1234521, '2026-12-15')).toBe('2028-01-31');
    expect(lastDeadline(1234521, '2026-12-15')).toBe('2026-01-31');
  });

  it('handles a 0 last digit (October) and the leadDays edge', () => {
    const c = carrier(1234560, '2024-10-01'); // filed for 2024-10-31, so not overdue
    expect(mcs150Status(c, '2026-09-01', 60)).toEqual({ status: 'due', deadline: '2026-10-31' }); // 60 days
    expect(mcs150Status(c, '2026-08-31', 60)).toBeNull(); // 61 days
  });

  it('counts a filing only in the 12 months before the deadline, February of a leap year included', () => {
    expect(windowStart('2028-02-29')).toBe('2027-02-28');
    expect(windowStart('2026-10-31')).toBe('2025-10-31');
    const dot = 1234582; // February, even years: 2028-02-29
    expect(mcs150Status(carrier(dot, '2027-02-28'), '2028-01-15', 60)).toEqual({ status: 'due', deadline: '2028-02-29' });
    expect(mcs150Status(carrier(dot, '2027-03-01'), '2028-01-15', 60)).toBeNull();
  });

  it('is overdue when the last deadline passed without a filing, and a late filing cures it', () => {
    expect(mcs150Status(carrier(1234567, '2025-07-31'), '2026-08-01', 60)).toEqual({ status: 'overdue', deadline: '2026-07-31' });
    expect(mcs150Status(carrier(1234567, '2025-08-01'), '2026-08-01', 60)).toBeNull(); // on time
    expect(mcs150Status(carrier(1234567, '2026-08-15'), '2026-09-01', 60)).toBeNull(); // late, cured
    expect(mcs150Status(carrier(1234567, null), '2026-09-01', 60)).toEqual({ status: 'overdue', deadline: '2026-07-31' });
  });

  it('does not call a carrier overdue for a deadline before it existed', () => {
    expect(mcs150Status(carrier(1234567, null, '2026-08-20'), '2026-09-01', 60)).toBeNull();
    expect(mcs150Status(carrier(1234567, null, null), '2026-09-01', 60)).toEqual({ status: 'overdue', deadline: '2026-07-31' });
  });

  it('prefers overdue over due when both hold', () => {
    // Last deadline 2024-10-31 missed, next 2026-10-31 is 30 days away.
    expect(mcs150Status(carrier(1234560, '2022-01-01'), '2026-10-01', 60)).toEqual({ status: 'overdue', deadline: '2024-10-31' });
  });
});
