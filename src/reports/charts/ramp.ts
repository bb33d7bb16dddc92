/**
 * The ramp chart: pushes by segment and what Postfix finished, side by side each day, under the
 * day's cap (a step line) and the hard ceiling (a dashed line). Bars over the cap or the ceiling
 * are drawn in the danger colour and pinned with how far over they went.
 */
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import type { RampDay } from '../data/ramp.ts';
import { axisStyle, baseOption, type ChartSpec } from './render.ts';
import { niceCeil } from './scale.ts';
import { capLine, DANGER, formatCount, INK, NEUTRAL, OKABE_ITO, SERIES_COLOURS, shortDay } from './theme.ts';

export const RAMP_CHART = { id: 'ramp', title: 'The ramp: cap, pushes by segment and what Postfix did, per day' };

type BarData = NonNullable<BarSeriesOption['data']>;

export function rampChart(days: readonly RampDay[], segments: readonly string[], width = 720, height = 380): ChartSpec {
  const x = days.map((d) => shortDay(d.date));
  const limit = (d: RampDay) => Math.min(d.cap ?? d.ceiling, d.ceiling);
  const pushedOver = (d: RampDay) => d.pushedTotal > limit(d);
  const finishedOver = (d: RampDay) => d.finished > limit(d);
  const bar = (name: string, stack: string, color: string, values: number[], over: (d: RampDay) => boolean): BarSeriesOption => ({
    type: 'bar',
    name,
    stack,
    color,
    barCategoryGap: '28%',
    barGap: '8%',
    data: values.map((v, i): BarData[number] => (over(days[i]!) ? { value: v, itemStyle: { color: DANGER } } : v)),
  });
  const series: (BarSeriesOption | LineSeriesOption)[] = [
    ...segments.map((s, i) => bar(`pushed: ${s}`, 'pushed', SERIES_COLOURS[i % 2]!, days.map((d) => d.pushed[s] ?? 0), pushedOver)),
    bar('sent', 'postfix', OKABE_ITO.bluishGreen, days.map((d) => d.sent), finishedOver),
    bar('bounced', 'postfix', OKABE_ITO.reddishPurple, days.map((d) => d.bounced), () => false),
    bar('expired', 'postfix', NEUTRAL, days.map((d) => d.expired), () => false),
    {
      type: 'line',
      name: 'deferred',
      color: OKABE_ITO.orange,
      symbol: 'none',
      lineStyle: { width: 1.5, type: [4, 3] },
      endLabel: { show: true, formatter: 'deferred', color: OKABE_ITO.orange, fontSize: 11 },
      data: days.map((d) => d.deferred),
    },
  ];
  const hasCap = days.some((d) => d.cap !== null);
  const ceiling = days[0]?.ceiling ?? 0;
  const spikes = days.filter((d) => pushedOver(d) || finishedOver(d));
  series.push({
    ...capLine(days.map((d) => d.cap ?? '-'), hasCap),
    markLine: {
      silent: true,
      symbol: 'none',
      lineStyle: { color: INK, type: 'dashed', width: 1.5 },
      label: { position: 'insideEndTop', formatter: `hard ceiling ${formatCount(ceiling)}`, color: INK, fontSize: 11 },
      data: [{ yAxis: ceiling }],
    },
    markPoint: {
      symbol: 'pin',
      symbolSize: 44,
      itemStyle: { color: DANGER },
      label: { color: '#fff', fontSize: 10, fontWeight: 'bold', formatter: (p: { name: string }) => p.name },
      data: spikes.map((d) => ({ coord: [shortDay(d.date), Math.max(d.pushedTotal, d.finished)], name: `+${formatCount(Math.max(d.pushedTotal, d.finished) - limit(d))}` })),
    },
  });
  const top = Math.max(ceiling, ...days.map((d) => Math.max(d.pushedTotal, d.finished, d.deferred)));
  return {
    ...RAMP_CHART,
    width,
    height,
    option: {
      ...baseOption(),
      grid: { left: 52, right: 70, top: 56, bottom: 34 },
      xAxis: { type: 'category', data: x, ...axisStyle, axisLabel: { ...axisStyle.axisLabel, hideOverlap: true }, splitLine: { show: false } },
      yAxis: { type: 'value', max: niceCeil(top * 1.08), ...axisStyle, axisLabel: { ...axisStyle.axisLabel, formatter: (v: number) => formatCount(v) } },
      series,
    },
  };
}
