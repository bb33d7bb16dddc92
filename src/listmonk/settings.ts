/**
 * Listmonk's throttling settings. The build only reads them
 * (`slidingWindowWarning` tells the operator when Listmonk would send faster than the warmup day's
 * hourly cap allows); it never writes. `writeSlidingWindow` is for an operator's explicit request
 * (`rampcap --apply`): PUT /api/settings replaces the whole document and re-execs the server, so it
 * writes back the whole document it read with only the three sliding-window keys changed, secrets
 * blanked (Listmonk keeps a password sent empty; the `•` mask would be saved as the password), and
 * waits for the server to come back.
 */
import { ExternalServiceError, InputError, SafetyGateError } from '../errors.ts';
import { ListmonkUnavailableError } from './errors.ts';
import { serverConfig } from './account.ts';
import type { ListmonkCore } from './core.ts';
import { settingsWriteRisks } from './settings-safety.ts';

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
  return windowPerHour({ enabled: s.slidingWindow, duration: s.slidingWindowDuration, rate: s.slidingWindowRate });
}

/** Messages per hour a window allows, or null when it is off or unreadable. */
export function windowPerHour(w: SlidingWindow): number | null {
  if (!w.enabled) return null;
  const seconds = parseGoDuration(w.duration);
  if (seconds === null || w.rate <= 0) return null;
  return Math.floor((w.rate * 3600) / seconds);
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

export interface SlidingWindow {
  enabled: boolean;
  /** Go duration, more than 1 s (e.g. `1h`). */
  duration: string;
  rate: number;
}

export interface SlidingWindowWrite {
  /** false when Listmonk already had these values: nothing was written, nothing restarted. */
  changed: boolean;
  /** Listmonk answered that a campaign is running: the values apply after its next restart. */
  needsRestart: boolean;
  before: SlidingWindow;
  after: SlidingWindow;
}

const MASK = /^\u2022+$/;

/** GET /api/settings: the whole document (secrets come back masked with `•`). */
export async function readSettingsDocument(core: ListmonkCore): Promise<Record<string, unknown>> {
  await core.version();
  return core.http.request<Record<string, unknown>>('GET', '/api/settings');
}

/** Every all-`•` string (a masked secret) becomes `""`, at any depth: Listmonk then keeps the stored one. */
export function blankMaskedSecrets<T>(v: T): T {
  if (typeof v === 'string') return (MASK.test(v) ? '' : v) as T;
  if (Array.isArray(v)) return v.map(blankMaskedSecrets) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, blankMaskedSecrets(x)])) as T;
  return v;
}

/** The sliding-window keys of a settings document. */
export function slidingWindowOf(doc: Record<string, unknown>): SlidingWindow {
  return {
    enabled: doc['app.message_sliding_window'] === true,
    duration: String(doc['app.message_sliding_window_duration'] ?? ''),
    rate: Number(doc['app.message_sliding_window_rate'] ?? 0),
  };
}

/** Same switch, same rate, same length of window (`1h` and `60m` are one window). */
export function sameWindow(a: SlidingWindow, b: SlidingWindow): boolean {
  const da = parseGoDuration(a.duration);
  return a.enabled === b.enabled && a.rate === b.rate && da !== null && da === parseGoDuration(b.duration);
}

/**
 * Whether Listmonk holds settings it has saved but not applied (GET /api/config `needs_restart`,
 * every version): a settings write while a campaign was running is applied at the next restart.
 */
export async function readRestartPending(core: ListmonkCore): Promise<boolean> {
  return (await serverConfig(core)).needsRestart;
}

/**
 * Sets the sliding window and nothing else. A no-op when Listmonk already has these values.
 * Refused (SafetyGateError, nothing written) where writing the document back could lose or swap a
 * secret (settings-safety.ts: a version whose handler was not reviewed, or entries sharing a uuid).
 * After the write, waits for the re-exec (Listmonk restarts 0.5–3.5 s after answering) and for the
 * server to answer again, then reads the window back: Listmonk must hold what was asked.
 */
export async function writeSlidingWindow(core: ListmonkCore, want: SlidingWindow, opts: { restartWaitMs?: number } = {}): Promise<SlidingWindowWrite> {
  const seconds = parseGoDuration(want.duration);
  if (seconds === null || seconds <= 1) throw new InputError(`sliding window duration "${want.duration}" must be a Go duration above 1 s (e.g. 1h).`);
  if (!Number.isInteger(want.rate) || want.rate < 1) throw new InputError(`sliding window rate ${want.rate} must be a positive whole number.`);
  const doc = await readSettingsDocument(core);
  const before = slidingWindowOf(doc);
  if (sameWindow(before, want)) return { changed: false, needsRestart: false, before, after: before };
  const risks = settingsWriteRisks(doc, await core.version());
  if (risks.length)
    throw new SafetyGateError('listmonk-settings', `Listmonk's settings were not written (a whole-document write would damage them):\n  ${risks.join('\n  ')}`);
  const body = blankMaskedSecrets({
    ...doc,
    'app.message_sliding_window': want.enabled,
    'app.message_sliding_window_duration': want.duration,
    'app.message_sliding_window_rate': want.rate,
  });
  // Not retried: a lost answer is resolved by reading the settings again below.
  let answer: unknown;
  try {
    answer = await core.http.request<unknown>('PUT', '/api/settings', { json: body, retry: false });
  } catch (e) {
    if (!(e instanceof ListmonkUnavailableError)) throw e;
  }
  const needsRestart = Boolean(answer && typeof answer === 'object' && (answer as { needs_restart?: boolean }).needs_restart);
  if (!needsRestart) await waitForRestart(core, opts.restartWaitMs ?? 30_000);
  const after = slidingWindowOf(await readSettingsDocument(core));
  if (!sameWindow(after, want))
    throw new ExternalServiceError(
      'listmonk',
      `Listmonk's sliding window reads ${describeWindow(after)} after writing ${describeWindow(want)} (was ${describeWindow(before)}): the write was lost or refused. Check Settings → Performance in Listmonk, then run this again.`,
      { retryable: true },
    );
  return { changed: true, needsRestart, before, after };
}

export function describeWindow(w: SlidingWindow): string {
  return w.enabled ? `on, ${w.rate} per ${w.duration}` : `off (${w.rate} per ${w.duration || '?'} when on)`;
}

/**
 * Listmonk re-execs itself (same pid, same port) 0.5 s after answering, or at most 3 s later when
 * shutting down takes long. Polls /health until the outage is seen (or the restart window passed
 * without one: the new process came up between two polls), then until it answers again.
 */
async function waitForRestart(core: ListmonkCore, budgetMs: number): Promise<void> {
  const started = Date.now();
  const up = async () => (await core.http.send('GET', '/health', { retry: false }).then((r) => r.status === 200, () => false));
  while (Date.now() - started < 4_000 && (await up())) await core.sleep(50);
  while (!(await up())) {
    if (Date.now() - started > budgetMs)
      throw new ListmonkUnavailableError({ method: 'GET', path: '/health', attempts: 0, reason: `Listmonk did not come back within ${Math.round(budgetMs / 1000)} s of the settings write` });
    await core.sleep(100);
  }
}
