/**
 * The `audience` program: global flags, the subcommands, and the one top-level error handler that
 * maps typed errors to exit codes (0 ok, 1 failed, 2 usage/configuration, 3 refused by a gate).
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT, InternalError, isAudienceError } from '../errors.ts';
import { COMMANDS } from '../commands/index.ts';
import { terminalText } from '../text/control-chars.ts';

// Several commands in one process (scripts/demo.mjs) share one open database through this.
export { withStoreSession } from './app.ts';

export function buildProgram(): Command {
  const program = new Command('audience')
    .description('FMCSA census -> clean, deliverable e-mail segments -> Listmonk, within the warmup ramp')
    .addOption(new Option('--json', 'print exactly one JSON object (the run summary) on stdout; logs go to stderr'))
    .addOption(new Option('--config <file>', 'configuration file (default ./audience.config.json; env AUDIENCE_CONFIG)'))
    .addOption(new Option('-v, --verbose', 'debug logs on stderr'))
    .addOption(new Option('-q, --quiet', 'no progress or info logs on stderr'))
    .showHelpAfterError('(run with --help for usage)')
    // Commander's own errors quote what was typed (an unknown option, a bad argument); subcommands inherit this.
    .configureOutput({ writeErr: (text) => process.stderr.write(terminalText(text)) })
    .exitOverride()
    .configureHelp({ showGlobalOptions: true });
  for (const register of COMMANDS) register(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/**
 * The command argv names, as the summaries spell it (`scrub-bounces`, `ingest census`), for the
 * JSON error object. Global options are skipped with their values: `--config FILE --json build`
 * is `build`, not `FILE`. An unknown command is reported as typed.
 */
export function commandName(argv: string[], program: Command = buildProgram()): string {
  const takesValue = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))));
  const names: string[] = [];
  let cmd = program;
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (takesValue.has(a)) i++;
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) return names.length ? names.join(' ') : a;
    names.push(sub.name());
    if (!sub.commands.length) break;
    cmd = sub;
  }
  return names.join(' ') || 'audience';
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (e) {
    // Loaded on failure only: output.ts brings the progress bars, which `--help` never needs.
    const { jsonText } = await import('./output.ts');
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return EXIT.ok;
      if (json) process.stdout.write(jsonText({ command: commandName(argv, program), ok: false, exitCode: EXIT.usage, error: { phase: 'usage', message: e.message } }) + '\n');
      return EXIT.usage;
    }
    const err = isAudienceError(e) ? e : new InternalError(e instanceof Error ? e.message : String(e), { cause: e });
    process.stderr.write(`audience: ${terminalText(err.message)}\n`);
    if (err instanceof InternalError) {
      const stack = e instanceof Error ? e.stack : undefined;
      if (stack) process.stderr.write(terminalText(stack) + '\n');
      process.stderr.write('This is a bug in audience: please report it with the command you ran and the lines above.\n');
    }
    if (json)
      process.stdout.write(
        jsonText({
          ...err.summary,
          command: commandName(argv, program),
          ok: false,
          exitCode: err.exitCode,
          error: { phase: err.phase, message: err.message, ...('gate' in err ? { gate: err.gate } : {}) },
        }) + '\n',
      );
    return err.exitCode;
  }
}
