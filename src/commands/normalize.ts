import { Option, type Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';
import { intFlag } from '../cli/flags.ts';

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
      const batchSize = intFlag('--batch-size', opts.batchSize, { min: 1 });
      // Loaded here, not at the top: `audience --help` must not load the stage.
      const { normalizeStage } = await import('../email/stage.ts');
      await runStageCommand(cmd, normalizeStage, { full: Boolean(opts.full), batchSize });
    });
}
