/** What every doctor check reads: the configuration, the one instant of the run, and its time box. */
import type { Config } from '../config.ts';
import type { Store } from '../db/store.ts';
import type { ListmonkClient } from '../listmonk/index.ts';

export interface DoctorContext {
  readonly config: Config;
  /** The run's clock read once: every age and "today" is relative to it. */
  readonly now: Date;
  /** Today in the firm's time zone. */
  readonly today: string;
  readonly timeoutMs: number;
  /** Tests hand in a store (an in-memory PGlite, an unmigrated database); the CLI opens config.database. */
  readonly openStore?: () => Promise<Store>;
  /** Tests hand in a client pointed at the double; the CLI makes one from config.listmonk. */
  readonly listmonk?: () => ListmonkClient;
}
