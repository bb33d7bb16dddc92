import { Option, type Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';

export function register(program: Command): void {
  program
    .command('rampcap')
    .description("today's hourly cap (warmup ramp and stamp) against Listmonk's sliding window; --apply sets the window to it")
    .addOption(new Option('--apply', "set Listmonk's sliding window on, 1h long, at today's hourly cap (nothing else changes)"))
    .addHelpText(
      'after',
      `
Dry by default: prints the warmup day, today's hourly and daily caps and Listmonk's window. With
--apply it sets app.message_sliding_window on, its duration to 1h and its rate to the hourly cap.
Listmonk only takes the whole settings document, so the document is read, those three keys are
changed and it is written back; Listmonk keeps a secret sent back empty, so masked secrets are
sent empty. Listmonk restarts after the write (about a second). Nothing is written when the window
is already right.

Refused (exit 3, nothing written):
  - Listmonk older than v2.0 or newer than v6.2 (its settings handler was not checked);
  - SMTP servers, bounce mailboxes or messengers that share a uuid (a fresh install's do until its
    settings are first saved): Listmonk would give each the password of the last one; type their
    passwords again in Listmonk's Settings and save once;
  - while a build runs, or Listmonk runs an import (the restart would cut them short).
Exit 1 when the window is saved but not in effect: Listmonk applies settings written while a
campaign runs only at its next restart.

Needs the API user's settings:get (and settings:manage and subscribers:import for --apply);
a missing permission exits 2.

Examples:
  audience rampcap
  audience rampcap --apply --json >> /var/log/audience/rampcap.jsonl`,
    )
    .action(async (opts: { apply?: boolean }, cmd: Command) => {
      // Loaded here, not at the top: `audience --help` must not load the stage.
      const { rampcapStage } = await import('../rampcap/stage.ts');
      await runStageCommand(cmd, rampcapStage, { apply: Boolean(opts.apply) });
    });
}
