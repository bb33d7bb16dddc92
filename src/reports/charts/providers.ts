/**
 * Delivery rate per day and provider group, with the provider and global holds of the range as
 * bands from their start to their end, each labelled with its provider and reason. The Yahoo family is never mailed: its
 * legend entry says how many attempts it had (zero), and it is drawn, in the danger colour, only
 * when it had any.
 */
import type { LineSeriesOption } from 'echarts/charts';
import { visibleControls } from '../../text/control-chars.ts';
import type { HoldBand } from '../data/holds.ts';
import { OTHER_GROUP, YAHOO_GROUP, type ProviderSeries } from '../data/providers.ts';
import { axisStyle, baseOption, type ChartSpec } from './render.ts';
import { endsAtRight, percentFloor } from './scale.ts';
import { DANGER, displayName, formatCount, INK, MUTED, NEUTRAL, SERIES_COLOURS, shortDay } from './theme.ts';

export const PROVIDERS_CHART = { id: 'providers', title: 'Delivery rate per provider and day, with holds' };

export function groupColour(group: string, groups: readonly string[]): string {
  if (group === YAHOO_GROUP) return DANGER;
  if (group === OTHER_GROUP) return NEUTRAL;
  return SERIES_COLOURS[groups.indexOf(group) % (SERIES_COLOURS.length - 1)]!;
}

/** What a hold holds: `Google`, `global`, or the domain of a domain hold. */
export function holdSubject(h: { scope: string; provider: string | null; domain: string | null }): string {
  return visibleControls(h.scope === 'global' ? 'global' : h.scope === 'domain' ? (h.domain ?? '') : displayName(h.provider ?? ''));
}

/** `Google hold: reputation_block`; an operator's provider or reason shows its control characters as escapes. */
export function holdLabel(h: HoldBand): string {
  return `${holdSubject(h)} hold: ${visibleControls(h.reason)}`;
}

/**
 * The holds drawn as bands: provider and global ones. A domain hold holds one small mail server's
 * domains, which the lines (whole providers) do not show, and they can be many: the table lists them.
 */
export function bandHolds(holds: readonly HoldBand[]): HoldBand[] {
  return holds.filter((h) => h.scope !== 'domain');
}

export function providersChart(p: ProviderSeries, allHolds: readonly HoldBand[], width = 720, height = 380): ChartSpec {
  const holds = bandHolds(allHolds);
  const x = p.days.map((d) => shortDay(d.date));
  const rates = p.groups.flatMap((g) => p.days.map((d) => d.groups[g]!.rate));
  const floor = percentFloor(rates.map((r) => (r === null ? null : r * 100)));
  const series: LineSeriesOption[] = p.groups.map((g) => {
    const colour = groupColour(g, p.groups);
    const yahooNote = g === YAHOO_GROUP ? ` (${formatCount(p.yahooAttempts)} attempts)` : '';
    const data = p.days.map((d) => {
      const r = d.groups[g]!.rate;
      return r === null ? '-' : Math.round(r * 1000) / 10;
    });
    return {
      type: 'line',
      name: `${displayName(g)}${yahooNote}`,
      color: colour,
      symbol: 'circle',
      symbolSize: 4,
      showSymbol: p.days.length <= 45,
      connectNulls: false,
      lineStyle: { width: g === OTHER_GROUP ? 1.5 : 2 },
      endLabel: { show: endsAtRight(data), formatter: displayName(g), color: colour, fontSize: 11, fontWeight: 'bold' },
      labelLayout: { moveOverlap: 'shiftY' },
      data,
    };
  });
  // The bands ride on a series of their own, so each has its provider's colour whatever is drawn.
  // Their labels go above the plot, where no line or line label is, on up to three rows taken in
  // turn (a label is wider than a short band); from the band's left edge in the left half of the
  // chart, ending at its right edge in the right half, so none runs off the chart.
  const rows = Math.min(3, holds.length);
  const half = p.days.length / 2;
  const index = (day: string) => p.days.findIndex((d) => d.date === day);
  series.push({
    type: 'line',
    name: 'holds',
    data: p.days.map(() => '-'),
    silent: true,
    markArea: {
      silent: true,
      data: holds.map((h, i) => [
        {
          name: holdLabel(h),
          xAxis: shortDay(h.fromDay),
          itemStyle: { color: h.scope === 'global' ? INK : groupColour(h.provider ?? OTHER_GROUP, p.groups), opacity: h.scope === 'global' ? 0.08 : 0.14 },
          label: {
            position: index(h.fromDay) + index(h.toDay) < 2 * half ? [0, -15 - 16 * (i % 3)] : ['100%', -15 - 16 * (i % 3)],
            align: index(h.fromDay) + index(h.toDay) < 2 * half ? 'left' : 'right',
            color: MUTED,
            fontSize: 11,
            fontWeight: 'bold',
          },
        },
        { xAxis: shortDay(h.toDay) },
      ]),
    },
  });
  return {
    ...PROVIDERS_CHART,
    width,
    height,
    option: {
      ...baseOption(),
      legend: { ...baseOption().legend, data: series.slice(0, -1).map((s) => s.name as string) },
      grid: { left: 52, right: 110, top: 50 + 16 * rows, bottom: 34 },
      xAxis: { type: 'category', data: x, boundaryGap: false, ...axisStyle, axisLabel: { ...axisStyle.axisLabel, hideOverlap: true }, splitLine: { show: false } },
      yAxis: { type: 'value', min: floor, max: 100, ...axisStyle, axisLabel: { ...axisStyle.axisLabel, formatter: '{value}%' } },
      series,
    },
  };
}
