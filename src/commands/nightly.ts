import { Option, type Command } from 'commander';
import { runJobCommand } from '../cli/app.ts';
import { intFlag } from '../cli/flags.ts';
import { dnsFlagOverrides, withDnsOptions, type DnsFlags } from './check-mx.ts';

export function register(program: Command): void {
  withDnsOptions(
    program
      .command('nightly')
      .description("the nightly job: scrub-bounces (last night's mail.log), then check-mx (domains whose verdict is missing or expired)")
      .argument('[file...]', 'mail log files to read, oldest first (plain or .gz); default: AUDIENCE_MAILLOG and its rotations')
      .addOption(new Option('--batch-lines <n>', 'lines per committed batch of the scrub (a kill redoes at most one batch)')),
  )
    .addHelpText(
      'after',
      `
The two stages in order, each its own run in the ledger, as \`audience scrub-bounces\` then
\`audience check-mx\` would run them: check-mx runs only when the scrub succeeded, and a failed
check-mx keeps the scrub's work (re-run \`audience check-mx\` alone). The exit code is the failing
stage's (see each command's --help).

--json prints one object: command "nightly", ok, runId null (each stage has its own), startedAt
(the scrub's), seconds (both stages), then "scrub" and "checkMx": each stage's own --json object.
A failing stage's object is printed beside exitCode and error.

Examples:
  audience nightly
  audience nightly --json >> /var/log/audience/nightly.jsonl
  audience nightly /var/log/mail.log.1 /var/log/mail.log --dns 127.0.0.1:53 --concurrency 128`,
    )
    .action(async (files: string[], opts: DnsFlags & { batchLines?: string }, cmd: Command) => {
      const batchLines = intFlag('--batch-lines', opts.batchLines, { min: 1 });
      const overrides = await dnsFlagOverrides(opts);
      // Loaded here, not at the top: `audience --help` must not load the stages.
      const { nightlyJob, nightlySummary, describeNightly } = await import('../../pipelines/nightly.ts');
      await runJobCommand(cmd, nightlyJob({ files }), nightlySummary, describeNightly, { overrides: batchLines ? { ...overrides, maillog: { batchLines } } : overrides });
    });
}
