import { Option, type Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';

export function register(program: Command): void {
  program
    .command('audit-listmonk')
    .description('every campaign Listmonk will send (scheduled or running, ours or not): its members excluded now, and its day against the warmup cap')
    .addOption(new Option('--pause', 'stop the offending campaigns: a running one is paused, a scheduled one goes back to draft'))
    .addHelpText(
      'after',
      `
For each scheduled or running campaign: its lists (Listmonk's count and how many it would mail),
its send time and day, how many recipients the exclusion rules exclude now (judged by the rules the
build uses; an address the census does not hold is judged on the address alone and counted as
unknown to us), and per send day the total against that day's warmup cap (every campaign of the
day, plus what stopped campaigns already sent today).

A campaign is OFFENDING when a recipient is excluded now as yahoo_family, suppressed_address,
suppressed_domain, opted_out, mx_dead or provider_hold, or when its day's total is over the cap
(then every campaign of that day is). Other codes (mx_unknown, cooldown, role_account...) are
shown and do not make it offending.

Without --pause nothing changes. With --pause each offending campaign is stopped through the API:
Listmonk pauses only running campaigns, so a scheduled one is taken back to draft (it keeps its
send time; schedule it again in Listmonk once it is fixed). A build re-run for a date schedules
that date's draft again: run it only after fixing what the audit found.

Exit codes: 0 nothing offending; 1 offending campaigns (stopped or not: the summary says which);
2 configuration, credentials or a missing permission (the API user needs campaigns:get_all,
lists:get_all, subscribers:get_all, and for --pause campaigns:manage_all, on v6.1+ campaigns:send);
3 the warmup start is not set.

Examples:
  audience audit-listmonk
  audience audit-listmonk --pause --json >> /var/log/audience/audit.jsonl`,
    )
    .action(async (opts: { pause?: boolean }, cmd: Command) => {
      // Loaded here, not at the top: `audience --help` must not load the stage.
      const { auditStage } = await import('../audit/stage.ts');
      await runStageCommand(cmd, auditStage, { pause: Boolean(opts.pause) });
    });
}
