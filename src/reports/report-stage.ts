/**
 * The `report` stage: the deliverability picture of the N days ending on D (default today) as one
 * self-contained HTML file. Read-only on the database (no runs row); the file is written like
 * every other output (new file, or --force over a regular one). Apart from stage.ts so `status`
 * and `plan` never load the chart renderer.
 */
import path from 'node:path';
import { z } from 'zod';
import type { StageContext } from '../context.ts';
import { checkOutputTarget, writeOutputFile } from '../files/safe-output.ts';
import { runStage, type Envelope, type Stage } from '../stage.ts';
import { collectReport } from './data/collect.ts';
import { renderPage } from './html/page.ts';
import { MAX_REPORT_DAYS } from './range.ts';

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
  /** The phases' seconds (the envelope's `seconds` is the whole run). */
  timings: { data: number; render: number; write: number };
}

export type ReportEnvelope = Envelope<ReportSummary>;

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export const reportStage: Stage<ReportOptions, ReportSummary> = {
  name: 'report',
  options: z.object({ out: z.string().min(1), days: z.number().int().min(1).max(MAX_REPORT_DAYS), date: z.string().optional(), force: z.boolean().optional() }),
  migrations: 'require',
  ledger: false,
  // A file that could not be written is refused before any query.
  prepare(_ctx, o) {
    const out = path.resolve(o.out);
    checkOutputTarget(out, { force: Boolean(o.force), flag: '--out' });
    return { ...o, out };
  },
  args: (o) => ({ ...o }),
  async run(ctx, _run, o) {
    const t0 = performance.now();
    const data = await collectReport(ctx, { date: o.date, days: o.days });
    const t1 = performance.now();
    const page = renderPage(data, { generatedAt: ctx.now() });
    const t2 = performance.now();
    await writeOutputFile(o.out, { force: Boolean(o.force), flag: '--out' }, (f) => f.write(page.html));
    const t3 = performance.now();
    return {
      command: 'report' as const,
      path: o.out,
      date: data.range.to,
      from: data.range.from,
      days: data.range.days.length,
      bytes: Buffer.byteLength(page.html),
      charts: page.charts.map(({ id, title, width, height }) => ({ id, title, width, height })),
      wouldBuild: data.header.gates.wouldRun,
      timings: { data: round3((t1 - t0) / 1000), render: round3((t2 - t1) / 1000), write: round3((t3 - t2) / 1000) },
    };
  },
  render: renderReport,
};

/** The report written to `out`, as one read-only `report` stage. */
export function report(ctx: StageContext, opts: ReportOptions): Promise<ReportEnvelope> {
  return runStage(ctx, reportStage, opts);
}

export function renderReport(s: ReportEnvelope): string {
  const kb = (s.bytes / 1024).toFixed(s.bytes < 10_240 ? 1 : 0);
  return [
    `report of ${s.days} day(s), ${s.from} to ${s.date}: ${s.charts.length} chart(s), ${kb} KB, in ${s.seconds.toFixed(1)} s`,
    `  build would ${s.wouldBuild ? 'run' : 'NOT run'} now (see the page's header for why)`,
    `  open ${s.path} in a browser (it needs no network)`,
  ].join('\n');
}
