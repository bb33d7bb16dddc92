import { Option, type Command } from 'commander';
import { runJobCommand } from '../cli/app.ts';
import { intFlag } from '../cli/flags.ts';
import { dnsFlagOverrides, withDnsOptions, type DnsFlags } from './check-mx.ts';

export function register(program: Command): void {
  withDnsOptions(
    program
      .command('nightly')
      .description("the nightly job: scrub-bounces (last night's mail.log), sync-listmonk (where Listmonk is configured), then check-mx (domains whose verdict is missing or expired)")
      .argument('[file...]', 'mail log files to read, oldest first (plain or .gz); default: AUDIENCE_MAILLOG and its rotations')
      .addOption(new Option('--batch-lines <n>', 'lines per committed batch of the scrub (a kill redoes at most one batch)')),
  )
    .addHelpText(
      'after',
      `
The stages in order, each its own run in the ledger, as \`audience scrub-bounces\`,
\`audience sync-listmonk\` and \`audience check-mx\` would run them. sync-listmonk runs only where
Listmonk is configured (LISTMONK_URL, LISTMONK_API_USER, LISTMONK_API_TOKEN): it reads the opt-outs,
takes whom the rules exclude now (what the scrub just learnt: bounces, holds) off our lists of today
and later before their campaigns send, and stops our scheduled campaigns while a global (DKIM) hold
stands. A failing stage stops the job and the stages before it keep their work (re-run the rest
alone). The exit code is the failing stage's (see each command's --help).

--json prints one object: command "nightly", ok, runId null (each stage has its own), startedAt
(the scrub's), seconds (all stages), then "scrub", "syncListmonk" (null when Listmonk is not
configured) and "checkMx": each stage's own --json object. A failing stage's object is printed
beside exitCode and error.

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
      await runJobCommand(cmd, (config) => nightlyJob(config, { files }), nightlySummary, describeNightly, { overrides: batchLines ? { ...overrides, maillog: { batchLines } } : overrides });
    });
}
