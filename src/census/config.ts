import { z } from 'zod';

/** `census` section of audience.config.json. */
export const censusConfigSchema = z.strictObject({
  /** Share of bad rows above which an ingest fails and merges nothing (a wrong file must not half-load). */
  maxRejectRate: z.number().min(0).max(1).default(0.01),
  /** Power units or drivers above this are sentinels/typos in MCMIS, not facts: stored as null with a flag. */
  absurdCount: z.number().int().positive().max(1_000_000_000).default(100_000),
  /** MCS-150 mileage above this (the census has 9.5e9) is stored as null with a flag. */
  absurdMileage: z.number().int().positive().default(1_000_000_000),
  /** DD-MON-YY years: YY <= pivot is 20YY, else 19YY. Default: the current year's last two digits. */
  twoDigitYearPivot: z.number().int().min(0).max(99).optional(),
});
export type CensusConfig = z.infer<typeof censusConfigSchema>;
