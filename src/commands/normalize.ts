import { Option, type Command } from 'commander';
import { runCommand } from '../cli/app.ts';
import { UsageError } from '../errors.ts';

export function register(program: Command): void {
  program
    .command('normalize')
    .description("normalize carriers' e-mail fields into addresses with their static verdicts (only carriers whose e-mail changed)")
    .addOption(new Option('--full', 're-normalize every carrier, not only the changed ones (same result; an audit)'))
    .addOption(new Option('--batch-size <n>', 'carriers per transaction').default('10000'))
    .addHelpText(
      'after',
      `
Splits multi-address fields, strips mailto: and angle brackets, lower-cases, converts IDN domains
to ASCII, validates (practical RFC 5321), flags typos of big providers, links each address to every
carrier listing it. \`ingest census\` runs this at its end; run it alone after changing carriers by hand.
Re-running it changes nothing ("changes": 0).

Examples:
  audience normalize
  audience normalize --json
  audience normalize --full --batch-size 20000`,
    )
    .action(async (opts: { full?: boolean; batchSize: string }, cmd: Command) => {
      const batchSize = Number(opts.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch-size must be a positive integer, got "${opts.batchSize}"`);
      await runCommand(
        cmd,
        { migrations: 'apply' },
        async (ctx) => {
          const { normalizeEmails } = await import('../../pipelines/email-normalize.ts');
          return normalizeEmails(ctx, { full: Boolean(opts.full), batchSize });
        },
        (s) =>
          [
            `normalized ${s.carriers_normalized} carrier(s) in ${s.seconds}s (run ${s.run_id}): ${s.changes} row change(s)`,
            `  addresses: +${s.addresses_new} new, ${s.addresses_rejudged} re-judged; links: +${s.links_added} -${s.links_removed}; reasons: +${s.reasons_added} -${s.reasons_removed}`,
            `  totals: ${s.totals.addresses} addresses (${s.totals.valid} valid, ${s.totals.invalid} invalid), ${s.totals.shared} shared, ${s.totals.carriers_with_address} carriers with an address`,
          ].join('\n'),
      );
    });
}
