/**
 * What every operation module receives: the HTTP transport, the section config, the server
 * version (detected once, lazily) and a little per-client memory (which lookup works).
 */
import type { ListmonkConfig } from './config.ts';
import type { ListmonkHttp } from './http.ts';
import type { ServerVersion } from './version.ts';

export interface ListmonkCore {
  readonly http: ListmonkHttp;
  readonly config: ListmonkConfig;
  /** Detected on first use (or from config), then cached. Also fixes the auth scheme. */
  version(): Promise<ServerVersion>;
  log(line: string): void;
  sleep(ms: number): Promise<void>;
  /** Wall clock for send_at checks; injectable so tests pin it. */
  now(): Date;
  /** `query` (SQL, needs subscribers:sql_query on v5+) until the server refuses it, then `search`. */
  lookupMode: 'query' | 'search';
}
