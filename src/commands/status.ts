import type { Command } from 'commander';
import { runCommand } from '../cli/app.ts';

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
      const { status, renderStatus } = await import('../../pipelines/status.ts');
      await runCommand(cmd, { migrations: 'require' }, status, renderStatus);
    });
}
