import { z } from 'zod';

/**
 * `listmonk` section. Credentials come from env (LISTMONK_*), never from the file in production.
 * The URL must not carry credentials: fetch refuses such URLs, and they would end up in logs.
 */
export const listmonkConfigSchema = z.strictObject({
  url: z
    .url()
    .refine((u) => {
      // Zod runs this check even when z.url() failed: an unparseable URL is that check's to report.
      if (!URL.canParse(u)) return true;
      const p = new URL(u);
      return p.username === '' && p.password === '';
    }, 'must not contain credentials: set LISTMONK_API_USER and LISTMONK_API_TOKEN instead')
    .optional(),
  apiUser: z.string().min(1).optional(),
  apiToken: z.string().min(1).optional(),
  /** 'auto' asks the server (GET /api/config); v2/v3 use Basic auth with the admin user, v4+ `token user:token`. */
  version: z.enum(['auto', 'v2', 'v3', 'v4', 'v5', 'v6']).default('auto'),
  /** Requests in flight at once. Listmonk shares a 25-connection DB pool with campaign sending. */
  concurrency: z.number().int().min(1).max(16).default(4),
  /** Per attempt, including reading the response body. */
  timeoutMs: z.number().int().min(100).default(15_000),
  /** Extra attempts after a network error, a timeout or a 5xx. 4xx is never retried. */
  retries: z.number().int().min(0).max(10).default(4),
  /** First backoff delay; it doubles per attempt (with jitter) up to retryMaxMs. */
  retryBaseMs: z.number().int().min(0).default(500),
  retryMaxMs: z.number().int().min(0).default(15_000),
  /**
   * From this many subscribers on, `pushSubscribers` uses the bulk import instead of one call per
   * address (see src/listmonk/client.ts for the trade-off).
   */
  importThreshold: z.number().int().min(1).default(1000),
  /** How often to poll GET /api/import/subscribers. */
  importPollMs: z.number().int().min(10).default(1000),
  /** How long to wait for another import on the server, or ours, to finish before giving up. */
  importWaitMs: z.number().int().min(100).default(30 * 60_000),
  /** Campaign defaults used by `build --send-hour`. */
  fromEmail: z.string().optional(),
  templateId: z.number().int().positive().optional(),
  listPrefix: z.string().default('audience'),
  /**
   * Whose unsubscribes are opt-outs (a blocklisting in Listmonk always is): 'ours', the lists this
   * project created (names starting with listPrefix, or recorded by a build); 'all', every list the
   * API user can see, for a Listmonk whose other lists mail the same people.
   */
  optOutScope: z.enum(['ours', 'all']).default('ours'),
});
export type ListmonkConfig = z.infer<typeof listmonkConfigSchema>;
