/**
 * The Listmonk checks: `listmonk` (reachable with our credentials, its version, config.toml's
 * legacy admin), `listmonk-permissions` (what the API user's role grants against what `build`
 * needs on that version) and `listmonk-campaign` (the configured templates exist and are campaign
 * templates; the from addresses are addresses Listmonk accepts, in the firm's own domains).
 * The client doctor uses makes one attempt per request within the time box.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { ListmonkConfig } from '../listmonk/config.ts';
import { ListmonkApiError, ListmonkAuthError, ListmonkPermissionError, ListmonkUnavailableError, createListmonkClient, type ListmonkClient, type ServerConfig } from '../listmonk/index.ts';
import { describeNeed, judgePermissions } from '../listmonk/permissions.ts';
import { atLeast, LATEST, type ServerVersion } from '../listmonk/version.ts';
import { fail, pass, type CheckOutcome } from './check.ts';
import type { DoctorContext } from './context.ts';
import { need, type CheckSpec } from './run-checks.ts';

/** The oldest Listmonk whose API the client handles: v2 (the auth and wire differences start there). */
const OLDEST: ServerVersion = { major: 2, minor: 0, patch: 0, raw: 'v2.0.0' };

export interface ListmonkFacts {
  client: ListmonkClient;
  version: ServerVersion;
  server: ServerConfig;
}

const CREDENTIALS_FIX =
  'set LISTMONK_API_USER and LISTMONK_API_TOKEN to an API user and its token (Listmonk v4+: Admin → Users → New, type API; the token is shown once), or on v2/v3 to the admin user and password of config.toml.';

export function listmonkCheck(ctx: DoctorContext): CheckSpec {
  const c = ctx.config.listmonk;
  return {
    name: 'listmonk',
    timeoutFix: `Listmonk at ${c.url ?? 'LISTMONK_URL'} did not answer in time: check that it runs (\`curl -s ${c.url ?? 'http://host:9000'}/health\`) and that nothing between us drops the connection.`,
    async run(): Promise<CheckOutcome> {
      const missing = [!c.url && 'LISTMONK_URL', !c.apiUser && 'LISTMONK_API_USER', !c.apiToken && 'LISTMONK_API_TOKEN'].filter(Boolean);
      if (!ctx.listmonk && missing.length)
        return fail(`Listmonk is not configured: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set, so build can only run with --dry-run.`, `set ${missing.join(', ')} in the environment file (deploy/audience.env.example).`);
      const client = ctx.listmonk ? ctx.listmonk() : createListmonkClient(doctorClientConfig(c, ctx.timeoutMs));
      let version: ServerVersion;
      let server: ServerConfig;
      try {
        version = await client.version();
        server = await client.serverConfig();
      } catch (e) {
        return failure(e, c.url);
      }
      const data = { url: c.url ?? null, version: version.raw, hasLegacyUser: server.hasLegacyUser };
      const at = `Listmonk ${version.raw} at ${c.url ?? '(injected)'}`;
      const value: ListmonkFacts = { client, version, server };
      if (!atLeast(version, OLDEST.major, OLDEST.minor))
        return fail(`${at} is older than ${OLDEST.raw}, the oldest version audience can talk to.`, `upgrade Listmonk (audience is tested against v2.1 to ${LATEST.raw}; v4 or later gives the API user its own permissions).`, data);
      if (!/^v?\d+\.\d+\.\d+/.test(version.raw))
        return pass(`${at}: a version audience cannot read, taken as ${LATEST.raw}.`, { data, value, fix: `set listmonk.version to the major version it behaves as (e.g. "v6") if it is not ${LATEST.raw}-compatible.` });
      if (!atLeast(version, 4))
        return pass(`${at}, reachable with the config.toml admin (before v4 there are no API users: these credentials may do everything).`, {
          data,
          value,
          fix: 'upgrade Listmonk to v4 or later and give audience an API user with only the permissions build needs.',
        });
      if (version.major > LATEST.major || (version.major === LATEST.major && version.minor > LATEST.minor))
        return pass(`${at}, reachable: newer than ${LATEST.raw}, the latest version audience was tested against.`, {
          data,
          value,
          fix: "read Listmonk's release notes for API changes (auth, permissions, campaigns, settings) before relying on it; `audience doctor` checks the permissions below.",
        });
      if (server.hasLegacyUser)
        return pass(`${at}, reachable; its config.toml still holds admin_username/admin_password (a legacy API credential).`, {
          data,
          value,
          fix: 'remove admin_username and admin_password from config.toml (Listmonk shows a warning banner until then) and use API users only.',
        });
      return pass(`${at}, reachable with API user ${c.apiUser ?? '(injected)'}.`, { data, value });
    },
  };
}

