/**
 * The audience ahead: the addresses eligible on each of the next days per segment (stacked), against
 * the ramp: that day's cap, and the caps summed from today up to the day they pass the audience
 * (the ramp has used it up by then); and the reasons that exclude today's candidates.
 */
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import type { AudienceAhead } from '../data/audience.ts';
import { axisStyle, baseOption, labelWidth, type ChartSpec } from './render.ts';
import { niceCeil } from './scale.ts';
import { capLine, formatCount, INK, MUTED, NEUTRAL, OKABE_ITO, SERIES_COLOURS, shortDay } from './theme.ts';

export const AUDIENCE_CHART = { id: 'audience', title: 'Eligible addresses per segment against the cap, for the days ahead' };
export const EXCLUSIONS_CHART = { id: 'exclusions', title: "Why today's candidates are excluded" };

export function audienceChart(a: AudienceAhead, width = 720, height = 340): ChartSpec {
  const x = a.days.map((d) => shortDay(d.date));
  const last = a.segments.length - 1;
  const bars: BarSeriesOption[] = a.segments.map((s, i) => ({
    type: 'bar',
    name: `eligible: ${s}`,
    stack: 'eligible',
    color: SERIES_COLOURS[i % 2]!,
    barCategoryGap: '35%',
    // The day's total on top of its stack: small pools stay readable beside a large cap.
    label: i === last ? { show: true, position: 'top', color: MUTED, fontSize: 10, formatter: (p: { dataIndex: number }) => formatCount(a.days[p.dataIndex]!.eligibleTotal) } : undefined,
    data: a.days.map((d) => d.eligible[s] ?? 0),
  }));
  // The caps summed from today, up to the day they pass that day's audience (used up): beyond
  // it the line would only grow and flatten the bars.
  let sum = 0;
  let usedUp = -1;
  const summed = a.days.map((d, i) => {
    if (usedUp >= 0) return null;
    sum += d.daily;
    if (sum >= d.eligibleTotal) usedUp = i;
    return sum;
  });
  const lines: LineSeriesOption[] = [
    capLine(a.days.map((d) => d.daily)),
    {
      type: 'line',
      name: 'caps summed from today',
      color: OKABE_ITO.orange,
      symbol: 'none',
      lineStyle: { width: 2, type: [6, 4] },
      endLabel: { show: usedUp < 0, formatter: 'summed', color: OKABE_ITO.orange, fontWeight: 'bold', fontSize: 11 },
      data: summed.map((v) => v ?? '-'),
      markPoint:
        usedUp >= 0
          ? {
              symbol: 'circle',
              symbolSize: 9,
              itemStyle: { color: OKABE_ITO.orange },
              label: { show: true, position: 'top', formatter: 'used up', color: OKABE_ITO.orange, fontWeight: 'bold', fontSize: 11 },
              data: [{ name: 'used up', coord: [x[usedUp]!, summed[usedUp]!] }],
            }
          : undefined,
    },
  ];
  const top = Math.max(...a.days.map((d) => Math.max(d.daily, d.eligibleTotal)), ...summed.map((v) => v ?? 0), 1);
  return {
    ...AUDIENCE_CHART,
    width,
    height,
    option: {
      ...baseOption(),
      grid: { left: 56, right: 70, top: 56, bottom: 34 },
      xAxis: { type: 'category', data: x, ...axisStyle, splitLine: { show: false } },
      yAxis: { type: 'value', max: niceCeil(top * 1.08), ...axisStyle, axisLabel: { ...axisStyle.axisLabel, formatter: (v: number) => formatCount(v) } },
      series: [...bars, ...lines],
    },
  };
}

export function exclusionsChart(a: AudienceAhead, width = 720): ChartSpec {
  const rows = a.excluded;
  return {
    ...EXCLUSIONS_CHART,
    width,
    height: 40 + Math.max(1, rows.length) * 30,
    option: {
      ...baseOption(),
      legend: { show: false },
      grid: { left: labelWidth(rows.map((r) => r.code)), right: 64, top: 8, bottom: 24 },
      xAxis: { type: 'value', ...axisStyle, axisLabel: { ...axisStyle.axisLabel, formatter: (v: number) => formatCount(v) } },
      yAxis: { type: 'category', data: rows.map((r) => r.code), inverse: true, ...axisStyle, axisLabel: { ...axisStyle.axisLabel, color: INK, fontSize: 12 }, splitLine: { show: false } },
      series: [
        {
          type: 'bar',
          name: 'excluded',
          color: NEUTRAL,
          barMaxWidth: 18,
          label: { show: true, position: 'right', color: MUTED, fontSize: 11, formatter: (v: { value: unknown }) => formatCount(Number(v.value)) },
          data: rows.map((r) => r.count),
        },
      ],
    },
  };
}
