/**
 * `audience doctor` as a whole, on both backends: a healthy site passes every check; a missing
 * warmup stamp, a stale mail.log and a silent name server fail their own checks (and only the
 * checks that need them are skipped); an unmigrated database lists its pending migrations;
 * unsigned mail of one stream and a global hold fail `dkim` and `holds`.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_NAMES, doctor, renderDoctor, type DoctorSummary } from '../src/doctor/doctor.ts';
import { deepMerge, type ConfigOverrides } from '../src/config.ts';
import { listMigrations } from '../src/db/migrate.ts';
import type { Store } from '../src/db/store.ts';
import { addHold } from './build-fixture.ts';
import { startDnsServer, type TestDnsServer } from './helpers/dns-server.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { MX_ZONES } from './fixtures/mx/zones.ts';
import { DEFAULT_USER, ListmonkDouble } from './listmonk-double/index.ts';

/** Warmup started 2026-11-20: NOW is warmup day 8 in Chicago, 300/h on the default ramp. */
const NOW = new Date('2026-11-28T12:00:00Z');
const HOUR = 3_600_000;

describe('audience doctor', () => {
  let store: TestStore;
  let lm: ListmonkDouble;
  let good: TestDnsServer;
  let silent: TestDnsServer;
  let dir: string;
  let maillog: string;

  beforeAll(async () => {
    store = await createTestStore();
    lm = await ListmonkDouble.start({ now: () => NOW });
    lm.model.settings['app.message_sliding_window'] = true;
    lm.model.settings['app.message_sliding_window_rate'] = 300;
    good = await startDnsServer(MX_ZONES);
    silent = await startDnsServer({}, { silent: true });
    dir = mkdtempSync(path.join(os.tmpdir(), 'doctor-'));
    maillog = path.join(dir, 'mail.log');
    writeFileSync(maillog, '2026-11-28T05:00:00.000000-06:00 app1 postfix/qmgr[1]: 3A1F0C2B10: removed\n');
    age(maillog, HOUR);
    // What a nightly scrub leaves: two streams fully signed, a run two hours ago.
    await sql`insert into maillog_daily_health (day, sent, campaign_messages, dkim_signed, stale) values ('2026-11-27', 450, 452, 452, false)`.execute(store.db);
    await sql`insert into maillog_sent_counts (day, transport, stream, own_domain, sent) values ('2026-11-27', 'postfix/out05/smtp', 'trucking', false, 400), ('2026-11-27', 'postfix/out05/smtp', 'healthcare', false, 50)`.execute(store.db);
    await sql`insert into maillog_stream_daily (day, stream, campaign_messages, dkim_signed) values ('2026-11-27', 'trucking', 400, 400), ('2026-11-27', 'healthcare', 52, 52)`.execute(store.db);
    await sql`insert into runs (stage, args, status, pid, host, started_at, finished_at, counts) values ('scrub-bounces', '{}', 'ok', 1, 'app1', ${new Date(NOW.getTime() - 2 * HOUR)}, ${new Date(NOW.getTime() - 2 * HOUR + 60_000)}, '{}')`.execute(store.db);
  });
  afterAll(async () => {
    await Promise.all([lm?.stop(), good?.close(), silent?.close()]);
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function age(file: string, ms: number): void {
    const t = new Date(NOW.getTime() - ms);
    utimesSync(file, t, t);
  }

  /** The test's store, kept open across runs (doctor closes what it opened). */
  const kept = (s: Store) => async () => ({ ...s, close: async () => {} });

  function run(over: ConfigOverrides = {}, opts: { openStore?: () => Promise<Store>; noWarmupStart?: boolean } = {}): Promise<DoctorSummary> {
    const overrides = deepMerge<ConfigOverrides>(
      {
        timezone: 'America/Chicago',
        warmup: opts.noWarmupStart ? {} : { start: '2026-11-20' },
        maillog: { path: maillog, ownDomains: ['firm-logistics.example'], campaignClients: { '172.18.0.5': 'trucking', '172.18.0.25': 'healthcare' } },
        mx: { dnsServers: [good.address] },
        listmonk: { url: lm.url, apiUser: DEFAULT_USER.username, apiToken: DEFAULT_USER.token, fromEmail: 'Firm <compliance@firm-logistics.example>' },
        doctor: { timeoutMs: 2000 },
      },
      over,
    );
    return doctor({ env: {}, cwd: dir, overrides, now: () => NOW, openStore: opts.openStore ?? kept(store) });
  }

  const byName = (s: DoctorSummary) => Object.fromEntries(s.checks.map((c) => [c.name, c]));

  it('a healthy site passes every check, in the documented order, each with its facts', async () => {
    const s = await run();
    expect(s.checks.map((c) => c.name)).toEqual([...CHECK_NAMES]);
    expect(s.failed, renderDoctor(s)).toEqual([]);
    expect(s).toMatchObject({ command: 'doctor', ok: true, now: NOW.toISOString(), date: '2026-11-28' });
    const c = byName(s);
    expect(c.database!.data).toMatchObject({ applied: listMigrations().length, pending: [] });
    expect(c.warmup).toMatchObject({ status: 'pass', data: { start: '2026-11-20', day: 8, dailyCap: 3000, hourlyCap: 300 } });
    expect(c.maillog).toMatchObject({ status: 'pass', data: { path: maillog, ageMinutes: 60 } });
    expect(c.dns).toMatchObject({ status: 'pass', data: { servers: [{ server: good.address, status: 'trusted', mx: 'gmail.com', got: 'NOERROR', ms: expect.any(Number) }] } });
    expect(c.dns!.detail).toMatch(new RegExp(`^${good.address} answers \\(MX gmail.com: NOERROR in \\d+ ms\\)\\.$`));
    expect(c['sliding-window']).toMatchObject({ status: 'pass', data: { perHour: 300, hourlyCap: 300 } });
    expect(c.dkim).toMatchObject({ status: 'pass', data: { ratio: 1, byStream: { trucking: { ratio: 1 }, healthcare: { ratio: 1 } } } });
    expect(c.holds).toMatchObject({ status: 'pass', detail: 'no hold in force.' });
    expect(c.streams!.detail).toMatch(/healthcare \(172\.18\.0\.25\): 50 sent.*trucking \(172\.18\.0\.5\): 400 sent/);
    // Every check reports how long it took.
    expect(s.checks.every((x) => Number.isInteger(x.ms) && x.ms >= 0)).toBe(true);
    expect(renderDoctor(s)).toMatch(/^12 checks: 12 passed/m);
  });

  it('a missing stamp, a stale mail.log and a silent name server fail their own checks; only the window, which needs the stamp, is not run', async () => {
    age(maillog, 3 * 24 * HOUR);
    try {
      const s = await run({ mx: { dnsServers: [good.address, silent.address] } }, { noWarmupStart: true });
      const c = byName(s);
      expect(s.ok).toBe(false);
      expect(s.failed).toEqual(['warmup', 'maillog', 'dns', 'sliding-window']);
      expect(c.warmup).toMatchObject({ status: 'fail', fix: expect.stringMatching(/AUDIENCE_WARMUP_START/) });
      expect(c.maillog).toMatchObject({ status: 'fail', detail: expect.stringMatching(/last written 3 days ago .* more than 24 h ago/), fix: expect.stringMatching(/postconf maillog_file/) });
      expect(c.dns!.detail).toContain(`${silent.address} does NOT answer (MX gmail.com: timeout in`);
      expect(c.dns!.data!.servers).toEqual([expect.objectContaining({ server: good.address, status: 'trusted' }), expect.objectContaining({ server: silent.address, status: 'no_answer' })]);
      expect(c.dns!.fix).toMatch(/AUDIENCE_DNS_SERVERS/);
      expect(c['sliding-window']).toMatchObject({ status: 'skip' });
      // The rest still ran, and passed.
      for (const name of ['database', 'listmonk', 'listmonk-permissions', 'dkim', 'holds']) expect(c[name]!.ok, name).toBe(true);
      // The silent server cost one bounded wait (1.6 s here), not the configured 2 s three times with backoff.
      expect(c.dns!.ms).toBeLessThan(4500);
    } finally {
      age(maillog, HOUR);
    }
  });

  it('--maillog-max-age (doctor.maillogMaxAgeHours) sets what stale means', async () => {
    age(maillog, 3 * HOUR);
    try {
      expect(byName(await run({ doctor: { maillogMaxAgeHours: 2 } })).maillog).toMatchObject({ ok: false, detail: expect.stringMatching(/3 h ago/) });
      expect(byName(await run({ doctor: { maillogMaxAgeHours: 4 } })).maillog!.ok).toBe(true);
    } finally {
      age(maillog, HOUR);
    }
  });

  it('an unmigrated database lists every pending migration and says to run `audience migrate`; what reads it is not run', async () => {
    const empty = await createTestStore({ migrated: false });
    try {
      const s = await run({}, { openStore: kept(empty) });
      const c = byName(s);
      expect(c.database).toMatchObject({ ok: false, status: 'fail', fix: expect.stringMatching(/^run `audience migrate`/), data: { applied: 0, pending: listMigrations().map((m) => m.file) } });
      expect(c.database!.detail).toMatch(/0 migration\(s\) applied, \d+ pending: 0001_runs\.sql, 0002_carriers\.sql/);
      for (const name of ['dkim', 'holds', 'streams']) expect(c[name]).toMatchObject({ status: 'skip', detail: 'not checked: it needs `database`, which did not pass.' });
      expect(s.failed).toEqual(['database', 'dkim', 'holds', 'streams']);
    } finally {
      await empty.close();
    }
  });

  it("one stream's unsigned mail fails `dkim` though the total passes; a global hold fails `holds`, a provider or domain hold is advice", async () => {
    await sql`insert into maillog_stream_daily (day, stream, campaign_messages, dkim_signed) values ('2026-11-26', 'healthcare', 30, 0)`.execute(store.db);
    await sql`update maillog_daily_health set campaign_messages = campaign_messages + 30 where day = '2026-11-27'`.execute(store.db);
    await addHold(store.db, 'provider', 'google', new Date(NOW.getTime() + 2 * 24 * HOUR));
    try {
      let c = byName(await run());
      // 452 of 482 overall is 93.8%: below 95% too, but the stream names the culprit.
      expect(c.dkim).toMatchObject({ ok: false, data: { byStream: { healthcare: { campaignMessages: 82, signed: 52, ok: false }, trucking: { ok: true } } } });
      expect(c.dkim!.detail).toMatch(/stream healthcare \(172\.18\.0\.25\)/);
      expect(c.dkim!.fix).toMatch(/opendkim.*InternalHosts/);
      expect(c.holds).toMatchObject({ ok: true, status: 'warn', detail: expect.stringMatching(/^hold\(s\) in force.*google \(reputation_block\)/), fix: expect.stringMatching(/audience unhold google/) });
      // A self-hosted receiver's hold names its domain and mail server, and unhold takes the domain.
      await sql`insert into holds (scope, provider, domain, mx_host, reason, detail, evidence, starts_at, until)
        values ('domain', null, 'dmnd.example', 'mx.dmnd.example', 'reputation_block', 'fixture hold', '{}'::jsonb, ${NOW}::timestamptz, ${new Date(NOW.getTime() + HOUR)}::timestamptz)`.execute(store.db);
      c = byName(await run());
      expect(c.holds!.detail).toMatch(/domain dmnd\.example \(mail host mx\.dmnd\.example\) \(reputation_block\)/);
      expect(c.holds!.fix).toMatch(/audience unhold dmnd\.example/);
      expect(c.holds!.data!.holds).toContainEqual(expect.objectContaining({ scope: 'domain', domain: 'dmnd.example', mxHost: 'mx.dmnd.example' }));

      await addHold(store.db, 'global', null, new Date(NOW.getTime() + 5 * 24 * HOUR));
      c = byName(await run());
      expect(c.holds).toMatchObject({ ok: false, detail: expect.stringMatching(/^global hold in force, build refuses to push: GLOBAL \(dkim_coverage\)/), fix: expect.stringMatching(/audience unhold global/) });
    } finally {
      await sql`delete from maillog_stream_daily where day = '2026-11-26'`.execute(store.db);
      await sql`update maillog_daily_health set campaign_messages = campaign_messages - 30 where day = '2026-11-27'`.execute(store.db);
      await sql`delete from holds`.execute(store.db);
    }
  });

  it('DKIM figures are only as fresh as the last scrub: a failed or an old one is advice saying what to run', async () => {
    const at = (h: number) => new Date(NOW.getTime() - h * HOUR);
    await sql`insert into runs (stage, args, status, pid, host, started_at, finished_at, counts, error)
      values ('scrub-bounces', '{}', 'failed', 1, 'app1', ${at(1)}, ${at(1)}, '{}', ${'/var/log/mail.log cannot be read (permission denied): run audience as a member of group adm'})`.execute(store.db);
    try {
      expect(byName(await run()).dkim).toMatchObject({ ok: true, status: 'warn', detail: expect.stringMatching(/The last scrub ended failed: \/var\/log\/mail\.log cannot be read/) });
      await sql`update runs set status = 'ok', error = null, started_at = ${at(50)}, finished_at = ${at(50)} where status = 'failed'`.execute(store.db);
      await sql`delete from runs where stage = 'scrub-bounces' and started_at > ${at(10)}`.execute(store.db);
      expect(byName(await run()).dkim).toMatchObject({ ok: true, status: 'warn', detail: expect.stringMatching(/ran 50 h ago/), fix: expect.stringMatching(/list-timers/) });
    } finally {
      await sql`delete from runs where stage = 'scrub-bounces'`.execute(store.db);
      await sql`insert into runs (stage, args, status, pid, host, started_at, finished_at, counts) values ('scrub-bounces', '{}', 'ok', 1, 'app1', ${at(2)}, ${at(2)}, '{}')`.execute(store.db);
    }
  });

  it('an invalid configuration fails `config` and runs nothing else', async () => {
    const s = await run({ timezone: 'Mars/Olympus_Mons' });
    expect(s.checks[0]).toMatchObject({ name: 'config', ok: false, detail: expect.stringMatching(/timezone: not an IANA time zone/) });
    expect(s.checks.slice(1).every((c) => c.status === 'skip')).toBe(true);
    expect(s.date).toBeNull();
  });
});