/** One attempt per request, each ending inside doctor's time box. */
export function doctorClientConfig(c: ListmonkConfig, timeoutMs: number): ListmonkConfig {
  return { ...c, retries: 0, timeoutMs: Math.max(100, Math.floor(timeoutMs * 0.8)) };
}

function failure(e: unknown, url: string | undefined): CheckOutcome {
  if (e instanceof ListmonkAuthError) return fail(e.message, CREDENTIALS_FIX);
  if (e instanceof ListmonkUnavailableError)
    return fail(e.message, `start Listmonk or correct LISTMONK_URL (now ${url ?? 'unset'}): \`curl -s ${url ?? 'http://host:9000'}/health\` must answer {"data":true}.`);
  if (e instanceof ListmonkApiError)
    return fail(e.message, 'LISTMONK_URL must be the root of Listmonk (e.g. http://127.0.0.1:9000), not a page under it; a proxy in front must pass /api through.');
  throw e;
}

export function permissionsCheck(_ctx: DoctorContext): CheckSpec {
  return {
    name: 'listmonk-permissions',
    needs: ['listmonk'],
    timeoutFix: 'Listmonk did not answer GET /api/profile in time: check its load (it shares its database pool with sending), then run doctor again.',
    async run(deps): Promise<CheckOutcome> {
      const { client, version } = need<ListmonkFacts>(deps, 'listmonk');
      const profile = await client.profile();
      if (!profile) return pass(`Listmonk ${version.raw} has no permissions: the config.toml admin may do everything build needs.`, { data: { version: version.raw } });
      const v = judgePermissions(profile, version);
      const data = {
        user: profile.username,
        role: profile.role.name || null,
        superAdmin: v.superAdmin,
        permissions: profile.role.permissions,
        missing: v.missing.map((n) => n.anyOf.join('|')),
        missingOptional: v.missingOptional.map((n) => n.anyOf.join('|')),
      };
      const who = `API user ${profile.username}${profile.role.name ? ` (role ${profile.role.name})` : ''}`;
      if (v.legacy)
        return fail(
          `${who} is config.toml's legacy admin: it passes every permission check, but holds no permission, so Listmonk silently drops every list from its requests (lists, imports, campaigns).`,
          'create an API user (Admin → Users → New, type API) whose role grants ' + v.missing.map((n) => n.anyOf[0]).join(', ') + '; set LISTMONK_API_USER and LISTMONK_API_TOKEN to it, and remove admin_username/admin_password from config.toml.',
          data,
        );
      if (v.missing.length)
        return fail(
          `${who} lacks what build needs on ${version.raw}: ${v.missing.map(describeNeed).join('; ')}.`,
          `grant ${v.missing.map((n) => n.anyOf[0]).join(', ')} to ${profile.role.name ? `the role ${profile.role.name}` : "the API user's role"} (Listmonk: Admin → Users → User roles).`,
          data,
        );
      const held = v.superAdmin ? 'Super Admin' : `${profile.role.permissions.length} permission(s)`;
      if (v.missingOptional.length)
        return pass(`${who} has everything build needs (${held}).`, { data, fix: `optional: grant ${v.missingOptional.map(describeNeed).join('; ')}.` });
      return pass(`${who} has everything build needs (${held}).`, { data });
    },
  };
}

const CAMPAIGN_TEMPLATE_TYPES = new Set(['campaign', 'campaign_visual']);
/** Listmonk's own test of a from address with a name (cmd/campaigns.go reFromAddress); a bare address is checked as an e-mail. */
const FROM_WITH_NAME = /^(?:(.+?)\s)?<(.+?)@(.+?)>$/;

