/**
 * `audience rampcap [--apply]` against the Listmonk double on both backends: today's hourly cap from
 * the ramp and the stamp, Listmonk's window as read; --apply sets the window (on, 1h, the cap) and
 * nothing else, records it in the run ledger, writes nothing when it is already right, and is
 * refused (nothing written) where the write-back would damage the settings, while a build holds
 * its lock, or while Listmonk imports; saved-but-pending (a campaign running) exits 1.
 */
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rampcap } from '../src/rampcap/stage.ts';
import { ConfigError, FindingsError, SafetyGateError } from '../src/errors.ts';
import type { RampcapSummary } from '../src/rampcap/summary.ts';
import { loadConfig } from '../src/config.ts';
import { addDays, localDate } from '../src/warmup/calendar.ts';
import { doubleClient, fxContext, NOW, startDouble } from './build-fixture.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';
import { DEFAULT_USER, PIPELINE_PERMS, type ListmonkDouble } from './listmonk-double/index.ts';

const TODAY = localDate(NOW, 'America/Chicago');
const ADMIN = { ...DEFAULT_USER, perms: [...PIPELINE_PERMS, 'settings:manage'] };
/** Day 8 of the warmup today: the 7+ step, 300/h. */
const config = loadConfig({
  env: {},
  cwd: '/nonexistent',
  overrides: {
    timezone: 'America/Chicago',
    warmup: {
      start: addDays(TODAY, -8),
      ramp: [
        { fromDay: 0, hourly: 50, daily: 500 },
        { fromDay: 2, hourly: 150, daily: 1500 },
        { fromDay: 7, hourly: 300, daily: 3000 },
      ],
    },
  },
});

async function run(store: TestStore, lm: ListmonkDouble, apply: boolean): Promise<RampcapSummary> {
  return rampcap(fxContext(store, config), { apply, listmonk: doubleClient(lm, config) });
}

/** The operator's one save with every password typed: each entry gets its uuid. */
function savedOnce(lm: ListmonkDouble): void {
  (lm.model.settings.smtp as { uuid: string; password: string }[]).forEach((e, i) => Object.assign(e, { uuid: `smtp-${i}`, password: `pw-${i}-${'z'.repeat(i)}` }));
  (lm.model.settings['bounce.mailboxes'] as { uuid: string }[]).forEach((e, i) => (e.uuid = `box-${i}`));
}

const secrets = (lm: ListmonkDouble) => structuredClone([lm.model.settings.smtp, lm.model.settings['bounce.mailboxes'], lm.model.settings['bounce.sendgrid_key']]);

