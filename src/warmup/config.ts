import { z } from 'zod';

/** The firm's hard rule from the incident data: never more than ~4,000 mails a day on these IPs. */
export const ABSOLUTE_DAILY_CEILING = 4000;

const rampStep = z.strictObject({
  fromDay: z.number().int().min(0),
  hourly: z.number().int().positive(),
  daily: z.number().int().positive(),
});

/** `warmup` section: by default the firm's ramp for these IPs (below), under ABSOLUTE_DAILY_CEILING. */
export const warmupConfigSchema = z
  .strictObject({
    /** AUDIENCE_WARMUP_START: YYYY-MM-DD, an RFC 3339 time, or a path to a file holding epoch seconds. */
    start: z.string().min(1).optional(),
    ramp: z
      .array(rampStep)
      .min(1)
      .default([
        { fromDay: 0, hourly: 50, daily: 500 },
        { fromDay: 2, hourly: 150, daily: 1500 },
        { fromDay: 4, hourly: 250, daily: 2500 },
        { fromDay: 7, hourly: 300, daily: 3000 },
      ]),
    hardCeiling: z.number().int().positive().max(ABSOLUTE_DAILY_CEILING).default(ABSOLUTE_DAILY_CEILING),
  })
  .superRefine((w, ctx) => {
    if (w.ramp[0]?.fromDay !== 0) ctx.addIssue({ code: 'custom', path: ['ramp', 0, 'fromDay'], message: 'the ramp must start at day 0' });
    for (let i = 1; i < w.ramp.length; i++) {
      if (w.ramp[i]!.fromDay <= w.ramp[i - 1]!.fromDay)
        ctx.addIssue({ code: 'custom', path: ['ramp', i, 'fromDay'], message: 'ramp steps must be in increasing fromDay order' });
    }
    w.ramp.forEach((s, i) => {
      if (s.daily > w.hardCeiling)
        ctx.addIssue({ code: 'custom', path: ['ramp', i, 'daily'], message: `daily ${s.daily} exceeds hardCeiling ${w.hardCeiling}` });
    });
  });
export type WarmupConfig = z.infer<typeof warmupConfigSchema>;
