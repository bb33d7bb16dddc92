import { Option, type Command } from 'commander';
import { globalOptions } from '../cli/app.ts';
import { intFlag, positiveFlag } from '../cli/flags.ts';
import { FindingsError } from '../errors.ts';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('checks configuration, database, warmup stamp, mail.log, DNS, Listmonk, sliding window, DKIM and holds; says how to fix each failure')
    .addOption(new Option('--timeout <ms>', 'each check gives up after this long (default doctor.timeoutMs, 5000)'))
    .addOption(new Option('--maillog-max-age <hours>', 'mail.log older than this is stale (default doctor.maillogMaxAgeHours, 24)'))
    .addHelpText(
      'after',
      `
Read-only: nothing is migrated, written or pushed. The checks run at once, each within the
timeout, so a dead service costs one timeout, never a hang. Every entry has a name, ok, status
(pass, warn = passed with advice, fail, skip = not run because a check it needs failed), detail
and fix. Exit 0 when every check passes (advice included), 1 when one fails.

Checks: config, database (reachable, pending migrations), warmup (the stamp and today's warmup
day), maillog (readable, written recently), dns (each name server's canaries and MX latency),
listmonk (reachable, version), listmonk-permissions (what build needs), listmonk-campaign
(template and from address), sliding-window (against today's hourly cap), dkim (7 days, per
stream), holds, streams (volume and delivery mix per maillog.campaignClients stream).

Examples:
  audience doctor
  audience doctor --json | jq '.checks[] | select(.ok | not)'
  audience doctor --timeout 2000`,
    )
    .action(async (opts: { timeout?: string; maillogMaxAge?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const overrides = {
        doctor: {
          timeoutMs: intFlag('--timeout', opts.timeout, { min: 100, max: 120_000, unit: 'milliseconds' }),
          maillogMaxAgeHours: positiveFlag('--maillog-max-age', opts.maillogMaxAge, 'hours'),
        },
      };
      const { createOutput } = await import('../cli/output.ts');
      const out = createOutput({ json: Boolean(g.json), verbose: Boolean(g.verbose), quiet: Boolean(g.quiet) });
      const { doctor, renderDoctor } = await import('../doctor/doctor.ts');
      const summary = await doctor({ configPath: g.config, overrides });
      if (summary.ok) return out.result(summary, renderDoctor as (s: object) => string);
      // Without --json the report goes to stdout first; with it, the error carries the report so
      // stdout still holds exactly one JSON object.
      if (!out.json) out.result(summary, renderDoctor as (s: object) => string);
      const skipped = summary.checks.filter((c) => c.status === 'skip').length;
      throw new FindingsError(
        `${summary.failed.length - skipped} check(s) failed (${summary.checks.filter((c) => c.status === 'fail').map((c) => c.name).join(', ')})${skipped ? `, ${skipped} not run` : ''}: do what each fix says, then run \`audience doctor\` again.`,
        { summary: summary as unknown as Record<string, unknown> },
      );
    });
}
