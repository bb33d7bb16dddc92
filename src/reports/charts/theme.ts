/**
 * The report's look, shared by every chart: the Okabe-Ito palette (distinguishable with the common
 * colour-vision deficiencies), with vermillion kept for what is wrong (a spike, a day below the
 * DKIM minimum, the Yahoo family), the page's font stack, and number formats.
 */
import type { LineSeriesOption } from 'echarts/charts';

/** Okabe & Ito (2008), "Color Universal Design". */
export const OKABE_ITO = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
} as const;

/** What is wrong: only ever this colour. */
export const DANGER = OKABE_ITO.vermillion;
export const INK = '#1f2328';
export const MUTED = '#59636e';
export const GRID_LINE = '#e3e6ea';
export const NEUTRAL = '#8c959f';

/** Colours for ordinary series in order, danger left out. */
export const SERIES_COLOURS = [OKABE_ITO.blue, OKABE_ITO.skyBlue, OKABE_ITO.bluishGreen, OKABE_ITO.orange, OKABE_ITO.reddishPurple, OKABE_ITO.black, NEUTRAL];

/** The page's text: the reader's own interface font. */
export const FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
/**
 * The charts' text: ECharts lays labels out on the server with Helvetica/Arial widths, so the SVG
 * asks for fonts of those widths (Liberation Sans and Nimbus Sans are metric-compatible on Linux);
 * a wider font would run legend entries into each other. Single quotes: ECharts writes the family
 * into a double-quoted style attribute as it is.
 */
export const CHART_FONT_FAMILY = "Helvetica, Arial, 'Liberation Sans', 'Nimbus Sans', sans-serif";

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(n: number): string {
  return INTEGER.format(n);
}

/**
 * A share as a percentage with one decimal (99.5%), or an em dash when unknown. Rounded down: a
 * coverage of 94.96% must not read as the 95.0% minimum it missed.
 */
export function formatPercent(x: number | null): string {
  return x === null ? '—' : `${(Math.floor(x * 1000) / 10).toFixed(1)}%`;
}

/** `2026-11-28` as `Nov 28` for axis labels (the tables keep the full date). */
export function shortDay(date: string): string {
  const [, m, d] = date.split('-');
  return `${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][Number(m) - 1]} ${Number(d)}`;
}

/** Display names of provider groups and segments (anything else is shown as it is). */
const NAMES: Record<string, string> = {
  google: 'Google',
  microsoft365: 'Microsoft 365',
  outlook_consumer: 'Outlook.com',
  yahoo: 'Yahoo family',
  other: 'Others',
  apple: 'Apple iCloud',
  zoho: 'Zoho',
  godaddy: 'GoDaddy',
};

export function displayName(key: string): string {
  return NAMES[key] ?? key;
}

/** The daily cap as every chart draws it: a bold stepped ink line labelled `cap` at its right end. */
export function capLine(data: LineSeriesOption['data'], showLabel = true): LineSeriesOption {
  return {
    type: 'line',
    name: 'cap',
    color: INK,
    step: 'middle',
    symbol: 'none',
    lineStyle: { width: 2 },
    endLabel: { show: showLabel, formatter: 'cap', color: INK, fontWeight: 'bold', fontSize: 11 },
    data,
  };
}
