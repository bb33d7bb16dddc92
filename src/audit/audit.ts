/**
 * `audit-listmonk`: every campaign Listmonk will send (scheduled or running, ours or not), who it
 * would mail, how many of them the rules exclude now, and whether its day stays under the warmup
 * cap; with `pause`, the offending ones are stopped (offending.ts says what that means).
 */
import { sql } from 'kysely';
import type { StageContext } from '../context.ts';
import { ListmonkApiError, ListmonkAuthError, ListmonkUnavailableError, type ListmonkCampaign, type ListmonkClient } from '../listmonk/index.ts';
import type { ReasonCode } from '../rules/reason-codes.ts';
import { localDate, zonedTime } from '../warmup/calendar.ts';
import { capForDay, warmupDay } from '../warmup/ramp.ts';
import type { WarmupStart } from '../warmup/start.ts';
import { activeHoldsAt } from '../push/gates.ts';
import { judgeAddresses, judgedAddress, type Verdict } from './judge.ts';
import { isOffendingCode, OFFENDING_CODES } from './offending.ts';
import { ListReader } from './recipients.ts';
import { sendDay, sendVolume, sentTodayBy } from './send-day.ts';
import type { AuditDay, AuditedCampaign, AuditSummary } from './summary.ts';

/** Excluded members shown per campaign (all are counted). */
const SAMPLES = 5;

export interface AuditOptions {
  pause: boolean;
  start: WarmupStart;
}

interface Read {
  campaign: ListmonkCampaign;
  day: string;
  recipients: Map<number, string>;
  lists: AuditedCampaign['lists'];
}

export async function auditCampaigns(ctx: StageContext, lm: ListmonkClient, opts: AuditOptions): Promise<AuditSummary> {
  const { config, store } = ctx;
  const now = ctx.now();
  const tz = config.timezone;
  const today = localDate(now, tz);
  const version = await lm.version();

  const active = await lm.listCampaigns({ statuses: ['scheduled', 'running'] });
  const startOfToday = zonedTime(today, 0, tz).getTime();
  // Newest change first, until a page holds nothing changed today: what stopped campaigns sent today.
  const stopped = await lm.listCampaigns({
    statuses: ['finished', 'cancelled', 'paused'],
    orderBy: 'updated_at',
    order: 'desc',
    enough: (rows) => rows.every((c) => !c.updated_at || new Date(c.updated_at).getTime() < startOfToday),
  });
  const sentToday = sentTodayBy(stopped, now, tz);

  const reader = new ListReader(lm);
  const reads: Read[] = [];
  for (const c of active) {
    const { recipients, lists } = await reader.recipientsOf(c);
    reads.push({ campaign: c, day: sendDay(c, now, tz), recipients, lists });
  }

  // One judgement per send day: cooldown is relative to it; the other rules are judged at `now`.
  const verdicts = new Map<string, Map<string, Verdict>>();
  for (const day of new Set(reads.map((r) => r.day))) {
    const addresses = reads.filter((r) => r.day === day).flatMap((r) => [...r.recipients.values()].map(judgedAddress));
    verdicts.set(day, await judgeAddresses(store.db, config, day, now, addresses));
  }
  const ours = await buildRecords(ctx, active);

  const campaigns: AuditedCampaign[] = reads.map((r) => {
    const c = r.campaign;
    const judged = verdicts.get(r.day)!;
    const excludedBy: Partial<Record<ReasonCode, number>> = {};
    const otherReasons: Partial<Record<ReasonCode, number>> = {};
    const samples: AuditedCampaign['samples'] = [];
    let excluded = 0;
    let unknownToUs = 0;
    for (const email of r.recipients.values()) {
      const v = judged.get(judgedAddress(email));
      if (!v) continue;
      if (!v.known) unknownToUs++;
      const offending = v.codes.filter(isOffendingCode);
      for (const code of v.codes) {
        const into = isOffendingCode(code) ? excludedBy : otherReasons;
        into[code] = (into[code] ?? 0) + 1;
      }
      if (!offending.length) continue;
      excluded++;
      samples.push({ email, knownToUs: v.known, reasons: v.evidence });
    }
    // The first few by address: the same ones on every run, whatever order Listmonk pages in.
    samples.sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0)).splice(SAMPLES);
    const record = ours.campaigns.get(c.id) ?? c.lists.map((l) => ours.lists.get(l.id)).find(Boolean) ?? null;
    return {
      id: c.id,
      name: c.name,
      status: c.status as 'scheduled' | 'running',
      type: c.type ?? 'regular',
      sendAt: c.send_at ?? null,
      sendDay: r.day,
      madeByAudience: record !== null,
      segment: record?.segment ?? null,
      lists: r.lists,
      recipients: r.recipients.size,
      volume: sendVolume(c, r.recipients.size, now, tz),
      unknownToUs,
      excluded,
      excludedBy,
      otherReasons,
      samples,
      offending: false,
      why: [],
      action: null,
    };
  });

  const days = dayTotals(campaigns, { config, start: opts.start, today, sentToday: sentToday.sent });
  const overCap = new Set(days.filter((d) => d.overCap).map((d) => d.date));
  // Unsigned campaign mail is junked everywhere: while a global hold stands, nothing may send.
  const global = (await activeHoldsAt(store.db, now)).find((h) => h.scope === 'global') ?? null;
  for (const c of campaigns) {
    if (c.excluded > 0) c.why.push('excluded_members');
    if (overCap.has(c.sendDay)) c.why.push('day_over_cap');
    if (global) c.why.push('global_hold');
    c.offending = c.why.length > 0;
  }
  campaigns.sort((a, b) => a.sendDay.localeCompare(b.sendDay) || (a.sendAt ?? '').localeCompare(b.sendAt ?? '') || a.id - b.id);

  const warnings: string[] = [];
  if (opts.pause) await stopOffending(lm, campaigns, warnings);

  return {
    command: 'audit-listmonk',
    date: today,
    pause: opts.pause,
    listmonk: { version: version.raw },
    offendingCodes: [...OFFENDING_CODES],
    globalHold: global ? { reason: global.reason, until: global.until.toISOString(), detail: global.detail } : null,
    campaigns,
    days,
    offending: campaigns.filter((c) => c.offending).length,
    stopped: campaigns.filter((c) => c.action === 'paused' || c.action === 'unscheduled').map((c) => c.id),
    notStopped: campaigns.filter((c) => c.offending && c.action === 'failed').map((c) => c.id),
    sentToday,
    warnings,
  };
}

