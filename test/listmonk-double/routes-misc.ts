/** Server info, health and settings (research/listmonk.md §2, §3.9, §4). */
import { Unwrapped, type Route } from './context.ts';
import { badRequest } from './http-util.ts';

export interface SettingsLog {
  puts: number;
}

export function miscRoutes(settingsLog: SettingsLog): Route[] {
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
      handler(_req, env) {
        // Secrets come back masked.
        return structuredClone(env.model.settings);
      },
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
        env.model.settings = b;
        env.importer.reset(); // the re-exec loses in-memory state
        return true;
      },
    },
  ];
}
