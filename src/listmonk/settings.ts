/**
 * Read-only view of Listmonk's throttling settings (research/listmonk.md §3.9). We never PUT
 * /api/settings: it replaces the whole document and re-execs the server. The build uses
 * `slidingWindowWarning` to tell the operator when Listmonk would send faster than the warmup
 * day's hourly cap allows.
 */
import type { ListmonkCore } from './core.ts';

export interface ThrottleSettings {
  slidingWindow: boolean;
  /** Go duration as configured, e.g. `1h`. */
  slidingWindowDuration: string;
  slidingWindowRate: number;
  /** Sending workers and messages per second per worker: the ceiling without the window. */
  concurrency: number;
  messageRate: number;
}

/** GET /api/settings (needs settings:get). Only the throttling keys are kept; secrets are not read. */
export async function readSettings(core: ListmonkCore): Promise<ThrottleSettings> {
  await core.version();
  const s = await core.http.request<Record<string, unknown>>('GET', '/api/settings');
  return {
    slidingWindow: s['app.message_sliding_window'] === true,
    slidingWindowDuration: String(s['app.message_sliding_window_duration'] ?? '1h'),
    slidingWindowRate: Number(s['app.message_sliding_window_rate'] ?? 0),
    concurrency: Number(s['app.concurrency'] ?? 0),
    messageRate: Number(s['app.message_rate'] ?? 0),
  };
}

/** Seconds in a Go duration string (`1h`, `30m`, `1h30m`, `90s`, `1.5h`); null when unparseable. */
export function parseGoDuration(d: string): number | null {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const m of d.trim().matchAll(re)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0].length;
  }
  return consumed > 0 && consumed === d.trim().length && total > 0 ? total : null;
}

/** Messages per hour the sliding window allows, or null when it is off or unreadable. */
export function slidingWindowPerHour(s: ThrottleSettings): number | null {
  if (!s.slidingWindow) return null;
  const seconds = parseGoDuration(s.slidingWindowDuration);
  if (seconds === null || s.slidingWindowRate <= 0) return null;
  return Math.floor((s.slidingWindowRate * 3600) / seconds);
}

/** A warning for the operator, or null when Listmonk's window enforces the day's hourly cap. */
export function slidingWindowWarning(s: ThrottleSettings, hourlyCap: number): string | null {
  if (!s.slidingWindow)
    return `Listmonk's sliding window is off (Settings → Performance), so nothing limits campaign sends to the warmup day's ${hourlyCap}/h; a scheduled campaign goes out as fast as ${s.concurrency}×${s.messageRate}/s.`;
  const perHour = slidingWindowPerHour(s);
  if (perHour === null) return `Listmonk's sliding window (${s.slidingWindowRate} per ${s.slidingWindowDuration}) could not be read as a rate; check Settings → Performance.`;
  if (perHour > hourlyCap)
    return `Listmonk's sliding window allows ${s.slidingWindowRate} per ${s.slidingWindowDuration} (${perHour}/h), above the warmup day's hourly cap of ${hourlyCap}/h; lower it in Settings → Performance.`;
  return null;
}
