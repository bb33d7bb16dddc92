/**
 * The top reasons of one status (deferrals or bounces): a horizontal bar per reason (DSN, class,
 * provider) for the period and, beside it, for the last day. What the servers said is in the
 * table, where it can be read whole.
 */
import type { BarSeriesOption } from 'echarts/charts';
import type { ReasonRow } from '../data/reasons.ts';
import { axisStyle, baseOption, labelWidth, type ChartSpec } from './render.ts';
import { displayName, formatCount, MUTED, OKABE_ITO, shortDay } from './theme.ts';
import { visibleControls } from '../../text/control-chars.ts';

export const REASON_CHARTS = {
  deferred: { id: 'deferrals', title: 'Top deferral reasons: the period and the last day' },
  bounced: { id: 'bounces', title: 'Top bounce reasons: the period and the last day' },
} as const;

/** One reason's key and label: `4.7.28 rate_limited · Google`. The DSN comes from the log: shown as text, controls made visible. */
export function reasonKey(r: ReasonRow): string {
  return `${visibleControls(r.dsn ?? '—')} ${r.class} · ${displayName(r.provider)}`;
}

export function reasonsChart(status: 'deferred' | 'bounced', period: readonly ReasonRow[], lastDay: readonly ReasonRow[], lastDate: string | null, width = 720): ChartSpec {
  const mine = (rows: readonly ReasonRow[]) => rows.filter((r) => r.status === status);
  const p = new Map(mine(period).map((r) => [reasonKey(r), r.count]));
  const l = new Map(mine(lastDay).map((r) => [reasonKey(r), r.count]));
  const keys = [...p.keys(), ...[...l.keys()].filter((k) => !p.has(k))];
  const colour = status === 'deferred' ? OKABE_ITO.orange : OKABE_ITO.reddishPurple;
  const bar = (name: string, values: Map<string, number>, style: BarSeriesOption['itemStyle']): BarSeriesOption => ({
    type: 'bar',
    name,
    itemStyle: style,
    barMaxWidth: 14,
    barGap: '15%',
    label: { show: true, position: 'right', color: MUTED, fontSize: 11, formatter: (v: { value: unknown }) => (typeof v.value === 'number' && v.value > 0 ? formatCount(v.value) : '') },
    data: keys.map((k) => values.get(k) ?? 0),
  });
  return {
    ...REASON_CHARTS[status],
    width,
    height: 64 + Math.max(1, keys.length) * 40,
    option: {
      ...baseOption(),
      grid: { left: Math.min(340, labelWidth(keys)), right: 56, top: 34, bottom: 24 },
      xAxis: { type: 'value', ...axisStyle, axisLabel: { ...axisStyle.axisLabel, formatter: (v: number) => formatCount(v) } },
      yAxis: { type: 'category', data: keys, inverse: true, ...axisStyle, axisLabel: { ...axisStyle.axisLabel, color: '#1f2328', fontSize: 12, width: 326, overflow: 'truncate' }, splitLine: { show: false } },
      series: [
        bar('the period', p, { color: colour }),
        bar(lastDate ? `the last day, ${shortDay(lastDate)}` : 'the last day', l, { color: colour, opacity: 0.45, borderColor: colour, borderWidth: 1 }),
      ],
    },
  };
}
