/**
 * A section of the page: a heading, what it shows, its charts each with its numbers beside it, and
 * notes. Charts are rendered here, once, and reported back for the summary.
 */
import { escapeHtml } from '../../text/html.ts';
import { renderSvg, type ChartSpec } from '../charts/render.ts';
import { renderTable, type TableSpec } from './table.ts';

export interface Section {
  id: string;
  title: string;
  /** One or two sentences: what is drawn and how to read it. */
  lede: string;
  /** Each chart with the table of its numbers beside it; a null chart shows its `missing` text instead. */
  panels: { chart: ChartSpec | null; missing?: string; table: TableSpec }[];
  /** Wide tables under the panels (holds, reasons with the servers' words). */
  tables?: TableSpec[];
  notes?: { text: string; bad?: boolean }[];
}

export interface RenderedChart {
  id: string;
  title: string;
  width: number;
  height: number;
  svgBytes: number;
}

export function renderSection(s: Section, charts: RenderedChart[]): string {
  const panels = s.panels.map((p) => {
    let figure: string;
    if (p.chart) {
      const svg = renderSvg(p.chart);
      charts.push({ id: p.chart.id, title: p.chart.title, width: p.chart.width, height: p.chart.height, svgBytes: Buffer.byteLength(svg) });
      figure = `<figure id="chart-${escapeHtml(p.chart.id)}">${svg}<figcaption class="sub">${escapeHtml(p.chart.title)}</figcaption></figure>`;
    } else figure = `<p class="note">${escapeHtml(p.missing ?? 'nothing to draw')}</p>`;
    return `<div class="pair">${figure}<div class="numbers">${renderTable(p.table)}</div></div>`;
  });
  const tables = (s.tables ?? []).map((t) => `<div class="numbers wide">${renderTable(t)}</div>`);
  const notes = (s.notes ?? []).map((n) => `<p class="note${n.bad ? ' bad' : ''}">${escapeHtml(n.text)}</p>`);
  return [`<section id="${escapeHtml(s.id)}">`, `<h2>${escapeHtml(s.title)}</h2>`, `<p class="lede">${escapeHtml(s.lede)}</p>`, ...notes, ...panels, ...tables, '</section>'].join('\n');
}

/** An instant as the firm reads it: `2026-11-28 06:00 CST`. */
export function formatInstant(at: Date | string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }).formatToParts(new Date(at));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}
