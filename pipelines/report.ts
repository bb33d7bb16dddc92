/**
 * `audience report [--days N] [--date D] --out FILE`: the deliverability picture of the N days
 * ending on D (default today) as one self-contained HTML file. Read-only on the database; the file
 * is written like every other output (new file, or --force over a regular one).
 */
import path from 'node:path';
import type { StageContext } from '../src/context.ts';
import { checkOutputTarget, writeOutputFile } from '../src/files/safe-output.ts';
import { collectReport } from '../src/reports/data/collect.ts';
import { renderPage } from '../src/reports/html/page.ts';

export interface ReportOptions {
  out: string;
  days: number;
  date?: string;
  force?: boolean;
}

export interface ReportSummary {
  command: 'report';
  /** The file written, absolute. */
  path: string;
  date: string;
  from: string;
  days: number;
  bytes: number;
  charts: { id: string; title: string; width: number; height: number }[];
  /** Whether `audience build` would get past its gates at the report's instant (the header's verdict). */
  wouldBuild: boolean;
  seconds: { data: number; render: number; write: number };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export async function report(ctx: StageContext, opts: ReportOptions): Promise<ReportSummary> {
  const target = path.resolve(opts.out);
  checkOutputTarget(target, { force: Boolean(opts.force), flag: '--out' });
  const t0 = performance.now();
  const data = await collectReport(ctx, { date: opts.date, days: opts.days });
  const t1 = performance.now();
  const page = renderPage(data, { generatedAt: ctx.now() });
  const t2 = performance.now();
  await writeOutputFile(target, { force: Boolean(opts.force), flag: '--out' }, (f) => f.write(page.html));
  const t3 = performance.now();
  return {
    command: 'report',
    path: target,
    date: data.range.to,
    from: data.range.from,
    days: data.range.days.length,
    bytes: Buffer.byteLength(page.html),
    charts: page.charts.map(({ id, title, width, height }) => ({ id, title, width, height })),
    wouldBuild: data.header.gates.wouldRun,
    seconds: { data: round3((t1 - t0) / 1000), render: round3((t2 - t1) / 1000), write: round3((t3 - t2) / 1000) },
  };
}

export function renderReport(s: ReportSummary): string {
  const kb = (s.bytes / 1024).toFixed(s.bytes < 10_240 ? 1 : 0);
  return [
    `report of ${s.days} day(s), ${s.from} to ${s.date}: ${s.charts.length} chart(s), ${kb} KB, in ${(s.seconds.data + s.seconds.render + s.seconds.write).toFixed(1)} s`,
    `  build would ${s.wouldBuild ? 'run' : 'NOT run'} now (see the page's header for why)`,
    `  open ${s.path} in a browser (it needs no network)`,
  ].join('\n');
}
