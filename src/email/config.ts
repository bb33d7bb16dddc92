import { z } from 'zod';

/** `email` section: normalization and exclusion-rule settings. */
export const emailConfigSchema = z.strictObject({
  /** An address listed by this many carriers or more belongs to an agent/filing service: `shared_address`. */
  sharedAddressThreshold: z.number().int().min(2).default(5),
  /** `role_account` for info@/office@/... only when enabled (small firms often have no other address).
   *  postmaster@, abuse@, noreply@ and similar are always excluded. */
  excludeRoleAccounts: z.boolean().default(false),
  /** Extra domains the operator never wants mailed (matched on the normalized domain and its subdomains). */
  blockedDomains: z.array(z.string().min(1)).default([]),
  /** Addresses known good: they skip the soft rules, never the Yahoo family. */
  allowlist: z.array(z.string().min(3)).default([]),
});
export type EmailConfig = z.infer<typeof emailConfigSchema>;
