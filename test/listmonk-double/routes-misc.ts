/** Server info, health, settings (research/listmonk.md §2, §3.9, §4) and the public unsubscribe page. */
import { randomUUID } from 'node:crypto';
import { Unwrapped, type Route } from './context.ts';
import { badRequest, HttpError } from './http-util.ts';

export interface SettingsLog {
  puts: number;
}

export interface MiscHooks {
  settingsLog: SettingsLog;
  /** The re-exec Listmonk does after a settings write: the server is gone for a moment, in-memory state is lost. */
  scheduleRestart(): void;
}

type Secrets = { uuid?: string; password?: string }[];
const SECRET_LISTS = ['smtp', 'messengers', 'bounce.mailboxes'];
const mask = (v: unknown) => (typeof v === 'string' ? '\u2022'.repeat(v.length) : v);

/** GET /api/settings: every password comes back as as many `•` as it has characters. */
function masked(settings: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(settings);
  for (const k of SECRET_LISTS) if (Array.isArray(out[k])) out[k] = (out[k] as Secrets).map((e) => ({ ...e, password: mask(e.password) as string }));
  return out;
}

/**
 * PUT /api/settings: a password sent empty keeps the stored one of the entry with the same uuid (as
 * sent), and an entry without a uuid gets one (a fresh install's entries have none).
 */
function keepSecrets(incoming: Record<string, unknown>, stored: Record<string, unknown>): Record<string, unknown> {
  for (const k of SECRET_LISTS) {
    if (!Array.isArray(incoming[k])) continue;
    const old = ((stored[k] as Secrets | undefined) ?? []).filter((e) => typeof e.password === 'string');
    incoming[k] = (incoming[k] as Secrets).map((e) => {
      const kept = e.password === '' ? old.filter((o) => o.uuid === e.uuid).pop()?.password : undefined;
      return { ...e, uuid: e.uuid || randomUUID(), ...(kept !== undefined ? { password: kept } : {}) };
    });
  }
  return incoming;
}

export function miscRoutes({ settingsLog, scheduleRestart }: MiscHooks): Route[] {
  return [
    // Public, outside /api.
    { method: 'GET', pattern: '/health', auth: false, handler: () => true },
    { method: 'GET', pattern: '/api/health', handler: () => true },
    // Authenticated on every version, no pm(); `version` is what clients detect.
    {
      method: 'GET',
      pattern: '/api/config',
      handler: (_req, env) => ({ root_url: env.model.settings['app.root_url'], from_email: env.model.settings['app.from_email'], lang: 'en', needs_restart: false, has_legacy_user: false, version: env.version.raw }),
    },
    // The one endpoint answering without the {"data": …} envelope.
    { method: 'GET', pattern: '/api/about', handler: (_req, env) => new Unwrapped({ version: env.version.raw, build: `${env.version.raw} (#double)`, go_version: 'go1.24', database: {}, system: {}, host: {} }) },
    {
      method: 'GET',
      pattern: '/api/settings',
      perms: ['settings:get'],
      handler: (_req, env) => masked(env.model.settings),
    },
    {
      // Full replacement, then (in the real server) a re-exec. Recorded so tests can assert we never call it.
      method: 'PUT',
      pattern: '/api/settings',
      perms: ['settings:manage'],
      handler(req, env) {
        const b = req.json();
        const smtp = Array.isArray(b.smtp) ? (b.smtp as { enabled?: boolean }[]) : [];
        if (!smtp.some((s) => s.enabled)) throw badRequest('At least one SMTP server should be enabled.');
        settingsLog.puts++;
        env.model.settings = keepSecrets(b, env.model.settings);
        scheduleRestart();
        return true;
      },
    },
    {
      // A recipient's click on a campaign's unsubscribe link (no `manage`): unsubscribes the
      // campaign's lists, or blocklists when asked and privacy.allow_blocklist is on. An HTML page.
      method: 'POST',
      pattern: '/subscription/:campUUID/:subUUID',
      auth: false,
      handler(req, env) {
        const camp = [...env.model.campaigns.values()].find((c) => c.uuid === req.params.campUUID);
        const sub = [...env.model.subscribers.values()].find((s) => s.uuid === req.params.subUUID);
        if (!camp || !sub) throw new HttpError(404, 'Subscription not found');
        const form = new URLSearchParams(req.raw.toString('utf8'));
        if (form.get('blocklist') === 'true' && env.model.settings['privacy.allow_blocklist'] === true) env.model.blocklist(sub.id);
        else for (const l of camp.lists) if (env.model.subscriptions.get(sub.id)?.has(l.id)) env.model.subscribe(sub.id, l.id, 'unsubscribed');
        return new Unwrapped('<!doctype html><h2>Unsubscribed</h2>');
      },
    },
  ];
}
