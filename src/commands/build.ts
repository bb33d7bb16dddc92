import { Option, type Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';
import { intFlag } from '../cli/flags.ts';
import { SEGMENT_NAMES } from '../segments/names.ts';

interface BuildFlags {
  onlySegment?: string[];
  maxPerSegment?: string;
  date?: string;
  sendHour?: string;
  dryRun?: boolean;
  out?: string;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command('build')
    .description("select today's best eligible carriers per segment within the warmup cap and push them to Listmonk lists (and campaigns)")
    .addOption(new Option('--only-segment <name...>', `only these segments (${SEGMENT_NAMES.join(', ')}); repeatable or comma-separated`))
    .addOption(new Option('--max-per-segment <n>', "at most N addresses per segment for the date (the date's total, re-runs included)"))
    .addOption(new Option('--date <YYYY-MM-DD>', 'send date (default: today in AUDIENCE_TZ)'))
    .addOption(new Option('--send-hour <h>', 'schedule a campaign per segment list at this hour (0–23, AUDIENCE_TZ) on --date'))
    .addOption(new Option('--dry-run', 'decide and report, but reserve and push nothing (opt-outs and past dates\' reservations are still read and settled, as a build does)'))
    .addOption(new Option('--out <dir>', 'write each segment as a Listmonk import CSV (email,name,attributes) and the summary JSON (new files; see --force)'))
    .addOption(new Option('--force', "let --out replace the date's files that exist (never a symbolic link)"))
    .addHelpText(
      'after',
      `
The daily cap (warmup day of AUDIENCE_WARMUP_START, config warmup.ramp, never above 4,000) is shared
by every segment and counts everything already pushed for the date; re-runs, crashes and two builds
at once never exceed it. Exit 3 when a gate refuses: warmup start missing, global hold (DKIM
coverage), pending migrations, or the cap already reached (with --send-hour a full date still
gets its campaigns, for lists an earlier build filled: exit 0). Before selecting, the build reads
opt-outs back from Listmonk (blocklisted, or unsubscribed from our lists: excluded as opted_out for
good); a dry run does too when Listmonk is configured, so its picks are the real ones.

Cooldown looks both ways: nobody pushed or reserved for another date within build.cooldownDays
(30) before or after --date is selected, whatever order the dates are built in. Reservations that
never reached Listmonk stop counting: those of a push that failed on its configuration or
credentials (exit 2), and those of dates already past that no run sent or that the date's list,
read back, does not hold. After a 5xx or a crash they stay reserved: re-run the same --date.

--out writes new files (--force replaces the date's files if they exist; never through a link).
The import CSVs keep the data exact, for Listmonk: open them in a text viewer, not a spreadsheet.

Examples:
  audience build --dry-run --out out/today
  audience build --only-segment mcs150 --max-per-segment 100
  audience build --date 2026-12-01 --send-hour 9 --json`,
    )
    .action(async (opts: BuildFlags, cmd: Command) => {
      const maxPerSegment = intFlag('--max-per-segment', opts.maxPerSegment, { min: 1, max: 1_000_000 }) ?? null;
      const sendHour = intFlag('--send-hour', opts.sendHour, { min: 0, max: 23 }) ?? null;
      const onlySegments = opts.onlySegment?.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
      // Loaded here, not at the top: `audience --help` must not load the stage.
      const { buildStage } = await import('../push/stage.ts');
      await runStageCommand(cmd, buildStage, { onlySegments, maxPerSegment, date: opts.date, sendHour, dryRun: Boolean(opts.dryRun), outDir: opts.out ?? null, force: Boolean(opts.force) });
    });
}
