/**
 * Charts drawn on the server: Apache ECharts' SVG renderer in its server-side mode (no DOM, no
 * canvas), so the page carries finished SVG and needs no script to show it. Only the chart types
 * and components the report uses are registered.
 */
import { BarChart, LineChart, type BarSeriesOption, type LineSeriesOption } from 'echarts/charts';
import {
  GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, MarkPointComponent,
  type GridComponentOption, type LegendComponentOption, type MarkAreaComponentOption, type MarkLineComponentOption, type MarkPointComponentOption,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { escapeHtml } from '../../text/html.ts';
import { CHART_FONT_FAMILY, GRID_LINE, INK, MUTED } from './theme.ts';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, MarkPointComponent, SVGRenderer]);

export type ChartOption = echarts.ComposeOption<
  BarSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | MarkAreaComponentOption | MarkLineComponentOption | MarkPointComponentOption
>;

export interface ChartSpec {
  /** The id of its section and figure in the page. */
  id: string;
  /** What the chart shows, for people and screen readers. */
  title: string;
  width: number;
  height: number;
  option: ChartOption;
}

/** The option every chart starts from: no animation (a file, not a screen), the page's font and ink. */
export function baseOption(): ChartOption {
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { fontFamily: CHART_FONT_FAMILY, color: INK, fontSize: 12 },
    legend: { top: 0, left: 0, itemWidth: 14, itemHeight: 10, itemGap: 18, textStyle: { color: INK, fontSize: 12 } },
  };
}

/**
 * Width in pixels of a label in the charts' font (Helvetica/Arial metrics, rounded up), for the
 * room left of horizontal bars: sized from the labels themselves, whatever the font the reader has.
 */
export function labelWidth(labels: readonly string[], fontSize = 12): number {
  const em = (c: string) => (/[il.,:;'|!·\s]/.test(c) ? 0.28 : /[fjtr()[\]\-]/.test(c) ? 0.36 : /[A-Z_mw]/.test(c) ? 0.72 : /[0-9]/.test(c) ? 0.56 : 0.54);
  const widest = Math.max(0, ...labels.map((l) => [...l].reduce((w, c) => w + em(c), 0)));
  return Math.ceil(widest * fontSize) + 12;
}

export const axisStyle = {
  axisLine: { lineStyle: { color: MUTED } },
  axisTick: { lineStyle: { color: MUTED } },
  axisLabel: { color: MUTED, fontSize: 11 },
  splitLine: { lineStyle: { color: GRID_LINE } },
} as const;

/** The chart as an SVG element (a string) to inline in the page, labelled with its title. */
export function renderSvg(spec: ChartSpec): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: spec.width, height: spec.height });
  try {
    chart.setOption(spec.option);
    const svg = chart.renderToSVGString();
    return svg.replace(/^<svg /, `<svg role="img" aria-label="${escapeHtml(spec.title)}" class="chart" data-chart="${escapeHtml(spec.id)}" `);
  } finally {
    chart.dispose();
  }
}
