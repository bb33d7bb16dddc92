/**
 * The read-only report stages: `audience status` (warmup day, today's cap and use, the date's lists
 * and campaigns, holds, DKIM coverage, the delivery mix of the last 7 days, suppressions, the last
 * run of each job; a missing warmup start is reported, not refused) and `audience plan` (cap per day
 * ahead, eligible audience per segment, days of audience left). Neither writes a runs row.
 */
import { z } from 'zod';
import type { StageContext } from '../context.ts';
import { AudienceError } from '../errors.ts';
import { RULES } from '../rules/index.ts';
import { SEGMENTS } from '../segments/index.ts';
import { activeOptOutCount } from '../optouts/record.ts';
import { dayCap } from '../warmup/ramp.ts';
import { daysOfAudience, planDays, type PlanDay } from './plan.ts';
import { holdSubjectText } from '../maillog/holds.ts';
import { holdsView, recentDelivery, suppressionCounts } from '../maillog/views.ts';
import { lastRuns } from '../runs.ts';
import { ledgerCounts, listRecords } from '../push/ledger.ts';
import { addDays, localDate, parseIsoDate } from '../warmup/calendar.ts';
import { renderStream, streamReports } from '../maillog/stream-report.ts';
import { resolveWarmupStart } from '../warmup/start.ts';
import { runStage, type Envelope, type Stage } from '../stage.ts';

async function runStatus(ctx: StageContext) {
  const { config, store } = ctx;
  const now = ctx.now();
  const today = localDate(now, config.timezone);

  let warmup: { start: string; source: string; day: number; dailyCap: number; hourlyCap: number } | { error: string };
  try {
    const start = resolveWarmupStart(config.warmup.start, config.timezone);
    const cap = dayCap(config.warmup, start, today);
    warmup = { start: start.day, source: start.source, day: cap.warmupDay, dailyCap: cap.daily, hourlyCap: cap.hourly };
  } catch (e) {
    if (!(e instanceof AudienceError)) throw e;
    warmup = { error: e.message };
  }

  const counts = await ledgerCounts(store.db, today);
  const pushed = Object.values(counts).reduce((n, c) => n + c.pushed, 0);
  const reserved = Object.values(counts).reduce((n, c) => n + c.reserved, 0);
  const failed = Object.values(counts).reduce((n, c) => n + c.failed, 0);
  const released = Object.values(counts).reduce((n, c) => n + c.released, 0);
  const lists = await listRecords(store.db, today);
  const { mix, dkim } = await recentDelivery(store.db, today, config.maillog.dkimCoverageMin);
  const runs = await lastRuns(store.db);

  return {
    command: 'status' as const,
    date: today,
    warmup,
    today: {
      pushed,
      reserved,
      failed,
      /** Reservations that never reached Listmonk (a push failed on its configuration or credentials): counted nowhere. */
      released,
      remaining: 'dailyCap' in warmup ? Math.max(0, warmup.dailyCap - pushed - reserved) : null,
      bySegment: counts,
      lists: lists.map((l) => ({ segment: l.segment, list: { id: l.list_id, name: l.list_name }, campaign: l.campaign_id ? { id: l.campaign_id, sendAt: l.campaign_send_at?.toISOString() ?? null } : null })),
    },
    holds: await holdsView(store.db, now),
    dkimCoverage: dkim,
    deliveryMix: mix,
    /** The same 7 days per stream (maillog.campaignClients), with each stream's DKIM coverage. */
    streams: await streamReports(store.db, addDays(today, -6), today, config.maillog),
    suppressions: await suppressionCounts(store.db, now),
    /** Addresses opted out in Listmonk (opted_out), as last read back. */
    optedOut: await activeOptOutCount(store.db),
    lastRuns: runs.map((r) => ({ stage: r.stage, status: r.status, startedAt: r.started_at.toISOString(), finishedAt: r.finished_at?.toISOString() ?? null, error: r.error })),
  };
}

