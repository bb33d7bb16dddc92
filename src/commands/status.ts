import type { Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';

export function register(program: Command): void {
  program
    .command('status')
    .description("warmup day, today's cap and use, holds, DKIM coverage, delivery mix, suppressions, last runs")
    .addHelpText(
      'after',
      `
Read-only. Delivery mix and DKIM coverage come from the bounce scrub (\`audience scrub-bounces\`).

Examples:
  audience status
  audience status --json`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      // Loaded here, not at the top: `audience --help` must not load the stage.
      const { statusStage } = await import('../reports/stage.ts');
      await runStageCommand(cmd, statusStage, {});
    });
}
