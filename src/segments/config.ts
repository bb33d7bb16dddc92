import { z } from 'zod';

/** `segments` section: parameters of each segment module, keyed by segment name. */
export const segmentsConfigSchema = z.strictObject({
  mcs150: z.strictObject({ leadDays: z.number().int().min(0).max(365).default(60) }).prefault({}),
  'new-carrier': z.strictObject({ days: z.number().int().min(1).max(365).default(30) }).prefault({}),
});
export type SegmentsConfig = z.infer<typeof segmentsConfigSchema>;
