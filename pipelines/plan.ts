/** `audience plan [--days N]`: cap per day ahead, eligible audience per segment, days of audience left. */
import type { StageContext } from '../src/context.ts';
import { daysOfAudience, planDays, type PlanDay } from '../src/reports/plan.ts';
import { RULES } from '../src/rules/index.ts';
import { SEGMENTS } from '../src/segments/index.ts';
import { localDate, parseIsoDate } from '../src/warmup/calendar.ts';
import { resolveWarmupStart } from '../src/warmup/start.ts';

export type PlanSummary = {
  command: 'plan';
  from: string;
  warmupStart: { day: string; source: string };
  days: PlanDay[];
  /** Eligible today, all segments (an address counts once). */
  eligibleToday: number;
  /** Days the ramp takes to use up today's eligible audience; null when it never would. */
  daysOfAudienceLeft: number | null;
};

export async function plan(ctx: StageContext, opts: { days: number; from?: string }): Promise<PlanSummary> {
  const { config, store } = ctx;
  const now = ctx.now();
  const from = opts.from ?? localDate(now, config.timezone);
  parseIsoDate(from);
  const start = resolveWarmupStart(config.warmup.start, config.timezone);
  const days = await planDays(store.db, config, start, SEGMENTS, RULES, from, opts.days, now);
  const first = days[0]!;
  return {
    command: 'plan',
    from,
    warmupStart: { day: start.day, source: start.source },
    days,
    eligibleToday: first.eligibleTotal,
    daysOfAudienceLeft: daysOfAudience(config, Math.max(0, first.warmupDay), first.eligibleTotal),
  };
}

export function renderPlan(s: PlanSummary): string {
  const segs = Object.keys(s.days[0]?.eligible ?? {});
  const head = ['date      ', 'day', ' cap/day', ' cap/h', ...segs.map((n) => n.padStart(12))].join('  ');
  const rows = s.days.map((d) =>
    [d.date, String(d.warmupDay).padStart(3), String(d.daily).padStart(8), String(d.hourly).padStart(6), ...segs.map((n) => String(d.eligible[n] ?? 0).padStart(12))].join('  '),
  );
  const left = s.daysOfAudienceLeft === null ? 'more than ten years' : `${s.daysOfAudienceLeft} day(s)`;
  // A plain date source says the date twice; a time or a stamp file is worth naming.
  const source = s.warmupStart.source === `date ${s.warmupStart.day}` ? '' : ` (${s.warmupStart.source})`;
  return [
    `warmup started ${s.warmupStart.day}${source}`,
    head,
    ...rows,
    // Every row shows today's audience: read alone, "21 eligible every day" and "lasts 1 day" disagreed.
    `eligible counts are today's on every row (pushes, cooldowns and new census data change them)`,
    `eligible today: ${s.eligibleToday}; the ramp's caps would use them up in ${left}`,
  ].join('\n');
}
