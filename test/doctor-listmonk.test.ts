/**
 * doctor's Listmonk checks against the double, on every version the client supports: reachable
 * with the version and credentials, the API user's permissions for what `build` needs, the
 * campaign template and from address, and the sliding window against today's hourly cap. Faults:
 * a wrong token, missing permissions, the legacy config.toml admin, an old version, nothing
 * listening, a server that never answers.
 */
import net from 'node:net';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { deepMerge, loadConfig, type ConfigOverrides } from '../src/config.ts';
import type { CheckEntry } from '../src/doctor/check.ts';
import type { DoctorContext } from '../src/doctor/context.ts';
import { campaignCheck, fromProblem, listmonkCheck, permissionsCheck } from '../src/doctor/listmonk-checks.ts';
import { runChecks, type CheckSpec } from '../src/doctor/run-checks.ts';
import { warmupCheck } from '../src/doctor/warmup-check.ts';
import { windowCheck } from '../src/doctor/window-check.ts';
import { DEFAULT_USER, ListmonkDouble, PIPELINE_PERMS, type DoubleUser } from './listmonk-double/index.ts';

/** 06:00 in Chicago: warmup started 2026-11-20, so today is warmup day 8 (300/h on the default ramp). */
const NOW = new Date('2026-11-28T12:00:00Z');
const VERSIONS = ['v2.1.0', 'v3.0.0', 'v4.1.0', 'v5.1.0', 'v6.0.0', 'v6.1.0', 'v6.2.0'];
const ADMIN = { username: 'admin', password: 'admin-password' };

let d: ListmonkDouble;
afterEach(async () => d?.stop());

function context(over: ConfigOverrides = {}, timeoutMs = 3000): DoctorContext {
  const config = loadConfig({
    env: {},
    cwd: os.tmpdir(),
    overrides: deepMerge<ConfigOverrides>(
      {
        timezone: 'America/Chicago',
        warmup: { start: '2026-11-20' },
        maillog: { ownDomains: ['firm-logistics.example'] },
        listmonk: { url: d.url, apiUser: DEFAULT_USER.username, apiToken: DEFAULT_USER.token, fromEmail: 'Firm Compliance <compliance@firm-logistics.example>', templateId: 1 },
        doctor: { timeoutMs },
      },
      over,
    ),
  });
  return { config, now: NOW, today: '2026-11-28', timeoutMs };
}

/** The Listmonk checks with what they need, run as doctor runs them. */
async function listmonkEntries(ctx: DoctorContext): Promise<Record<string, CheckEntry>> {
  const specs: CheckSpec[] = [warmupCheck(ctx), listmonkCheck(ctx), permissionsCheck(ctx), campaignCheck(ctx), windowCheck(ctx)];
  const { entries } = await runChecks(specs, { timeoutMs: ctx.timeoutMs });
  return Object.fromEntries(entries.map((e) => [e.name, e]));
}

const legacy = (v: string) => v < 'v4';
const credentials = (v: string): ConfigOverrides => (legacy(v) ? { listmonk: { apiUser: ADMIN.username, apiToken: ADMIN.password } } : {});
const windowAt = (rate: number, enabled = true, duration = '1h') => {
  d.model.settings['app.message_sliding_window'] = enabled;
  d.model.settings['app.message_sliding_window_rate'] = rate;
  d.model.settings['app.message_sliding_window_duration'] = duration;
};

/** The pipeline's role as that version has it: v4 knows campaigns:get and campaigns:manage only (permissions.json). */
function pipelinePerms(version: string): string[] {
  if (version >= 'v5') return [...PIPELINE_PERMS];
  return [...PIPELINE_PERMS.filter((p) => !p.startsWith('campaigns:')), 'campaigns:get', 'campaigns:manage'];
}

