import { Option, type Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';
import { UsageError } from '../errors.ts';
import { MAX_REPORT_DAYS } from '../reports/range.ts';
import { intFlag } from '../cli/flags.ts';

interface ReportFlags {
  days: string;
  date?: string;
  out?: string;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('the deliverability picture in one HTML page: the ramp, delivery per provider with holds, DKIM coverage, top deferral and bounce reasons, the audience ahead')
    .addOption(new Option('--out <file>', 'the HTML file to write (a new file; see --force)'))
    .addOption(new Option('--days <n>', `how many days, ending on --date (1–${MAX_REPORT_DAYS})`).default('30'))
    .addOption(new Option('--date <YYYY-MM-DD>', 'the last day of the report (default: today in AUDIENCE_TZ); the header describes the end of that day'))
    .addOption(new Option('--force', 'let --out replace a regular file that exists (never a symbolic link)'))
    .addHelpText(
      'after',
      `
Read-only. One self-contained file: charts as inline SVG with a table of their numbers beside each,
no script, no font, nothing fetched when opened; readable offline, printable. The header says
whether \`audience build\` would run now, and if not, which gate stops it and how to clear it.
Per-provider delivery and per-stream DKIM coverage are counted by \`scrub-bounces\` from this
version on: days scrubbed earlier show as not counted.

Examples:
  audience report --out report.html
  audience report --days 90 --out /var/www/reports/deliverability.html --force
  audience report --date 2026-11-27 --days 7 --out last-week.html --json`,
    )
    .action(async (opts: ReportFlags, cmd: Command) => {
      if (!opts.out) throw new UsageError('--out FILE is required: the report is written to a file (e.g. --out report.html).');
      const days = intFlag('--days', opts.days, { min: 1, max: MAX_REPORT_DAYS })!;
      const out = opts.out;
      // Loaded here, not at the top: `audience --help` must not load the chart renderer.
      const { reportStage } = await import('../reports/report-stage.ts');
      await runStageCommand(cmd, reportStage, { out, days, date: opts.date, force: Boolean(opts.force) });
    });
}
