import type { Command } from 'commander';
import { runCommand } from '../cli/app.ts';
import { UsageError } from '../errors.ts';

export function register(program: Command): void {
  program
    .command('unsuppress')
    .description('lift the suppression of an address or a domain (the row stays as history)')
    .argument('<subject>', 'an address or a domain')
    .requiredOption('--reason <text>', 'why it may be mailed again (kept with the lift)')
    .addHelpText(
      'after',
      `
The scrub will not suppress the subject again on the evidence it had: only bounces newer than the
lift count.

Examples:
  audience unsuppress dispatch@blue-ox-hauling.test --reason "mailbox recreated, confirmed by phone"
  audience unsuppress sunset-haulers.test --reason "new mail host" --json`,
    )
    .action(async (subject: string, opts: { reason: string }, cmd: Command) => {
      if (!opts.reason.trim()) throw new UsageError('--reason must say why (it is kept with the lift)');
      const { operatorUnsuppress } = await import('../maillog/operator.ts');
      await runCommand(cmd, { migrations: 'apply' }, (ctx) => operatorUnsuppress(ctx, subject, { reason: opts.reason }), (s) => `lifted the suppression of ${s.kind} ${s.value}`);
    });
}