describe('rampcap', () => {
  let store: TestStore;
  let lm: ListmonkDouble | null = null;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(async () => {
    await sql`truncate runs restart identity`.execute(store.db);
  });
  afterEach(async () => {
    await lm?.stop();
    lm = null;
  });

  const start = async (version = 'v6.2.0') => {
    lm = await startDouble({ version, admin: null, users: [ADMIN] });
    lm.restartDelayMs = 20;
    lm.restartDowntimeMs = 150;
    return lm;
  };

  for (const version of ['v2.1.0', 'v3.0.0', 'v4.1.0', 'v6.2.0'])
    it(`${version}: prints the cap and the window; --apply sets it, records it, and writes nothing the second time`, async () => {
      const d = await start(version);
      savedOnce(d);
      d.model.settings['bounce.sendgrid_key'] = 'sg-secret';
      const kept = secrets(d);
      const dry = await run(store, d, false);
      expect(dry).toMatchObject({
        command: 'rampcap',
        date: TODAY,
        warmupDay: 8,
        hourlyCap: 300,
        dailyCap: 3000,
        dryRun: true,
        listmonk: { version, slidingWindow: { enabled: false, duration: '1h', rate: 10000, perHour: null }, restartPending: false },
        wanted: { enabled: true, duration: '1h', rate: 300 },
        inSync: false,
        applied: null,
        writeRisks: [],
      });
      expect(d.settingsLog.puts).toBe(0);

      const applied = await run(store, d, true);
      expect(applied).toMatchObject({ dryRun: false, inSync: true, applied: { changed: true, before: { enabled: false, rate: 10000 }, after: { enabled: true, duration: '1h', rate: 300 }, needsRestart: false } });
      expect(d.model.settings).toMatchObject({ 'app.message_sliding_window': true, 'app.message_sliding_window_duration': '1h', 'app.message_sliding_window_rate': 300 });
      expect(secrets(d)).toEqual(kept);
      expect(d.settingsLog.puts).toBe(1);

      const again = await run(store, d, true);
      expect(again).toMatchObject({ inSync: true, applied: { changed: false }, listmonk: { slidingWindow: { enabled: true, rate: 300, perHour: 300 } } });
      expect(d.settingsLog.puts).toBe(1);

      const runs = await store.db.selectFrom('runs').select(['status', 'args', 'counts']).where('stage', '=', 'rampcap').orderBy('id').execute();
      expect(runs.map((r) => [r.status, (r.args as { apply: boolean }).apply, (r.counts as RampcapSummary).applied?.changed ?? null])).toEqual([
        ['ok', false, null],
        ['ok', true, true],
        ['ok', true, false],
      ]);
      expect((runs[1]!.counts as RampcapSummary).applied).toMatchObject({ before: { enabled: false, rate: 10000 }, after: { enabled: true, rate: 300 } });
    });

  it("a fresh install's uuid-less SMTP servers: the dry run says so, --apply is refused (exit 3) and writes nothing", async () => {
    const d = await start();
    const dry = await run(store, d, false);
    expect(dry.writeRisks).toHaveLength(1);
    expect(dry.writeRisks[0]).toMatch(/smtp entries #1, #2 share the uuid/);
    const err = await run(store, d, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyGateError);
    expect(err).toMatchObject({ exitCode: 3, gate: 'listmonk-settings', summary: { inSync: false, applied: null } });
    expect(d.settingsLog.puts).toBe(0);
    expect((await store.db.selectFrom('runs').select('status').where('args', '@>', sql<never>`'{"apply": true}'::jsonb`).executeTakeFirstOrThrow()).status).toBe('refused');
  });

  it('refused while a build holds its lock, and while Listmonk runs an import', async () => {
    const d = await start();
    savedOnce(d);
    const locked = await store.withLock('stage:build', () => run(store, d, true).catch((e: unknown) => e));
    expect(locked.acquired && locked.value).toMatchObject({ gate: 'lock', message: expect.stringMatching(/a build is running/) });
    d.importer.status = { name: 'someones-import.csv', total: 5000, imported: 2000, status: 'importing' };
    await expect(run(store, d, true)).rejects.toMatchObject({ gate: 'listmonk-busy', message: expect.stringMatching(/someones-import\.csv, 2000\/5000/) });
    expect(d.settingsLog.puts).toBe(0);
    d.importer.status = { name: 'someones-import.csv', total: 5000, imported: 5000, status: 'finished' };
    expect((await run(store, d, true)).applied).toMatchObject({ changed: true });
  });

  it('saved while a campaign runs: not in effect until Listmonk restarts, exit 1 until then; the re-run writes nothing', async () => {
    const d = await start();
    savedOnce(d);
    const list = d.model.addList({ name: 'l' });
    const c = d.model.addCampaign({ type: 'regular', name: 'c', subject: 's', from_email: 'a@b.test', body: 'b', altbody: null, send_at: null, status: 'draft', content_type: 'html', tags: [], headers: [], template_id: 1, messenger: 'email', lists: [{ id: list.id, name: 'l' }] });
    d.model.start(c);
    const err = await run(store, d, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FindingsError);
    expect(err).toMatchObject({ exitCode: 1, message: expect.stringMatching(/not in effect.*does not restart while a campaign is running/), summary: { applied: { changed: true, needsRestart: true }, listmonk: { restartPending: true } } });
    await expect(run(store, d, true)).rejects.toMatchObject({ exitCode: 1, summary: { applied: { changed: false, needsRestart: true } } });
    expect(d.settingsLog.puts).toBe(1);
    d.restart();
    expect((await run(store, d, true)).applied).toMatchObject({ changed: false, needsRestart: false });
  });

  it('missing settings permissions are configuration (exit 2)', async () => {
    const d = await start();
    savedOnce(d);
    d.setUser({ ...ADMIN, perms: PIPELINE_PERMS });
    const noManage = await run(store, d, true).catch((e: unknown) => e);
    expect(noManage).toBeInstanceOf(ConfigError);
    expect((noManage as Error).message).toMatch(/settings:manage/);
    d.setUser({ ...ADMIN, perms: PIPELINE_PERMS.filter((p) => p !== 'settings:get') });
    await expect(run(store, d, false)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/settings:get/) });
  });
});