export function campaignCheck(ctx: DoctorContext): CheckSpec {
  return {
    name: 'listmonk-campaign',
    needs: ['listmonk'],
    timeoutFix: 'Listmonk did not answer the template reads in time: check its load, then run doctor again.',
    async run(deps): Promise<CheckOutcome> {
      const { client, server } = need<ListmonkFacts>(deps, 'listmonk');
      const { listmonk, build, maillog } = ctx.config;
      const problems: string[] = [];
      const advice: string[] = [];
      const facts: string[] = [];

      // Templates: each segment's, else listmonk.templateId, else Listmonk's default.
      const templates = new Map<number, string[]>();
      const useTemplate = (id: number | undefined, who: string) => id !== undefined && templates.set(id, [...(templates.get(id) ?? []), who]);
      useTemplate(listmonk.templateId, 'listmonk.templateId');
      for (const [seg, t] of Object.entries(build.campaigns)) useTemplate(t.templateId, `build.campaigns.${seg}.templateId`);
      const templateData: Record<string, unknown>[] = [];
      for (const [id, who] of templates) {
        try {
          const t = await client.getTemplate(id);
          templateData.push({ id, name: t.name, type: t.type, usedBy: who });
          if (CAMPAIGN_TEMPLATE_TYPES.has(t.type)) facts.push(`template ${id} "${t.name}" (${t.type})`);
          else problems.push(`template ${id} "${t.name}" (${who}) is a ${t.type} template, not a campaign template`);
        } catch (e) {
          if (e instanceof ListmonkPermissionError) {
            templateData.push({ id, usedBy: who, verified: false });
            advice.push(`template ${id} (${who}) not verified: the API user lacks templates:get, which only doctor uses — grant it to check, or check Campaigns → Templates by hand`);
          } else if (e instanceof ListmonkApiError && e.status === 400) {
            templateData.push({ id, usedBy: who, exists: false });
            problems.push(`template ${id} (${who}) does not exist in Listmonk`);
          } else throw e;
        }
      }
      if (!templates.size) facts.push("Listmonk's default campaign template");

      // From addresses: each segment's, else listmonk.fromEmail, else Listmonk's app.from_email.
      const froms = new Map<string, string[]>();
      const useFrom = (addr: string | undefined | null, who: string) => addr && froms.set(addr, [...(froms.get(addr) ?? []), who]);
      const segs = Object.entries(build.campaigns);
      if (!segs.length) useFrom(listmonk.fromEmail ?? server.fromEmail, listmonk.fromEmail ? 'listmonk.fromEmail' : "Listmonk's app.from_email");
      for (const [seg, t] of segs) {
        const who = t.fromEmail ? `build.campaigns.${seg}.fromEmail` : listmonk.fromEmail ? 'listmonk.fromEmail' : "Listmonk's app.from_email";
        useFrom(t.fromEmail ?? listmonk.fromEmail ?? server.fromEmail, who);
      }
      const own = maillog.ownDomains.map((d) => d.toLowerCase().replace(/\.+$/, ''));
      for (const [from, who] of froms) {
        const bad = fromProblem(from);
        if (bad) {
          problems.push(`from address ${JSON.stringify(from)} (${who.join(', ')}) ${bad}`);
          continue;
        }
        const domain = from.replace(/^.*@/, '').replace(/>\s*$/, '').toLowerCase();
        facts.push(`from ${from}`);
        if (own.length && !own.some((d) => domain === d || domain.endsWith(`.${d}`)))
          advice.push(`from address ${from} (${who.join(', ')}) is not in maillog.ownDomains (${own.join(', ')}): opendkim signs the firm's domains, so mail from another domain fails DMARC alignment`);
      }
      if (!froms.size) problems.push("no from address: neither listmonk.fromEmail nor Listmonk's app.from_email is set");

      // Campaign content files, read by `build --send-hour`.
      const files = await missingCampaignFiles(ctx);
      problems.push(...files);

      const data = { templates: templateData, fromAddresses: [...froms.keys()], campaigns: segs.map(([s]) => s) };
      const scope = segs.length ? `campaigns of ${segs.map(([s]) => s).join(', ')}` : 'no campaign configured (build.campaigns): build --send-hour schedules none';
      if (problems.length)
        return fail(`${scope}: ${problems.join('; ')}.`, 'correct listmonk.templateId / build.campaigns (a campaign template id from Campaigns → Templates; "Name <address@firm-domain>"; readable HTML and text files), then run doctor again.', data);
      return pass(`${scope}: ${facts.join(', ')}.`, { data, fix: advice.length ? advice.join('; ') + '.' : null });
    },
  };
}

/** Why Listmonk would refuse this from address (400 "invalid from address"), or null. */
export function fromProblem(from: string): string | null {
  const m = FROM_WITH_NAME.exec(from.trim());
  const addr = m ? `${m[2]}@${m[3]}` : from.trim();
  const at = addr.lastIndexOf('@');
  if (at <= 0 || at === addr.length - 1) return 'is not an address: write "Name <address@domain>" or a bare address';
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1).toLowerCase();
  if (/\s/.test(addr) || /[<>]/.test(addr)) return 'is not an address: write "Name <address@domain>" or a bare address';
  if (!/^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+$/i.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return `has an invalid local part "${local}"`;
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain)) return `has an invalid domain "${domain}"`;
  return null;
}

async function missingCampaignFiles(ctx: DoctorContext): Promise<string[]> {
  const out: string[] = [];
  for (const [seg, t] of Object.entries(ctx.config.build.campaigns)) {
    for (const [what, file] of [['htmlFile', t.htmlFile], ['textFile', t.textFile]] as const) {
      if (!file) continue;
      const p = path.resolve(file);
      try {
        await access(p, constants.R_OK);
      } catch {
        out.push(`build.campaigns.${seg}.${what} ${p} cannot be read (relative paths are read from the working directory, ${process.cwd()})`);
      }
    }
  }
  return out;
}
