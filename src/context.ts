import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Store } from './db/store.ts';

/**
 * What every pipeline receives: the frozen config, the store, where to speak, and the clock
 * (injected so tests and `--date` runs are deterministic).
 */
export interface StageContext {
  readonly config: Config;
  readonly store: Store;
  readonly out: Output;
  /** The one source of "now" (src/clock.ts). */
  readonly now: Clock;
}

export interface Progress {
  /** Sets the absolute position (and optionally a new total). */
  update(value: number, total?: number): void;
  stop(): void;
}

/**
 * Where a stage speaks. Declared here, beside the context that carries it, so the stages depend on
 * this interface and not on the CLI's terminal implementation (src/cli/output.ts).
 */
export interface Output {
  readonly json: boolean;
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  progress(label: string, total: number): Progress;
  /** The run summary: printed once, at the end. `human` renders it as text when not --json. */
  result(summary: object, human?: (s: object) => string): void;
}
