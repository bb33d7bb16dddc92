import { z } from 'zod';

/** `build` section: ordering and re-contact policy of the segment build. */
export const buildConfigSchema = z.strictObject({
  /** Best recipients first; providers not listed come after, in a stable order. yahoo is never mailed. */
  providerTiers: z.array(z.string().min(1)).default(['google', 'microsoft365', 'outlook_consumer']),
  /** An address pushed in the last N days is not pushed again by any segment (`cooldown`). */
  cooldownDays: z.number().int().min(0).default(30),
});
export type BuildConfig = z.infer<typeof buildConfigSchema>;
