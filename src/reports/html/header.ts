/**
 * The top of the page: what the report covers, today's warmup day, cap and its use, the holds in
 * force, and the verdict of the build's gates — would `audience build` run now, and if not, why.
 */
import { escapeHtml } from '../../text/html.ts';
import { holdSubject } from '../charts/providers.ts';
import { formatCount } from '../charts/theme.ts';
import type { ReportData } from '../data/collect.ts';
import { formatInstant } from './section.ts';

const GATE_NAMES: Record<string, string> = { warmup: 'warmup start', global_hold: 'global hold', listmonk: 'Listmonk settings', cap: 'daily cap' };

export function renderHeader(d: ReportData): string {
  const h = d.header;
  const r = d.range;
  const w = h.warmup;
  const facts: [string, string, string?][] =
    'error' in w
      ? [['warmup day', 'unknown', 'no warmup start']]
      : [
          ['warmup day', String(w.day), `since ${w.start}`],
          ['cap', formatCount(w.dailyCap), `a day, ${formatCount(w.hourlyCap)} an hour`],
          ['used', formatCount(h.used), `of ${formatCount(w.dailyCap)}, ${formatCount(Math.max(0, w.dailyCap - h.used))} left`],
        ];
  const domains = h.holds.filter((x) => x.scope === 'domain').length;
  const held = [...h.holds.filter((x) => x.scope !== 'domain').map((x) => holdSubject(x)), ...(domains ? [`${domains} domain(s)`] : [])];
  facts.push(['holds in force', String(h.holds.length), held.length ? held.join(', ') : 'none']);
  const factHtml = facts.map(([label, value, note]) => `<div class="fact"><span>${escapeHtml(label)}</span><b>${escapeHtml(value)}</b>${note ? `<small>${escapeHtml(note)}</small>` : ''}</div>`).join('');

  const g = h.gates;
  const failing = g.checks.filter((c) => !c.ok);
  const gateItems = g.checks
    .map((c) => `<li><span class="${c.ok ? 'ok' : 'no'}">${c.ok ? '✓' : '✗'}</span> <span class="gate">${escapeHtml(GATE_NAMES[c.gate] ?? c.gate)}</span>: ${escapeHtml(c.detail)}</li>`)
    .join('\n');
  const verdict = g.wouldRun
    ? `<div class="verdict go"><h2>✓ audience build would run now</h2><ul>${gateItems}</ul></div>`
    : `<div class="verdict stop"><h2>✗ audience build would not run now: ${escapeHtml(failing.map((c) => GATE_NAMES[c.gate] ?? c.gate).join(', '))}</h2><ul>${gateItems}</ul></div>`;

  const holds = h.holds.length
    ? `<h3>Holds in force</h3><ul class="holds-now">${h.holds
        .map((x) => `<li><b>${escapeHtml(holdSubject(x))}</b> — ${escapeHtml(x.reason)}, until ${escapeHtml(formatInstant(x.until, d.timeZone))}: <span class="muted">${escapeHtml(x.detail)}</span></li>`)
        .join('\n')}</ul>`
    : '';
  return [
    '<header class="top">',
    `<h1>Deliverability report — ${escapeHtml(r.to)}</h1>`,
    `<p class="sub">${r.days.length} day(s), ${escapeHtml(r.from)} to ${escapeHtml(r.to)} (${escapeHtml(d.timeZone)}); as of ${escapeHtml(formatInstant(r.asOf, d.timeZone))}.</p>`,
    `<div class="facts">${factHtml}</div>`,
    verdict,
    holds,
    '</header>',
  ].join('\n');
}