describe.each(VERSIONS)('doctor against Listmonk %s', (version) => {
  it('passes with the pipeline user: version, permissions, template, from address and a window at the hourly cap', async () => {
    d = await ListmonkDouble.start({ version, now: () => NOW, users: [{ ...DEFAULT_USER, perms: [...pipelinePerms(version), 'templates:get', 'subscribers:sql_query'] }] });
    windowAt(300);
    const e = await listmonkEntries(context(credentials(version)));
    expect(e.listmonk).toMatchObject({ ok: true, data: { version, hasLegacyUser: false } });
    // Before v4 the admin may do everything, which is worth upgrading from; from v4 on an API user.
    expect(e.listmonk!.status).toBe(legacy(version) ? 'warn' : 'pass');
    expect(e['listmonk-permissions']).toMatchObject({ ok: true, status: 'pass' });
    expect(e['listmonk-campaign']).toMatchObject({ ok: true, status: 'pass', data: { templates: [{ id: 1, type: 'campaign' }], fromAddresses: ['Firm Compliance <compliance@firm-logistics.example>'] } });
    expect(e['sliding-window']).toMatchObject({ ok: true, status: 'pass', data: { enabled: true, perHour: 300, hourlyCap: 300, warmupDay: 8 } });
    // What doctor asked: the version, the server's config, the profile (v4+), the template, the settings; and it wrote nothing.
    const routes = new Set(d.requests.map((r) => r.route));
    expect(routes.has('GET /api/profile')).toBe(!legacy(version));
    expect([...routes].filter((r) => !r.startsWith('GET '))).toEqual([]);
  });

  it('a wrong token fails `listmonk` with the credentials fix, and the checks that need it are not run', async () => {
    d = await ListmonkDouble.start({ version, now: () => NOW });
    const e = await listmonkEntries(context({ listmonk: { apiUser: legacy(version) ? 'admin' : DEFAULT_USER.username, apiToken: 'wrong-token' } }));
    expect(e.listmonk).toMatchObject({ ok: false, status: 'fail', detail: expect.stringMatching(legacy(version) ? /answered 401/ : /answered 403: invalid API credentials/) });
    expect(e.listmonk!.fix).toMatch(/LISTMONK_API_USER and LISTMONK_API_TOKEN/);
    for (const name of ['listmonk-permissions', 'listmonk-campaign', 'sliding-window'])
      expect(e[name]).toMatchObject({ ok: false, status: 'skip', fix: expect.stringContaining('fix `listmonk` first') });
  });
});

