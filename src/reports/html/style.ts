/**
 * The page's one stylesheet, inline (the file is self-contained): system fonts, a chart and its
 * numbers side by side on a wide screen and one under the other on a narrow one or on paper, and a
 * print layout in which the numbers are printed in full and no chart is split across pages.
 * Text in the danger colour uses a darker vermillion than the charts' (contrast on white).
 */
import { FONT_FAMILY } from '../charts/theme.ts';

export const STYLE = `
:root { --ink: #1f2328; --muted: #59636e; --line: #d0d7de; --soft: #f6f8fa; --bad: #a33f00; --bad-bg: #fff1e8; --good: #00664a; --good-bg: #e9f7f1; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font-family: ${FONT_FAMILY}; font-size: 14px; line-height: 1.45; color: var(--ink); background: #fff; }
main { max-width: 1400px; margin: 0 auto; padding: 24px 24px 40px; }
h1 { font-size: 24px; margin: 0 0 2px; letter-spacing: -0.01em; }
h2 { font-size: 18px; margin: 0 0 4px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
p { margin: 4px 0 10px; }
.sub, .lede, small, .muted { color: var(--muted); }
.lede { max-width: 80ch; }
header.top { border-bottom: 1px solid var(--line); padding-bottom: 16px; margin-bottom: 8px; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 10px; margin: 16px 0; }
.fact { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: var(--soft); }
.fact b { display: block; font-size: 22px; line-height: 1.2; font-variant-numeric: tabular-nums; }
.fact span { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.verdict { border-radius: 8px; padding: 12px 16px; margin: 8px 0 4px; border: 1px solid; }
.verdict.go { background: var(--good-bg); border-color: #9fd9c4; }
.verdict.stop { background: var(--bad-bg); border-color: #f0b48c; }
.verdict h2 { font-size: 16px; margin: 0 0 6px; }
.verdict.go h2 { color: var(--good); }
.verdict.stop h2 { color: var(--bad); }
.verdict ul, .holds-now { margin: 4px 0 0; padding-left: 20px; }
.verdict li, .holds-now li { margin: 3px 0; }
.gate { font-weight: 600; }
.ok { color: var(--good); font-weight: 600; }
.no { color: var(--bad); font-weight: 600; }
section { padding: 22px 0 10px; border-bottom: 1px solid var(--line); }
section:last-of-type { border-bottom: 0; }
.pair { display: grid; grid-template-columns: minmax(0, 720px) minmax(320px, 1fr); gap: 18px; align-items: start; margin-top: 10px; }
figure { margin: 0 0 14px; }
figcaption { font-size: 12px; margin-top: 2px; }
svg.chart { display: block; width: 100%; max-width: 720px; height: auto; }
.numbers { max-height: 400px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
.numbers.wide { max-height: none; margin-top: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 12px; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 8px 10px 6px; color: var(--ink); }
th, td { padding: 3px 7px; border-top: 1px solid var(--line); vertical-align: top; text-align: left; }
td:first-child { white-space: nowrap; }
th { position: sticky; top: 0; background: var(--soft); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
td small { display: block; font-size: 11px; }
tr.bad td { background: var(--bad-bg); }
td.bad, .bad-text { color: var(--bad); font-weight: 600; }
td.good { color: var(--good); }
td.said { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 11.5px; word-break: break-word; min-width: 24ch; }
.note { border-left: 3px solid var(--line); padding: 2px 10px; color: var(--muted); }
.note.bad { border-color: var(--bad); color: var(--bad); }
footer { margin-top: 24px; color: var(--muted); font-size: 12px; }
@media (max-width: 1260px) { .pair { grid-template-columns: 1fr; } .numbers { max-height: 320px; } }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  .pair { grid-template-columns: 1fr; }
  .numbers { max-height: none; overflow: visible; border: 0; }
  th { position: static; }
  figure, .verdict, .facts, tr { break-inside: avoid; }
  section { break-before: page; border: 0; }
  section:first-of-type { break-before: auto; }
  h2, h3 { break-after: avoid; }
  tr.bad td, .verdict, .fact { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
