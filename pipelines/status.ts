/**
 * `audience status`: warmup day, today's cap and use, the date's lists and campaigns, holds with
 * their reasons and end dates, DKIM coverage, delivery mix of the last 7 days (also per stream),
 * suppression counts and the last run of each job. Read-only; a missing warmup start is reported, not refused.
 */
import type { StageContext } from '../src/context.ts';
import { ledgerCounts, listRecords } from '../src/push/ledger.ts';
import { holdsView, recentDelivery, suppressionCounts } from '../src/reports/status.ts';
import { activeOptOutCount } from '../src/optouts/record.ts';
import { AudienceError } from '../src/errors.ts';
import { holdSubjectText } from '../src/maillog/holds.ts';
import { renderStream, streamReports } from '../src/maillog/stream-report.ts';
import { lastRuns } from '../src/runs.ts';
import { addDays, localDate } from '../src/warmup/calendar.ts';
import { dayCap } from '../src/warmup/ramp.ts';
import { resolveWarmupStart } from '../src/warmup/start.ts';

export async function status(ctx: StageContext) {
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

export type StatusSummary = Awaited<ReturnType<typeof status>>;

export function renderStatus(s: StatusSummary): string {
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
