import type { Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';
import { UsageError } from '../errors.ts';

export function register(program: Command): void {
  program
    .command('unsuppress')
    .description("lift the suppression of an address or a domain, and an address's Listmonk opt-out (rows stay as history)")
    .argument('<subject>', 'an address or a domain')
    .requiredOption('--reason <text>', 'why it may be mailed again (kept with the lift)')
    .addHelpText(
      'after',
      `
The scrub will not suppress the subject again on the evidence it had: only bounces newer than the
lift count. For an address, its opt-outs read from Listmonk (opted_out) are lifted too, and the same
evidence is never recorded again; a new unsubscribe, or Listmonk refusing a push because the address
is still blocklisted there, is an opt-out again (un-blocklist it in Listmonk first).

Examples:
  audience unsuppress dispatch@blue-ox-hauling.test --reason "mailbox recreated, confirmed by phone"
  audience unsuppress sunset-haulers.test --reason "new mail host" --json`,
    )
    .action(async (subject: string, opts: { reason: string }, cmd: Command) => {
      if (!opts.reason.trim()) throw new UsageError('--reason must say why (it is kept with the lift)');
      const { unsuppressStage } = await import('../maillog/operator.ts');
      await runStageCommand(cmd, unsuppressStage, { subject, reason: opts.reason });
    });
}