export type StatusSummary = Awaited<ReturnType<typeof runStatus>>;
export type StatusEnvelope = Envelope<StatusSummary>;

export function renderStatus(s: StatusEnvelope): string {
  const w = 'error' in s.warmup ? `warmup: ${s.warmup.error}` : `warmup day ${s.warmup.day} (since ${s.warmup.start}): cap ${s.warmup.dailyCap}/day, ${s.warmup.hourlyCap}/h`;
  const lines = [`status for ${s.date}`, `  ${w}`, `  today: ${s.today.pushed} pushed, ${s.today.reserved} reserved, ${s.today.failed} refused${s.today.released ? `, ${s.today.released} released` : ''}; ${s.today.remaining ?? '?'} left under the cap`];
  for (const l of s.today.lists) lines.push(`    ${l.segment}: list "${l.list.name}" (#${l.list.id})${l.campaign ? `, campaign #${l.campaign.id} at ${l.campaign.sendAt}` : ''}`);
  lines.push(s.holds.length ? '  holds:' : '  holds: none');
  for (const h of s.holds) lines.push(`    ${h.scope === 'global' ? 'GLOBAL' : holdSubjectText({ ...h, mx_host: h.mxHost })} — ${h.reason} until ${h.until}: ${h.detail}`);
  const d = s.dkimCoverage;
  lines.push(`  DKIM coverage (7 days): ${d.ratio === null ? 'no campaign mail seen' : `${(d.ratio * 100).toFixed(1)}% of ${d.campaignMessages} (minimum ${d.minimum * 100}%)${d.ok ? '' : ' — BELOW MINIMUM'}`}`);
  const m = s.deliveryMix;
  lines.push(`  delivery ${m.from}..${m.to}: ${m.sent} sent, ${m.deferred} deferred, ${m.bounced} bounced, ${m.expired} expired; own-domain failures ${m.ownDomainFailed}`);
  const classes = Object.entries(m.byClass);
  if (classes.length) lines.push(`    by class: ${classes.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(s.streams.length ? '  by stream:' : '  by stream: no campaign client configured (maillog.campaignClients) and no campaign mail seen');
  for (const st of s.streams) lines.push(`    ${renderStream(st)}`);
  lines.push(`  suppressions: ${s.suppressions.address} address(es), ${s.suppressions.domain} domain(s)`);
  lines.push(`  opted out in Listmonk: ${s.optedOut} address(es)`);
  lines.push('  last runs:');
  for (const r of s.lastRuns) lines.push(`    ${r.stage.padEnd(14)} ${r.status.padEnd(9)} ${r.startedAt}${r.error ? ` — ${r.error.split('\n')[0]}` : ''}`);
  return lines.join('\n');
}

export const statusStage: Stage<Record<string, never>, StatusSummary> = {
  name: 'status',
  options: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
  migrations: 'require',
  ledger: false,
  args: () => ({}),
  run: (ctx) => runStatus(ctx),
  render: renderStatus,
};

export function status(ctx: StageContext): Promise<StatusEnvelope> {
  return runStage(ctx, statusStage, {});
}

export interface PlanOptions {
  days: number;
  from?: string;
}

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

async function runPlan(ctx: StageContext, opts: PlanOptions): Promise<PlanSummary> {
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

export function renderPlan(s: PlanEnvelope): string {
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

export type PlanEnvelope = Envelope<PlanSummary>;

export const planStage: Stage<PlanOptions, PlanSummary> = {
  name: 'plan',
  options: z.object({ days: z.number().int().min(1).max(366), from: z.string().optional() }),
  migrations: 'require',
  ledger: false,
  args: (o) => ({ ...o }),
  run: (ctx, _run, o) => runPlan(ctx, o),
  render: renderPlan,
};

export function plan(ctx: StageContext, opts: PlanOptions): Promise<PlanEnvelope> {
  return runStage(ctx, planStage, opts);
}
