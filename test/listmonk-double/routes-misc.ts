/** Server info, health, settings and the public unsubscribe page. */
import { Unwrapped, type Route } from './context.ts';
import { badRequest, HttpError } from './http-util.ts';
import { keepSecrets, maskedSettings } from './settings.ts';

export interface SettingsLog {
  puts: number;
}

export interface MiscHooks {
  settingsLog: SettingsLog;
  /** The re-exec Listmonk does after a settings write: the server is gone for a moment, in-memory state is lost. */
  scheduleRestart(): void;
  /** v4+: config.toml still holds admin credentials (an API user marked `legacy`). */
  hasLegacyUser(): boolean;
}

export function miscRoutes({ settingsLog, scheduleRestart, hasLegacyUser }: MiscHooks): Route[] {
  return [
    // Public, outside /api.
    { method: 'GET', pattern: '/health', auth: false, handler: () => true },
    { method: 'GET', pattern: '/api/health', handler: () => true },
    // Authenticated on every version, no pm(); `version` is what clients detect.
    {
      method: 'GET',
      pattern: '/api/config',
      handler: (_req, env) => ({
        root_url: env.model.settings['app.root_url'],
        from_email: env.model.settings['app.from_email'],
        lang: 'en',
        needs_restart: env.model.needsRestart,
        has_legacy_user: env.version.major >= 4 && hasLegacyUser(),
        version: env.version.raw,
      }),
    },
    // The one endpoint answering without the {"data": …} envelope.
    { method: 'GET', pattern: '/api/about', handler: (_req, env) => new Unwrapped({ version: env.version.raw, build: `${env.version.raw} (#double)`, go_version: 'go1.24', database: {}, system: {}, host: {} }) },
    {
      method: 'GET',
      pattern: '/api/settings',
      perms: ['settings:get'],
      handler: (_req, env) => maskedSettings(env.model.settings, env.version),
    },
    {
      // Full replacement, then a re-exec; with a campaign running, no re-exec: `needs_restart`
      // (every version). Recorded so tests can assert the build never calls it.
      method: 'PUT',
      pattern: '/api/settings',
      perms: ['settings:manage'],
      handler(req, env) {
        const b = req.json();
        const smtp = Array.isArray(b.smtp) ? (b.smtp as { enabled?: boolean }[]) : [];
        if (!smtp.some((s) => s.enabled)) throw badRequest('At least one SMTP server should be enabled.');
        settingsLog.puts++;
        env.model.settings = keepSecrets(b, env.model.settings, env.version);
        if ([...env.model.campaigns.values()].some((c) => c.status === 'running')) {
          env.model.needsRestart = true;
          return { needs_restart: true };
        }
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
