import { z } from 'zod';

/** `doctor` section: how long each check may take, and what "recently written" means for mail.log. */
export const doctorConfigSchema = z.strictObject({
  /**
   * Each check gives up after this long (connections and queries included) and fails saying so:
   * a dead server makes `doctor` slow by this much, never hang. `--timeout MS` overrides it.
   */
  timeoutMs: z.number().int().min(100).max(120_000).default(5000),
  /**
   * mail.log not written for longer than this (by the run's clock) fails the check: logging
   * stopped, or the path names a rotated file. Postfix on the firm's server logs all day (cron
   * mail alone is hundreds of lines), so a day of silence is a fault. `--maillog-max-age H`.
   */
  maillogMaxAgeHours: z.number().positive().max(24 * 30).default(24),
});
export type DoctorConfig = z.infer<typeof doctorConfigSchema>;
