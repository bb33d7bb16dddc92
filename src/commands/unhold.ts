import { Option, type Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';
import { UsageError } from '../errors.ts';

export function register(program: Command): void {
  program
    .command('unhold')
    .description('lift a hold before it runs out: a provider\'s, a self-hosted domain\'s, or the global DKIM hold')
    .argument('<subject>', 'a provider (google, microsoft365, outlook_consumer, ...), a domain or mail server held on its own (example.com), or global')
    .requiredOption('--reason <text>', 'why it is safe to send again (kept with the lift)')
    .addOption(new Option('--only <holdReason>', 'lift only holds with this reason (e.g. rate_limited)'))
    .addHelpText(
      'after',
      `
Holds come from sender-side signals in mail.log (Gmail 550-5.7.1, Yahoo TSS04, Microsoft S3150...)
and from DKIM coverage of campaign mail. A signal from a named provider holds the provider; one
from a self-hosted server (provider other) holds only that receiving domain and the domains its mail
server receives for: name the domain or the server. A lifted hold is raised again only by signals
newer than the lift.

Examples:
  audience unhold google --reason "postmaster tools reputation back to medium"
  audience unhold global --reason "opendkim fixed, test campaign signed" --json
  audience unhold yahoo --only rate_limited --reason "volume reduced"
  audience unhold dmnd.example --reason "their postmaster cleared our IP"`,
    )
    .action(async (subject: string, opts: { reason: string; only?: string }, cmd: Command) => {
      if (!opts.reason.trim()) throw new UsageError('--reason must say why (it is kept with the lift)');
      const { unholdStage } = await import('../maillog/operator.ts');
      await runStageCommand(cmd, unholdStage, { subject, reason: opts.reason, ...(opts.only ? { holdReason: opts.only } : {}) });
    });
}
