import { describe, expect, it } from 'vitest';
import { htmlToPlainText, sendAtFor } from '../src/push/campaign.ts';
import { importCsv } from '../src/push/export.ts';
import type { PushRow } from '../src/push/ledger.ts';
import { listName } from '../src/push/names.ts';
import { UsageError } from '../src/errors.ts';
import { slotDates } from '../src/segments/mcs150.ts';
import { selectSegments } from '../src/segments/index.ts';

const row: PushRow = {
  id: 1,
  segment: 'mcs150',
  address: 'dispatch@roadrunner-freight.test',
  dot_number: 3900011,
  rank: 1,
  note: 'due 2027-01-31',
  provider: 'google',
  legal_name: 'ROADRUNNER "RR" FREIGHT, LLC',
  dba_name: null,
  state: 'OK',
  power_units: 12,
  mcs150_date: '2025-01-14',
  add_date: '2019-03-02',
};

describe('build helpers', () => {
  it('writes a Listmonk import CSV with quoted names and JSON attributes', () => {
    const [head, line] = importCsv([row], 42).trim().split('\n');
    expect(head).toBe('email,name,attributes');
    expect(line!.startsWith('dispatch@roadrunner-freight.test,"ROADRUNNER ""RR"" FREIGHT, LLC","{')).toBe(true);
    const json = line!.slice(line!.indexOf(',"{') + 2, -1).replace(/""/g, '"');
    expect(JSON.parse(json)).toEqual({
      dot_number: 3900011,
      legal_name: 'ROADRUNNER "RR" FREIGHT, LLC',
      dba_name: null,
      state: 'OK',
      power_units: 12,
      mcs150_date: '2025-01-14',
      add_date: '2019-03-02',
      segment: 'mcs150',
      segment_note: 'due 2027-01-31',
      run_id: 42,
    });
  });

  it('derives a readable plain-text part from the campaign HTML, keeping template tags', () => {
    const text = htmlToPlainText('<h1>Due</h1><p>Hello {{ .Subscriber.Name }},</p><img src="x.png"><p><a href="{{ UnsubscribeURL }}">Unsubscribe</a></p>');
    expect(text).toBe('DUE\n\nHello {{ .Subscriber.Name }},\n\nUnsubscribe [{{ UnsubscribeURL }}]');
  });

  it('places --send-hour on the firm wall clock and refuses past or invalid hours', () => {
    const now = new Date('2026-11-28T12:00:00Z'); // 06:00 in Chicago
    expect(sendAtFor('2026-11-28', 9, 'America/Chicago', now).toISOString()).toBe('2026-11-28T15:00:00.000Z');
    expect(() => sendAtFor('2026-11-28', 6, 'America/Chicago', now)).toThrow(/already passed/);
    expect(() => sendAtFor('2026-11-28', 24, 'America/Chicago', now)).toThrow(UsageError);
  });

  it('names lists after prefix, segment and date, and knows the registered segments', () => {
    expect(listName('audience', 'mcs150', '2026-11-28')).toBe('audience mcs150 2026-11-28');
    expect(listName('', 'mcs150', '2026-11-28')).toBe('mcs150 2026-11-28');
    expect(selectSegments(undefined).map((s) => s.name)).toEqual(['mcs150', 'new-carrier']);
    expect(selectSegments(['new-carrier']).map((s) => s.name)).toEqual(['new-carrier']);
    expect(() => selectSegments(['ucr'])).toThrow(/Known segments: mcs150, new-carrier/);
  });

  it('computes the 20 MCS-150 slots of a date once (October for 0, odd/even years)', () => {
    const slots = slotDates('2026-12-15', 60);
    expect(slots).toHaveLength(20);
    expect(slots.find((s) => s.lastDigit === 1 && s.parity === 1)).toMatchObject({ nextDeadline: '2027-01-31', lastDeadline: '2025-01-31', dueSoon: true });
    expect(slots.find((s) => s.lastDigit === 0 && s.parity === 0)).toMatchObject({ nextDeadline: '2028-10-31', lastDeadline: '2026-10-31', lastWindowStart: '2025-10-31', dueSoon: false });
  });
});
