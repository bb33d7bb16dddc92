/** The sections about causes and what lies ahead: the top deferral and bounce reasons, the audience ahead. */
import { audienceChart, exclusionsChart } from '../charts/audience.ts';
import { reasonKey, reasonsChart } from '../charts/reasons.ts';
import { formatCount } from '../charts/theme.ts';
import type { ReportData } from '../data/collect.ts';
import type { ReasonRow } from '../data/reasons.ts';
import type { Section } from './section.ts';
import type { TableSpec } from './table.ts';

function reasonsTable(caption: string, rows: readonly ReasonRow[], count: (r: ReasonRow) => number): TableSpec {
  return {
    caption,
    columns: [{ label: 'count', numeric: true }, { label: 'reason' }, { label: 'what the server said' }],
    empty: 'none',
    rows: rows.map((r) => ({ cells: [formatCount(count(r)), `${r.status} · ${reasonKey(r)}`, { text: r.said, cls: 'said' }] })),
  };
}

export function reasonsSection(d: ReportData): Section {
  const { lastDay, lastDayRows, periodRows } = d.reasons;
  const panel = (status: 'deferred' | 'bounced') => {
    const any = periodRows.some((r) => r.status === status);
    const rows = periodRows.filter((r) => r.status === status);
    return {
      chart: any ? reasonsChart(status, periodRows, lastDayRows, lastDay) : null,
      missing: `No ${status === 'deferred' ? 'deferral' : 'bounce'} in these days.`,
      table: {
        caption: `${status === 'deferred' ? 'Deferrals' : 'Bounces'}: the period${lastDay ? `, and ${lastDay}` : ''}`,
        columns: [{ label: 'reason' }, { label: 'period', numeric: true }, { label: 'last day', numeric: true }],
        empty: 'none',
        rows: rows.map((r) => ({ cells: [reasonKey(r), formatCount(r.count), formatCount(lastDayRows.find((l) => l.status === status && reasonKey(l) === reasonKey(r))?.count ?? 0)] })),
      } satisfies TableSpec,
    };
  };
  return {
    id: 'reasons',
    title: 'Top deferral and bounce reasons',
    lede: `What the receiving servers said (the runbook's \`said:\` grep), classified: by DSN, class and the provider that answered, for the whole period and for the last day with any${lastDay ? ` (${lastDay})` : ''}. Mail to the firm's own domains is left out.`,
    panels: [panel('deferred'), panel('bounced')],
    tables: [
      reasonsTable(`The last day${lastDay ? `, ${lastDay}` : ''}: what was said`, lastDayRows, (r) => r.count),
      reasonsTable('The period: what was said', periodRows, (r) => r.count),
    ],
  };
}

export function audienceSection(d: ReportData): Section {
  const a = d.audience;
  if ('error' in a)
    return { id: 'audience', title: 'The audience ahead', lede: 'The addresses eligible on each of the next days, against the ramp.', notes: [{ text: a.error, bad: true }], panels: [] };
  const left = a.daysOfAudienceLeft === null ? 'more than ten years' : `${a.daysOfAudienceLeft} day(s)`;
  return {
    id: 'audience',
    title: 'The audience ahead',
    lede: `Addresses eligible on each of the next ${a.days.length} days per segment, judged by the build's own rules on the data as it stands (what \`audience plan\` shows), against that day's cap and the caps summed from today. At this ramp, today's ${formatCount(a.days[0]!.eligibleTotal)} eligible addresses last ${left}.`,
    panels: [
      {
        chart: audienceChart(a),
        table: {
          caption: 'Per day ahead',
          columns: [{ label: 'date' }, { label: 'day', numeric: true }, { label: 'cap', numeric: true }, ...a.segments.map((s) => ({ label: s, numeric: true })), { label: 'total', numeric: true }],
          rows: a.days.map((x) => ({ cells: [x.date, String(x.warmupDay), formatCount(x.daily), ...a.segments.map((s) => formatCount(x.eligible[s] ?? 0)), formatCount(x.eligibleTotal)] })),
        },
      },
      {
        chart: a.excluded.length ? exclusionsChart(a) : null,
        missing: `None of today's ${formatCount(a.candidates)} candidate(s) is excluded.`,
        table: {
          caption: `Today's ${formatCount(a.candidates)} candidates: exclusions`,
          columns: [{ label: 'reason' }, { label: 'addresses', numeric: true }],
          empty: 'none excluded',
          rows: a.excluded.map((e) => ({ cells: [e.code, formatCount(e.count)] })),
        },
      },
    ],
  };
}
