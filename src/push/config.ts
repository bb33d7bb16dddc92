import { z } from 'zod';

/** A campaign for one segment's daily list, created by `build --send-hour H`. */
const campaignTemplate = z.strictObject({
  subject: z.string().min(1).max(5000),
  /** "Name <address>"; defaults to listmonk.fromEmail, then Listmonk's own default. */
  fromEmail: z.string().min(3).optional(),
  /** HTML body file, relative to the working directory (or absolute). */
  htmlFile: z.string().min(1),
  /** Plain-text part; derived from the HTML when absent (an HTML-only mail is a spam signal). */
  textFile: z.string().min(1).optional(),
  /** Listmonk campaign template id; defaults to listmonk.templateId, then Listmonk's default. */
  templateId: z.number().int().positive().optional(),
});
export type CampaignTemplate = z.infer<typeof campaignTemplate>;

/** `build` section: ordering, re-contact policy and campaigns of the segment build. */
export const buildConfigSchema = z.strictObject({
  /** Best recipients first; providers not listed come after, in a stable order. yahoo is never mailed. */
  providerTiers: z.array(z.string().min(1)).default(['google', 'microsoft365', 'outlook_consumer']),
  /** An address pushed in the last N days is not pushed again by any segment (`cooldown`). */
  cooldownDays: z.number().int().min(0).default(30),
  /** Campaign template per segment name, used with --send-hour. A segment without one gets only its list. */
  campaigns: z.record(z.string(), campaignTemplate).default({}),
  /** Ledger rows written to the database per batch while pushing (bounded memory, few round trips). */
  ledgerBatch: z.number().int().min(1).max(10_000).default(200),
});
export type BuildConfig = z.infer<typeof buildConfigSchema>;
