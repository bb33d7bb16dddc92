import { z } from 'zod';

/** `listmonk` section. Credentials come from env (LISTMONK_*), never from the file in production. */
export const listmonkConfigSchema = z.strictObject({
  url: z.url().optional(),
  apiUser: z.string().min(1).optional(),
  apiToken: z.string().min(1).optional(),
  /** 'auto' asks the server; v2/v3 use Basic auth with the admin user, v4+ `token user:token`. */
  version: z.enum(['auto', 'v2', 'v3', 'v4', 'v5', 'v6']).default('auto'),
  concurrency: z.number().int().min(1).max(16).default(4),
  timeoutMs: z.number().int().min(100).default(15_000),
  retries: z.number().int().min(0).max(10).default(4),
  /** Campaign defaults used by `build --send-hour`. */
  fromEmail: z.string().optional(),
  templateId: z.number().int().positive().optional(),
  listPrefix: z.string().default('audience'),
});
export type ListmonkConfig = z.infer<typeof listmonkConfigSchema>;
