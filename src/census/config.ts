import { z } from 'zod';

/** `census` section of audience.config.json. */
export const censusConfigSchema = z.strictObject({
  /** Share of bad rows above which an ingest fails and merges nothing (a wrong file must not half-load). */
  maxRejectRate: z.number().min(0).max(1).default(0.01),
  /** Power units or drivers above this are sentinels/typos in MCMIS, not facts: stored as null with a flag. */
  absurdCount: z.number().int().positive().max(1_000_000_000).default(100_000),
  /** MCS-150 mileage above this (the census has 9.5e9) is stored as null with a flag. */
  absurdMileage: z.number().int().positive().default(1_000_000_000),
  /**
   * `--snapshot` refuses (exit 3) to deactivate more than this share of the active carriers: a
   * truncated download or a partial extract given as the full census would otherwise retire most of
   * the audience in one run. FMCSA's monthly census drops well under 1% of active carriers.
   */
  snapshotMaxDeactivateShare: z.number().min(0).max(1).default(0.05),
  /**
   * `--snapshot` refuses (exit 3) a file with fewer data rows than this: a full FMCSA census has
   * about 2.1 million (the Company Census File 4.4 million). Lower it for a regional extract.
   */
  snapshotMinRows: z.number().int().min(0).default(1000),
  /**
   * A file whose newest MCS-150/ADD date is more than this many days older than the data loaded is
   * refused (exit 2) unless --allow-older. A partial extract's newest date is only a lower bound of
   * its cut (200 rows of today's census may hold no filing of the last days), so a few days' gap is
   * no proof of an old file, while last month's census is 28+ days behind. Any older file is merged
   * carefully either way: a stored newer MCS-150 filing is never turned back.
   */
  olderToleranceDays: z.number().int().min(0).default(14),
  /** DD-MON-YY years: YY <= pivot is 20YY, else 19YY. Default: the current year's last two digits. */
  twoDigitYearPivot: z.number().int().min(0).max(99).optional(),
});
export type CensusConfig = z.infer<typeof censusConfigSchema>;
