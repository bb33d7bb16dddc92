/**
 * Every subcommand of `audience`, in the order `--help` lists them. Each module declares its flags
 * and help, and loads its pipeline lazily so `audience --help` stays fast.
 */
import type { Command } from 'commander';
import { register as migrate } from './migrate.ts';

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [migrate];
