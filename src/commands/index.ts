/**
 * Every subcommand of `audience`, in the order `--help` lists them. Each module declares its flags
 * and help, and loads its pipeline lazily so `audience --help` stays fast.
 */
import type { Command } from 'commander';
import { register as explain } from './explain.ts';
import { register as ingest } from './ingest.ts';
import { register as migrate } from './migrate.ts';
import { register as normalize } from './normalize.ts';

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [migrate, ingest, normalize, explain];
