/**
 * When a Listmonk campaign sends and how much of it lands on that day, for the warmup cap. Pure
 * functions of the campaign and the clock; days are calendar days in the firm's time zone.
 */
import type { ListmonkCampaign } from '../listmonk/index.ts';
import { localDate } from '../warmup/calendar.ts';

/**
 * The day a scheduled or running campaign sends: a running one today; a scheduled one on its
 * send_at's day, or today when that time has passed (Listmonk's scheduler starts it within a
 * minute: `status='scheduled' AND NOW() >= send_at`).
 */
export function sendDay(c: ListmonkCampaign, now: Date, tz: string): string {
  if (c.status !== 'scheduled' || !c.send_at) return localDate(now, tz);
  const at = new Date(c.send_at);
  return Number.isNaN(at.getTime()) || at.getTime() <= now.getTime() ? localDate(now, tz) : localDate(at, tz);
}

/**
 * How many mails the campaign sends on its send day. A scheduled one: its recipients as they are
 * now (what Listmonk counts into to_send when it starts). A running one: Listmonk fixed to_send
 * when it started; if it started today all of it is today's, otherwise what is left (to_send −
 * sent). Without a to_send (not counted yet), its recipients now.
 */
export function sendVolume(c: ListmonkCampaign, recipients: number, now: Date, tz: string): number {
  if (c.status !== 'running' || !c.to_send) return recipients;
  const startedToday = c.started_at ? localDate(new Date(c.started_at), tz) === localDate(now, tz) : false;
  return startedToday ? c.to_send : Math.max(0, c.to_send - (c.sent ?? 0));
}

/** Mail already sent today by campaigns that are no longer active (finished, paused, cancelled) and started today. */
export function sentTodayBy(stopped: readonly ListmonkCampaign[], now: Date, tz: string): { campaigns: number; sent: number } {
  const today = localDate(now, tz);
  let campaigns = 0;
  let sent = 0;
  for (const c of stopped) {
    if (!c.started_at || !c.sent || localDate(new Date(c.started_at), tz) !== today) continue;
    campaigns++;
    sent += c.sent;
  }
  return { campaigns, sent };
}