/** Per send day: its cap, what its campaigns send (and for today what stopped ones sent), over or not. */
function dayTotals(campaigns: readonly AuditedCampaign[], o: { config: StageContext['config']; start: WarmupStart; today: string; sentToday: number }): AuditDay[] {
  const dates = [...new Set([...campaigns.map((c) => c.sendDay), ...(o.sentToday > 0 ? [o.today] : [])])].sort();
  return dates.map((date) => {
    const mine = campaigns.filter((c) => c.sendDay === date);
    const wd = warmupDay(o.start, date);
    const cap = capForDay(o.config.warmup, wd);
    const campaignsVolume = mine.reduce((n, c) => n + c.volume, 0);
    const sent = date === o.today ? o.sentToday : 0;
    const total = campaignsVolume + sent;
    return { date, warmupDay: wd, dailyCap: cap.daily, campaigns: mine.length, campaignsVolume, sentToday: sent, total, overCap: total > cap.daily };
  });
}

interface BuildRecord {
  segment: string;
}

/** The campaigns and lists a build made (build_lists), with their segment. */
async function buildRecords(ctx: StageContext, campaigns: readonly ListmonkCampaign[]): Promise<{ campaigns: Map<number, BuildRecord>; lists: Map<number, BuildRecord> }> {
  const out = { campaigns: new Map<number, BuildRecord>(), lists: new Map<number, BuildRecord>() };
  const ids = campaigns.map((c) => c.id);
  if (!ids.length) return out;
  const listIds = campaigns.flatMap((c) => c.lists.map((l) => l.id)).filter((id) => id > 0);
  const rows = await sql<{ segment: string; list_id: number; campaign_id: number | null }>`
    select segment, list_id, campaign_id from build_lists
    where campaign_id = any(${ids}::int[]) or list_id = any(${listIds}::int[])`.execute(ctx.store.db);
  for (const r of rows.rows) {
    if (r.campaign_id !== null) out.campaigns.set(r.campaign_id, { segment: r.segment });
    out.lists.set(r.list_id, { segment: r.segment });
  }
  return out;
}

/**
 * Stops each offending campaign (running → paused, scheduled → draft), going on after a refusal of
 * one of them. Wrong credentials stop everything (exit 2); when Listmonk stops answering, the rest
 * are not tried (each would wait out the retries) and say so.
 */
async function stopOffending(lm: ListmonkClient, campaigns: AuditedCampaign[], warnings: string[]): Promise<void> {
  let unavailable: string | null = null;
  for (const c of campaigns.filter((x) => x.offending)) {
    if (unavailable) {
      c.action = 'failed';
      c.actionError = `not tried: ${unavailable}`;
      continue;
    }
    try {
      const r = await lm.stopCampaign(c.id);
      c.action = r.action;
      if (r.action === 'not_active') warnings.push(`campaign ${c.id} "${c.name}" was already ${r.campaign.status} when it was to be stopped.`);
    } catch (e) {
      if (e instanceof ListmonkAuthError || !(e instanceof ListmonkApiError || e instanceof ListmonkUnavailableError)) throw e;
      c.action = 'failed';
      c.actionError = e.message;
      if (e instanceof ListmonkUnavailableError) unavailable = e.message;
    }
  }
}
