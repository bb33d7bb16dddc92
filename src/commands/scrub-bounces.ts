import { Option, type Command } from 'commander';
import { runCommand } from '../cli/app.ts';
import { UsageError } from '../errors.ts';

export function register(program: Command): void {
  program
    .command('scrub-bounces')
    .description('read mail.log (and its rotations) since the last run: store bounces and deferrals, suppress failing addresses/domains, raise provider holds, update daily health')
    .argument('[file...]', 'mail log files to read, oldest first (plain or .gz); default: AUDIENCE_MAILLOG and its rotations')
    .addOption(new Option('--batch-lines <n>', 'lines per committed batch (a kill redoes at most one batch)'))
    .addHelpText(
      'after',
      `
Incremental: a checkpoint per file (hash of its first line + byte offset) advances in the same
transaction as the events it covers. Re-running over unchanged files reads nothing; appended lines
are read once; a rotated (mail.log -> .1 -> .2.gz) or truncated file is recognized, never read twice.

Policies (audience.config.json "maillog"): a bounced unknown recipient is suppressed at once; a
full mailbox after mailboxFullDays distinct days; a dead domain at once; a domain with final
failures to domainFailureRecipients recipients and no delivery in domainFailureWindowDays.
Reputation, content, rate and policy signals never suppress a recipient: they put the recipient's
provider on hold for holdDays. Campaign mail (campaignClients) signed by opendkim below
dkimCoverageMin puts everything on a global hold. Mail to ownDomains is reported apart.

--json keys: command, files, linesRead (lines covered by the checkpoints), newLines (read now),
skippedLines, deliveries {sent, deferred, bounced, expired}, byClass, suppressed {addresses,
domains} (new in this run), holds [{provider, reason, until}] (active), dkim {campaignMessages,
signed, coverage}, ownDomain.

Examples:
  audience scrub-bounces
  AUDIENCE_MAILLOG=/var/log/mail.log audience scrub-bounces --json
  audience scrub-bounces /var/log/mail.log.2.gz /var/log/mail.log.1 /var/log/mail.log
  audience scrub-bounces data-samples/maillog/mail.log`,
    )
    .action(async (files: string[], opts: { batchLines?: string }, cmd: Command) => {
      let batchLines: number | undefined;
      if (opts.batchLines !== undefined) {
        batchLines = Number(opts.batchLines);
        if (!Number.isInteger(batchLines) || batchLines < 1) throw new UsageError(`--batch-lines must be a positive integer, got "${opts.batchLines}"`);
      }
      // Loaded here, not at the top: `audience --help` must not load the pipeline.
      const { runBounceScrub, describeBounceScrub } = await import('../../pipelines/bounce-scrub.ts');
      await runCommand(cmd, { migrations: 'apply', overrides: batchLines ? { maillog: { batchLines } } : {} }, (ctx) => runBounceScrub(ctx, files), describeBounceScrub);
    });
}
