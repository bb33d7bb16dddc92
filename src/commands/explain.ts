import { Option, type Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';
import { UsageError } from '../errors.ts';
import { intFlag } from '../cli/flags.ts';

export function register(program: Command): void {
  program
    .command('explain')
    .description("every exclusion rule's verdict, with its evidence, for an address, a domain or a USDOT number")
    .argument('<subject>', 'an e-mail address, a domain, or a USDOT number')
    .addOption(new Option('--date <YYYY-MM-DD>', 'judge as of this send date (default: today in AUDIENCE_TZ)'))
    .addOption(new Option('--limit <n>', 'most addresses shown for a domain (most-listed first)').default('50'))
    .addHelpText(
      'after',
      `
Runs the same rules the build runs, so an address explain calls eligible is one the build may push.
An address not in the census is normalized and judged as if a carrier listed it; a domain with no
census address is judged through the placeholder *@DOMAIN. Nothing is written.

--json prints {"command": "explain", "ok", "runId": null, "startedAt", "seconds",
               "subject", "kind": "email"|"domain"|"dot",
               "addresses": [{"email", "eligible", "reasons": [{"code", "detail", "since"}]}],
               "rules": [{"code", "description"}], "notes", "allowlisted"}

Examples:
  audience explain 'JD@Yahoo.COM.'
  audience explain sbcglobal.net
  audience explain 1234567 --json`,
    )
    .action(async (subject: string, opts: { date?: string; limit: string }, cmd: Command) => {
      if (opts.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) throw new UsageError(`--date must be YYYY-MM-DD, got "${opts.date}"`);
      const limit = intFlag('--limit', opts.limit, { min: 1 })!;
      // Loaded here, not at the top: `audience --help` must not load the rules engine.
      const { explainStage } = await import('../reports/explain-stage.ts');
      await runStageCommand(cmd, explainStage, { subject, limit, ...(opts.date ? { date: opts.date } : {}) });
    });
}