describe('doctor: the API user lacks what build needs', () => {
  const without = (...drop: string[]): DoubleUser => ({ ...DEFAULT_USER, perms: PIPELINE_PERMS.filter((p) => !drop.includes(p)) });

  it('names each missing permission and what build does with it, per version', async () => {
    d = await ListmonkDouble.start({ version: 'v6.2.0', now: () => NOW, users: [without('lists:manage_all', 'campaigns:send', 'subscribers:import')] });
    windowAt(300);
    const e = await listmonkEntries(context());
    expect(e['listmonk-permissions']).toMatchObject({ ok: false, status: 'fail', data: { missing: ['lists:manage_all', 'subscribers:import', 'campaigns:send'] } });
    expect(e['listmonk-permissions']!.detail).toMatch(/lists:manage_all \(create the day's lists and add to them\); subscribers:import \(bulk-import large pushes\); campaigns:send \(schedule campaigns\)/);
    expect(e['listmonk-permissions']!.fix).toMatch(/^grant lists:manage_all, subscribers:import, campaigns:send to the role audience role \(Listmonk: Admin → Users → User roles\)/);
    // Not a gate for the others: Listmonk answers, the window is readable.
    expect(e.listmonk!.ok).toBe(true);
    expect(e['sliding-window']!.ok).toBe(true);
  });

  it('before v6.1 campaigns:send does not exist; v5 accepts campaigns:get/manage in place of the _all ones; v4 has no _all ones', async () => {
    d = await ListmonkDouble.start({ version: 'v6.0.0', now: () => NOW, users: [{ ...without('campaigns:send', 'campaigns:get_all', 'campaigns:manage_all'), perms: [...without('campaigns:send', 'campaigns:get_all', 'campaigns:manage_all').perms!, 'campaigns:get', 'campaigns:manage'] }] });
    expect((await listmonkEntries(context()))['listmonk-permissions']).toMatchObject({ ok: true });
    await d.stop();
    d = await ListmonkDouble.start({ version: 'v4.1.0', now: () => NOW, users: [without('campaigns:get_all', 'campaigns:manage_all', 'campaigns:send')] });
    const e = await listmonkEntries(context());
    expect(e['listmonk-permissions']).toMatchObject({ ok: false, data: { missing: ['campaigns:get', 'campaigns:manage'] } });
  });

  it('without settings:get the sliding window cannot be read: both checks say to grant it', async () => {
    d = await ListmonkDouble.start({ version: 'v6.2.0', now: () => NOW, users: [without('settings:get')] });
    const e = await listmonkEntries(context());
    expect(e['listmonk-permissions']).toMatchObject({ ok: false, data: { missing: ['settings:get'] } });
    expect(e['sliding-window']).toMatchObject({ ok: false, status: 'fail', fix: expect.stringMatching(/grant settings:get/) });
  });

  it("config.toml's legacy admin passes every guard but holds no permission: lists would be dropped silently", async () => {
    d = await ListmonkDouble.start({ version: 'v4.1.0', now: () => NOW, users: [{ username: 'admin', token: 'toml-password', legacy: true }] });
    windowAt(300);
    const e = await listmonkEntries(context({ listmonk: { apiUser: 'admin', apiToken: 'toml-password' } }));
    expect(e.listmonk).toMatchObject({ ok: true, status: 'warn', data: { hasLegacyUser: true }, fix: expect.stringMatching(/remove admin_username and admin_password from config\.toml/) });
    expect(e['listmonk-permissions']).toMatchObject({ ok: false, data: { superAdmin: true, missing: ['lists:get_all', 'lists:manage_all'] } });
    expect(e['listmonk-permissions']!.detail).toMatch(/legacy admin.*silently drops every list/);
    expect(e['listmonk-permissions']!.fix).toMatch(/create an API user .* lists:get_all, lists:manage_all/);
    // The guard lets it read settings: the window check still runs.
    expect(e['sliding-window']!.ok).toBe(true);
  });

  it('a real Super Admin has every permission: only its optional ones are judged by the list', async () => {
    d = await ListmonkDouble.start({ version: 'v6.2.0', now: () => NOW, users: [{ username: 'root-api', token: 't0k3n', superAdmin: true }] });
    const e = await listmonkEntries(context({ listmonk: { apiUser: 'root-api', apiToken: 't0k3n' } }));
    expect(e['listmonk-permissions']).toMatchObject({ ok: true, status: 'pass', data: { superAdmin: true, missing: [] }, detail: expect.stringMatching(/Super Admin/) });
  });
});

describe('doctor: versions and reachability', () => {
  it('an old Listmonk (before v2) fails with the upgrade to make', async () => {
    d = await ListmonkDouble.start({ version: 'v1.1.0', now: () => NOW, admin: ADMIN });
    const e = await listmonkEntries(context(credentials('v1.1.0')));
    expect(e.listmonk).toMatchObject({ ok: false, data: { version: 'v1.1.0' }, detail: expect.stringMatching(/older than v2\.0\.0/), fix: expect.stringMatching(/upgrade Listmonk/) });
    expect(e['listmonk-permissions']!.status).toBe('skip');
  });

  it('a version newer than the latest tested passes with advice', async () => {
    d = await ListmonkDouble.start({ version: 'v7.0.0', now: () => NOW });
    const e = await listmonkEntries(context());
    expect(e.listmonk).toMatchObject({ ok: true, status: 'warn', detail: expect.stringMatching(/newer than v6\.2\.0/) });
  });

  it('nothing listening: fails at once saying to start Listmonk or correct LISTMONK_URL', async () => {
    d = await ListmonkDouble.start({ now: () => NOW });
    const port = await freePort();
    const t0 = performance.now();
    const e = await listmonkEntries(context({ listmonk: { url: `http://127.0.0.1:${port}` } }));
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(e.listmonk).toMatchObject({ ok: false, detail: expect.stringMatching(/ECONNREFUSED/), fix: expect.stringMatching(/start Listmonk or correct LISTMONK_URL/) });
  });

  it('a Listmonk that never answers costs one time box, not a hang', async () => {
    d = await ListmonkDouble.start({ now: () => NOW });
    d.faults.hangNext(100);
    const t0 = performance.now();
    const e = await listmonkEntries(context({}, 400));
    // Bounded by the box (400 ms) and a loaded machine's scheduling; a client with its defaults
    // would wait 15 s per attempt, five times.
    const took = performance.now() - t0;
    expect(took).toBeLessThan(4000);
    expect(e.listmonk).toMatchObject({ ok: false, status: 'fail', detail: expect.stringMatching(/timed out after 320 ms/) });
    expect(e['sliding-window']!.status).toBe('skip');
  });

  it('not configured: says which variables to set', async () => {
    d = await ListmonkDouble.start({ now: () => NOW });
    const ctx = context();
    const bare = { ...ctx, config: { ...ctx.config, listmonk: { ...ctx.config.listmonk, url: undefined, apiToken: undefined } } };
    const e = await listmonkEntries(bare);
    expect(e.listmonk).toMatchObject({ ok: false, detail: expect.stringMatching(/LISTMONK_URL, LISTMONK_API_TOKEN are not set/), fix: expect.stringMatching(/deploy\/audience\.env\.example/) });
  });
});

describe('doctor: campaign template and from address', () => {
  it('a transactional template, a missing one and an unusable from address fail; a foreign from domain is advice', async () => {
    d = await ListmonkDouble.start({ now: () => NOW, users: [{ ...DEFAULT_USER, perms: [...PIPELINE_PERMS, 'templates:get'] }] });
    const e = await listmonkEntries(
      context({
        listmonk: { templateId: 3, fromEmail: 'Compliance <compliance firm-logistics.example>' },
        build: { campaigns: { mcs150: { subject: 'S', htmlFile: 'no-such-dir/mcs150.html', templateId: 99 } } },
      }),
    );
    const c = e['listmonk-campaign']!;
    expect(c).toMatchObject({ ok: false, status: 'fail' });
    expect(c.detail).toMatch(/template 3 "Sample transactional template" \(listmonk\.templateId\) is a tx template/);
    expect(c.detail).toMatch(/template 99 \(build\.campaigns\.mcs150\.templateId\) does not exist/);
    expect(c.detail).toMatch(/from address "Compliance <compliance firm-logistics\.example>" \(listmonk\.fromEmail\) is not an address/);
    expect(c.detail).toMatch(/htmlFile .*mcs150\.html cannot be read/);

    const ok = await listmonkEntries(context({ listmonk: { templateId: 4, fromEmail: 'news@elsewhere.example' } }));
    expect(ok['listmonk-campaign']).toMatchObject({ ok: true, status: 'warn', fix: expect.stringMatching(/news@elsewhere\.example .*not in maillog\.ownDomains.*DMARC/) });
  });

  it("without templates:get the template is not verified (advice); with no from address configured, Listmonk's own is checked", async () => {
    d = await ListmonkDouble.start({ now: () => NOW });
    d.model.settings['app.from_email'] = 'listmonk <noreply@firm-logistics.example>';
    const ctx = context();
    const e = await listmonkEntries({ ...ctx, config: { ...ctx.config, listmonk: { ...ctx.config.listmonk, fromEmail: undefined } } });
    expect(e['listmonk-campaign']).toMatchObject({
      ok: true,
      status: 'warn',
      detail: expect.stringContaining('from listmonk <noreply@firm-logistics.example>'),
      fix: expect.stringMatching(/template 1 \(listmonk\.templateId\) not verified: the API user lacks templates:get/),
    });
  });

  it('judges from addresses as Listmonk does: "Name <a@b>" or a bare address', () => {
    expect(fromProblem('Firm <compliance@firm.example>')).toBeNull();
    expect(fromProblem('compliance@firm.example')).toBeNull();
    expect(fromProblem('"Firm, Inc." <a.b@mail.firm.example>')).toBeNull();
    expect(fromProblem('Firm <compliance@>')).toMatch(/not an address/);
    expect(fromProblem('compliance')).toMatch(/not an address/);
    expect(fromProblem('a..b@firm.example')).toMatch(/invalid local part/);
    expect(fromProblem('a@firm_example')).toMatch(/invalid domain/);
  });
});

describe("doctor: Listmonk's sliding window against today's hourly cap", () => {
  it('off or above the cap fails, below is advice, unreadable fails; every fix names rampcap --apply', async () => {
    d = await ListmonkDouble.start({ now: () => NOW });
    const cases: [rate: number, enabled: boolean, duration: string, status: string, detail: RegExp][] = [
      [300, false, '1h', 'fail', /sliding window is off/],
      [10_000, true, '1h', 'fail', /allows 10000 per 1h \(10000\/h\), above today's cap of 300\/h \(warmup day 8\)/],
      [10, true, '1m', 'fail', /\(600\/h\), above/],
      [150, true, '1h', 'warn', /150\/h, below today's cap/],
      [300, true, '1h', 'pass', /equal to today's cap/],
      [300, true, 'soon', 'fail', /cannot be read as a rate/],
    ];
    for (const [rate, enabled, duration, status, detail] of cases) {
      windowAt(rate, enabled, duration);
      const w = (await listmonkEntries(context()))['sliding-window']!;
      expect(w, `${rate} ${enabled} ${duration}`).toMatchObject({ status, detail: expect.stringMatching(detail) });
      if (status !== 'pass') expect(w.fix).toMatch(/audience rampcap --apply/);
    }
  });

  it('settings saved while a campaign ran and not yet applied: the window shown is not the one in force', async () => {
    d = await ListmonkDouble.start({ now: () => NOW });
    windowAt(300);
    d.model.needsRestart = true;
    const w = (await listmonkEntries(context()))['sliding-window']!;
    expect(w).toMatchObject({ ok: false, data: { restartPending: true }, detail: expect.stringMatching(/saved but has not applied/), fix: expect.stringMatching(/restart Listmonk once no campaign is running/) });
  });

  it('a missing warmup stamp fails `warmup` and leaves the window unjudged', async () => {
    d = await ListmonkDouble.start({ now: () => NOW });
    const ctx = context();
    const e = await listmonkEntries({ ...ctx, config: { ...ctx.config, warmup: { ...ctx.config.warmup, start: undefined } } });
    expect(e.warmup).toMatchObject({ ok: false, fix: expect.stringMatching(/set AUDIENCE_WARMUP_START/) });
    expect(e['sliding-window']).toMatchObject({ status: 'skip', detail: 'not checked: it needs `warmup`, which did not pass.' });
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
