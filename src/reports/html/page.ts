/**
 * The report as one self-contained HTML file: inline CSS, inline SVG charts, tables of their
 * numbers, no script, no font, no request of any kind (its Content-Security-Policy forbids every
 * fetch, so a change that added one would show as a broken page, not as a silent network call).
 */
import { escapeHtml } from '../../text/html.ts';
import type { ReportData } from '../data/collect.ts';
import { audienceSection, reasonsSection } from './audience-sections.ts';
import { dkimSection, providersSection, rampSection } from './delivery-sections.ts';
import { renderHeader } from './header.ts';
import { formatInstant, renderSection, type RenderedChart } from './section.ts';
import { STYLE } from './style.ts';

export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export interface RenderedPage {
  html: string;
  charts: RenderedChart[];
}

export function renderPage(d: ReportData, meta: { generatedAt: Date }): RenderedPage {
  const charts: RenderedChart[] = [];
  const sections = [rampSection(d), providersSection(d), dkimSection(d), reasonsSection(d), audienceSection(d)].map((s) => renderSection(s, charts));
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    `<title>Deliverability report ${escapeHtml(d.range.to)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    renderHeader(d),
    ...sections,
    `<footer>Written by <code>audience report</code> at ${escapeHtml(formatInstant(meta.generatedAt, d.timeZone))}, from the database as it stood then. Charts by Apache ECharts, rendered to SVG on the server. Every figure excludes mail to the firm's own domains.</footer>`,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { html, charts };
}
