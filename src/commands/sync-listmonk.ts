import type { Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';

export function register(program: Command): void {
  program
    .command('sync-listmonk')
    .description('read opt-outs back from Listmonk (blocklisted, or unsubscribed from our lists) so they are never pushed again')
    .addHelpText(
      'after',
      `
Every build does this read before it selects; run it from the nightly cron too, so \`explain\` and
\`plan\` see the day's unsubscribes. Re-running it changes nothing. Which unsubscribes count is
listmonk.optOutScope: "ours" (lists named with listmonk.listPrefix, or made by a build; default) or
"all". An opt-out is permanent until \`audience unsuppress ADDRESS --reason T\` lifts it.

Needs LISTMONK_URL, LISTMONK_API_USER, LISTMONK_API_TOKEN (the API user needs subscribers:get_all
and lists:get_all; with subscribers:sql_query on Listmonk v5+ blocklistings on other lists are read too).

Examples:
  audience sync-listmonk
  audience sync-listmonk --json >> /var/log/audience/sync-listmonk.jsonl`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      // Loaded here, not at the top: `audience --help` must not load the stage.
      const { listmonkSyncStage } = await import('../optouts/stage.ts');
      await runStageCommand(cmd, listmonkSyncStage, {});
    });
}
