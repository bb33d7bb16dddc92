/**
 * DKIM coverage of campaign mail per day: all campaign mail and each Listmonk stream, the minimum
 * as a line, the days below it marked in the danger colour (and days with too few messages for the
 * hold to judge as hollow marks).
 */
import type { LineSeriesOption } from 'echarts/charts';
import type { DkimSeries } from '../data/dkim.ts';
import { axisStyle, baseOption, type ChartSpec } from './render.ts';
import { endsAtRight, percentFloor } from './scale.ts';
import { DANGER, formatPercent, INK, MUTED, SERIES_COLOURS, shortDay } from './theme.ts';

export const DKIM_CHART = { id: 'dkim', title: 'DKIM coverage of campaign mail per day and stream, against the minimum' };

const pct = (c: number | null) => (c === null ? '-' : Math.floor(c * 1000) / 10);

export function dkimChart(d: DkimSeries, width = 720, height = 340): ChartSpec {
  const x = d.days.map((day) => shortDay(day.date));
  const streams: LineSeriesOption[] = d.streams.map((s, i) => {
    const colour = SERIES_COLOURS[(i + 1) % (SERIES_COLOURS.length - 1)]!;
    const data = d.days.map((day) => pct(day.streams[s]?.coverage ?? null));
    return {
      type: 'line',
      name: `stream: ${s}`,
      color: colour,
      symbol: 'circle',
      symbolSize: 4,
      showSymbol: d.days.length <= 45,
      lineStyle: { width: 1.5 },
      endLabel: { show: endsAtRight(data), formatter: s, color: colour, fontSize: 11 },
      labelLayout: { moveOverlap: 'shiftY' },
      data,
    };
  });
  const all = [...d.days.map((day) => day.coverage), ...d.days.flatMap((day) => Object.values(day.streams).map((s) => s.coverage))];
  const floor = Math.min(percentFloor(all.map((c) => (c === null ? null : c * 100))), Math.floor(d.minimum * 100) - 5);
  const totals = d.days.map((day) => pct(day.coverage));
  const total: LineSeriesOption = {
    type: 'line',
    name: 'all campaign mail',
    color: INK,
    symbol: 'circle',
    symbolSize: 5,
    showSymbol: d.days.length <= 45,
    lineStyle: { width: 2.5 },
    z: 3,
    endLabel: { show: endsAtRight(totals), formatter: 'all', color: INK, fontSize: 11, fontWeight: 'bold' },
    labelLayout: { moveOverlap: 'shiftY' },
    data: totals,
    markLine: {
      silent: true,
      symbol: 'none',
      lineStyle: { color: DANGER, type: 'dashed', width: 1.5 },
      label: { position: 'insideStartBottom', formatter: `minimum ${formatPercent(d.minimum)}`, color: DANGER, fontSize: 11, fontWeight: 'bold' },
      data: [{ yAxis: d.minimum * 100 }],
    },
    markPoint: {
      silent: true,
      data: [
        ...d.days
          .filter((day) => day.below)
          .map((day) => ({
            name: `below on ${day.date}`,
            coord: [shortDay(day.date), pct(day.coverage)],
            symbol: day.tooFew ? 'emptyCircle' : 'circle',
            symbolSize: 11,
            itemStyle: { color: DANGER, borderColor: DANGER },
            label: { show: false },
          })),
      ],
    },
  };
  return {
    ...DKIM_CHART,
    width,
    height,
    option: {
      ...baseOption(),
      grid: { left: 52, right: 90, top: 56, bottom: 34 },
      xAxis: { type: 'category', data: x, boundaryGap: false, ...axisStyle, axisLabel: { ...axisStyle.axisLabel, hideOverlap: true }, splitLine: { show: false } },
      yAxis: { type: 'value', min: floor, max: 100, ...axisStyle, axisLabel: { ...axisStyle.axisLabel, formatter: '{value}%' }, nameTextStyle: { color: MUTED } },
      series: [...streams, total],
    },
  };
}
