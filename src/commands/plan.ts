import { Option, type Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';
import { intFlag } from '../cli/flags.ts';

export function register(program: Command): void {
  program
    .command('plan')
    .description('the warmup ramp ahead: cap per day, eligible audience per segment, days of audience left')
    .addOption(new Option('--days <n>', 'how many days ahead, today included').default('14'))
    .addHelpText(
      'after',
      `
Each day's eligible audience is judged by the same segments and exclusion rules as \`build\`, on the
data as it stands now (suppressions, holds and MX verdicts can change by then).

Examples:
  audience plan
  audience plan --days 30 --json`,
    )
    .action(async (opts: { days: string }, cmd: Command) => {
      const days = intFlag('--days', opts.days, { min: 1, max: 366 })!;
      // Loaded here, not at the top: `audience --help` must not load the stage.
      const { planStage } = await import('../reports/stage.ts');
      await runStageCommand(cmd, planStage, { days });
    });
}
