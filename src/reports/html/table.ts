/**
 * The numbers beside each chart, as a plain HTML table: readable without any script, copied by a
 * selection, printed in full. Every cell's text is escaped here, so callers pass raw values.
 */
import { escapeHtml } from '../../text/html.ts';

export interface Column {
  label: string;
  /** Numbers right-aligned, text left. */
  numeric?: boolean;
}

export type Cell = string | { text: string; note?: string; cls?: 'bad' | 'good' | 'muted' | 'said' };

export interface TableSpec {
  caption: string;
  columns: readonly Column[];
  rows: readonly { cells: readonly Cell[]; bad?: boolean }[];
  /** Shown instead of an empty body. */
  empty?: string;
}

function cell(c: Cell, col: Column | undefined): string {
  const cls = [col?.numeric ? 'num' : '', typeof c === 'object' && c.cls ? c.cls : ''].filter(Boolean).join(' ');
  const attr = cls ? ` class="${cls}"` : '';
  if (typeof c === 'string') return `<td${attr}>${escapeHtml(c)}</td>`;
  return `<td${attr}>${escapeHtml(c.text)}${c.note ? `<small>${escapeHtml(c.note)}</small>` : ''}</td>`;
}

export function renderTable(t: TableSpec): string {
  const head = t.columns.map((c) => `<th scope="col"${c.numeric ? ' class="num"' : ''}>${escapeHtml(c.label)}</th>`).join('');
  const body = t.rows.length
    ? t.rows.map((r) => `<tr${r.bad ? ' class="bad"' : ''}>${r.cells.map((c, i) => cell(c, t.columns[i])).join('')}</tr>`).join('\n')
    : `<tr><td colspan="${t.columns.length}" class="muted">${escapeHtml(t.empty ?? 'nothing in this period')}</td></tr>`;
  return `<table>\n<caption>${escapeHtml(t.caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}
