/**
 * The `rampcap` stage: today's hourly cap against Listmonk's sliding window (rampcap.ts), as one
 * run in the ledger; the summary, the run row's counts, records what was applied (before, after).
 */
import { z } from 'zod';
import type { StageContext } from '../context.ts';
import { createListmonkClient, permissionsAsConfig, type ListmonkClient } from '../listmonk/index.ts';
import { runStage, type Envelope, type Stage } from '../stage.ts';
import { localDate } from '../warmup/calendar.ts';
import { dayCap, type DayCap } from '../warmup/ramp.ts';
import { resolveWarmupStart } from '../warmup/start.ts';
import { runRampcap } from './rampcap.ts';
import { renderRampcap, type RampcapSummary } from './summary.ts';

export type RampcapEnvelope = Envelope<RampcapSummary>;

export interface RampcapOptions {
  /** --apply: set the window to today's cap. */
  apply: boolean;
  /** Tests inject a client; the CLI builds one from config.listmonk. */
  listmonk?: ListmonkClient;
}

const rampcapOptions = z.object({
  apply: z.boolean(),
  listmonk: z.custom<ListmonkClient>((v) => v === undefined || typeof v === 'object').optional(),
});

interface PreparedRampcap {
  apply: boolean;
  lm: ListmonkClient;
  cap: DayCap;
}

export const rampcapStage: Stage<RampcapOptions, RampcapSummary, PreparedRampcap> = {
  name: 'rampcap',
  options: rampcapOptions,
  // It writes only Listmonk and its runs row: the schema must be current already.
  migrations: 'require',
  ledger: true,
  // No warmup start (exit 3) or no Listmonk configured (exit 2) is refused before a run exists.
  prepare(ctx, o) {
    const { config } = ctx;
    const today = localDate(ctx.now(), config.timezone);
    return {
      apply: o.apply,
      cap: dayCap(config.warmup, resolveWarmupStart(config.warmup.start, config.timezone), today),
      lm: o.listmonk ?? createListmonkClient(config.listmonk, { log: (l) => ctx.out.debug(l), now: ctx.now }),
    };
  },
  args: (p) => ({ apply: p.apply, date: p.cap.date }),
  run: (ctx, _run, p) => permissionsAsConfig(() => runRampcap(ctx, p.lm, { apply: p.apply, cap: p.cap })),
  render: renderRampcap,
};

/** Today's hourly cap against Listmonk's sliding window (set with `apply`), as one `rampcap` run. */
export function rampcap(ctx: StageContext, opts: RampcapOptions): Promise<RampcapEnvelope> {
  return runStage(ctx, rampcapStage, opts);
}
