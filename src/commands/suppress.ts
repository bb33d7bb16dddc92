import { Option, type Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';
import { UsageError } from '../errors.ts';
import { intFlag } from '../cli/flags.ts';

export function register(program: Command): void {
  program
    .command('suppress')
    .description('suppress an address or a whole domain by hand (never mailed while the suppression is active)')
    .argument('<subject>', 'an address (driver@example.com) or a domain (example.com)')
    .requiredOption('--reason <text>', 'why: kept as evidence (ticket, complaint, request)')
    .addOption(new Option('--days <n>', 'expire after N days (default: never)'))
    .addHelpText(
      'after',
      `
The row is kept with the operator's name and reason; \`audience unsuppress\` lifts it (history stays).
Re-suppressing a subject that is already suppressed replaces its evidence with yours.

Examples:
  audience suppress dispatch@blue-ox-hauling.test --reason "asked to be removed, ticket 4411"
  audience suppress sunset-haulers.test --reason "company closed" --days 365 --json`,
    )
    .action(async (subject: string, opts: { reason: string; days?: string }, cmd: Command) => {
      const days = intFlag('--days', opts.days, { min: 1 }) ?? null;
      if (!opts.reason.trim()) throw new UsageError('--reason must say why (it is kept as evidence)');
      const { suppressStage } = await import('../maillog/operator.ts');
      await runStageCommand(cmd, suppressStage, { subject, reason: opts.reason, days });
    });
}
