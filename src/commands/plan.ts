import { Option, type Command } from 'commander';
import { runCommand } from '../cli/app.ts';
import { UsageError } from '../errors.ts';

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
      const days = Number(opts.days);
      if (!/^\d+$/.test(opts.days) || days < 1 || days > 366) throw new UsageError(`--days must be a whole number from 1 to 366, got "${opts.days}"`);
      const { plan, renderPlan } = await import('../../pipelines/plan.ts');
      await runCommand(cmd, { migrations: 'require' }, (ctx) => plan(ctx, { days }), renderPlan);
    });
}
