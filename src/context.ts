import type { Output } from './cli/output.ts';
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
