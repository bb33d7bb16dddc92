import { Option, type Command } from 'commander';
import { runCommand } from '../cli/app.ts';
import { UsageError } from '../errors.ts';

export function register(program: Command): void {
  program
    .command('unhold')
    .description('lift a provider hold (or the global DKIM hold) before it runs out')
    .argument('<provider>', 'google, microsoft365, outlook_consumer, yahoo, ... or global')
    .requiredOption('--reason <text>', 'why it is safe to send again (kept with the lift)')
    .addOption(new Option('--only <holdReason>', 'lift only holds with this reason (e.g. rate_limited)'))
    .addHelpText(
      'after',
      `
Holds come from sender-side signals in mail.log (Gmail 550-5.7.1, Yahoo TSS04, Microsoft S3150...)
and from DKIM coverage of campaign mail. A lifted hold is raised again only by signals newer than
the lift.

Examples:
  audience unhold google --reason "postmaster tools reputation back to medium"
  audience unhold global --reason "opendkim fixed, test campaign signed" --json
  audience unhold yahoo --only rate_limited --reason "volume reduced"`,
    )
    .action(async (provider: string, opts: { reason: string; only?: string }, cmd: Command) => {
      if (!opts.reason.trim()) throw new UsageError('--reason must say why (it is kept with the lift)');
      const { operatorUnhold } = await import('../maillog/operator.ts');
      await runCommand(
        cmd,
        { migrations: 'apply' },
        (ctx) => operatorUnhold(ctx, provider, { reason: opts.reason, ...(opts.only ? { holdReason: opts.only } : {}) }),
        (s) => s.lifted.map((h) => `lifted ${h.scope === 'global' ? 'global' : h.provider} hold (${h.reason}, was until ${h.until})`).join('\n'),
      );
    });
}
