import { Option, type Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';
import { intFlag } from '../cli/flags.ts';

export function register(program: Command): void {
  program
    .command('scrub-bounces')
    .description('read mail.log (and its rotations) since the last run: store bounces and deferrals, suppress failing addresses/domains, raise provider holds, update daily health')
    .argument('[file...]', 'mail log files to read, oldest first (plain or .gz); default: AUDIENCE_MAILLOG and its rotations')
    .addOption(new Option('--batch-lines <n>', 'lines per committed batch (a kill redoes at most one batch)'))
    .addOption(new Option('--rejects <file.csv>', "write this run's skipped lines (file, line, reason, raw) to a new CSV file"))
    .addOption(new Option('--force', 'let --rejects replace a file that exists (never a symbolic link)'))
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

Any bytes may be in a log: a line that is not read for its content is skipped with a reason —
comment, blank, malformed, foreign (another program), binary (NUL bytes), tooLong (over 64 KiB) —
counted in "skipped", and with --rejects listed with its line number. A file with no syslog line
at all but binary or malformed ones is not a log: the run fails on it (exit 1) and stores nothing
of it. A damaged .gz rotation is read up to the damage, with a warning.

--json keys: command, files, linesRead (lines covered by the checkpoints), newLines (read now),
skippedLines, skipped {comment, blank, malformed, foreign, binary, tooLong}, deliveries {sent,
deferred, bounced, expired}, byClass, suppressed {addresses, domains} (new in this run), holds
[{provider, reason, until}] (active), dkim {campaignMessages, signed, coverage}, ownDomain,
warnings, rejectsFile (with --rejects).

Examples:
  audience scrub-bounces
  AUDIENCE_MAILLOG=/var/log/mail.log audience scrub-bounces --json
  audience scrub-bounces /var/log/mail.log.2.gz /var/log/mail.log.1 /var/log/mail.log
  audience scrub-bounces data-samples/maillog/mail.log --rejects skipped.csv`,
    )
    .action(async (files: string[], opts: { batchLines?: string; rejects?: string; force?: boolean }, cmd: Command) => {
      const batchLines = intFlag('--batch-lines', opts.batchLines, { min: 1 });
      // Loaded here, not at the top: `audience --help` must not load the stage.
      const { scrubStage } = await import('../maillog/stage.ts');
      await runStageCommand(cmd, scrubStage, { files, rejectsFile: opts.rejects, force: Boolean(opts.force) }, { overrides: batchLines ? { maillog: { batchLines } } : {} });
    });
}
