/**
 * writeSlidingWindow on every Listmonk generation the client supports, against the double's
 * per-version settings handler (test/listmonk-double/settings.ts, read from knadh/listmonk):
 * secrets hidden on GET (empty before v2.5, masked after), kept on PUT when sent empty, list
 * entries matched by uuid (the last one wins). A write keeps every secret of the version exactly and
 * changes the three window keys only; a fresh install's uuid-less SMTP servers, and versions
 * outside v2.0–v6.2, are refused with nothing written; a running campaign leaves it pending.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SafetyGateError } from '../src/errors.ts';
import { settingsWriteRisks } from '../src/listmonk/settings-safety.ts';
import { parseVersion } from '../src/listmonk/version.ts';
import { clientFor } from './listmonk-double/client-for.ts';
import { DEFAULT_USER, ListmonkDouble, PIPELINE_PERMS } from './listmonk-double/index.ts';
import { getPath, secretFieldsOf, setPath } from './listmonk-double/settings.ts';

let d: ListmonkDouble;
afterEach(async () => d?.stop());
const NOW = new Date('2026-11-28T12:00:00Z');
const WANT = { enabled: true, duration: '1h', rate: 150 };
const ADMIN = { ...DEFAULT_USER, perms: [...PIPELINE_PERMS, 'settings:manage'] };

async function start(version: string) {
  d = await ListmonkDouble.start({ now: () => NOW, version, users: [ADMIN], admin: null });
  // The restart after a write, quickly.
  d.restartDelayMs = 20;
  d.restartDowntimeMs = 150;
  return clientFor(d).lm;
}

/** What an operator's one save with every password typed leaves: a uuid per entry, every secret set and distinct. */
function saveOnce(): Map<string, unknown> {
  const s = d.model.settings;
  (s.smtp as { uuid: string; password: string }[]).forEach((e, i) => Object.assign(e, { uuid: `smtp-${i}`, password: `smtp-password-${'•'.repeat(i)}${i}` }));
  (s['bounce.mailboxes'] as { uuid: string; password: string }[]).forEach((e, i) => Object.assign(e, { uuid: `box-${i}`, password: `mailbox-${i}` }));
  s.messengers = [{ uuid: 'm-0', enabled: false, name: 'sms', root_url: 'http://sms.test', username: 'u', password: 'messenger-secret' }];
  secretFieldsOf(d.version).forEach((f, i) => setPath(s, f.path, `${f.path.join('.')}-secret-${i}`));
  return secrets();
}

function secrets(): Map<string, unknown> {
  const s = d.model.settings;
  const out = new Map<string, unknown>();
  for (const k of ['smtp', 'bounce.mailboxes', 'messengers']) ((s[k] as { uuid: string; password: string }[]) ?? []).forEach((e) => out.set(`${k}/${e.uuid}`, e.password));
  for (const f of secretFieldsOf(d.version)) out.set(f.path.join('.'), getPath(s, f.path));
  return out;
}

const VERSIONS = ['v2.1.0', 'v2.4.0', 'v2.5.1', 'v3.0.0', 'v4.1.0', 'v5.1.0', 'v6.0.0', 'v6.1.0', 'v6.2.0'];

describe.each(VERSIONS)('Listmonk %s settings write-back', (version) => {
  it("refuses a fresh install's uuid-less SMTP servers, writing nothing", async () => {
    const lm = await start(version);
    const err = await lm.writeSlidingWindow(WANT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyGateError);
    expect(err).toMatchObject({ gate: 'listmonk-settings', exitCode: 3 });
    expect((err as Error).message).toMatch(/smtp entries #1, #2 share the uuid ""/);
    if (version < 'v2.5') expect((err as Error).message).toMatch(/before v2\.5\) sends passwords empty/);
    expect(d.settingsLog.puts).toBe(0);
  });

  it('after one save with every password typed: keeps every secret exactly, changes the three window keys only, then writes nothing', async () => {
    const lm = await start(version);
    const kept = saveOnce();
    const others = structuredClone(d.model.settings);
    const shown = await lm.readSettingsDocument();
    // GET hides every secret: empty (left out) before v2.5, one dot per character after.
    const smtp = shown.smtp as { password?: string }[];
    if (version < 'v2.5') expect(smtp.every((e) => e.password === undefined)).toBe(true);
    else expect(smtp.map((e) => e.password)).toEqual(['•'.repeat(15), '•'.repeat(16)]);
    for (const f of secretFieldsOf(d.version)) expect(getPath(shown, f.path)).not.toBe(getPath(d.model.settings, f.path));

    const w = await lm.writeSlidingWindow(WANT);
    expect(w).toMatchObject({ changed: true, needsRestart: false, before: { enabled: false, duration: '1h', rate: 10000 }, after: WANT });
    expect(secrets()).toEqual(kept);
    const { ['app.message_sliding_window']: on, ['app.message_sliding_window_duration']: dur, ['app.message_sliding_window_rate']: rate, ...rest } = d.model.settings;
    expect([on, dur, rate]).toEqual([true, '1h', 150]);
    const { ['app.message_sliding_window']: _a, ['app.message_sliding_window_duration']: _b, ['app.message_sliding_window_rate']: _c, ...restBefore } = others;
    expect(rest).toEqual(restBefore);
    expect(d.settingsLog.puts).toBe(1);
    expect(await lm.writeSlidingWindow({ ...WANT, duration: '60m' })).toMatchObject({ changed: false });
    expect(d.settingsLog.puts).toBe(1);
  });

  it('leaves the window pending, and says so, while a campaign runs', async () => {
    const lm = await start(version);
    saveOnce();
    const list = d.model.addList({ name: 'l' });
    const c = d.model.addCampaign({ type: 'regular', name: 'c', subject: 's', from_email: 'a@b.test', body: 'b', altbody: null, send_at: null, status: 'draft', content_type: 'html', tags: [], headers: [], template_id: 1, messenger: 'email', lists: [{ id: list.id, name: 'l' }] });
    d.model.start(c);
    const w = await lm.writeSlidingWindow(WANT);
    expect(w).toMatchObject({ changed: true, needsRestart: true, after: WANT });
    expect(await lm.readRestartPending()).toBe(true);
  });
});

describe('settings write-back risks', () => {
  const doc = (entries: { uuid?: string; password?: string }[]) => ({ smtp: entries });
  it('entries sharing a uuid are harmless on v2.5+ when none holds a password, and unknowable before', () => {
    const shared = doc([{ uuid: 'x', password: '' }, { uuid: 'x', password: '' }]);
    expect(settingsWriteRisks(shared, parseVersion('v2.5.0'))).toEqual([]);
    expect(settingsWriteRisks(doc([{ uuid: 'x' }, { uuid: 'x' }]), parseVersion('v2.4.0'))[0]).toMatch(/share the uuid "x".*before v2\.5/);
    expect(settingsWriteRisks(doc([{ uuid: 'x', password: '•••' }, { uuid: 'x', password: '' }]), parseVersion('v6.2.0'))[0]).toMatch(/smtp entries #1, #2 share the uuid "x" and at least one of them has a password/);
    expect(settingsWriteRisks(doc([{ uuid: 'a', password: '•' }, { uuid: 'b', password: '•' }]), parseVersion('v6.2.0'))).toEqual([]);
  });

  it('versions outside the reviewed v2.0–v6.2 are refused whatever the document', async () => {
    expect(settingsWriteRisks({}, parseVersion('v6.3.0'))[0]).toMatch(/newer than v6\.2/);
    expect(settingsWriteRisks({}, parseVersion('v7.0.0'))[0]).toMatch(/newer than v6\.2/);
    expect(settingsWriteRisks({}, parseVersion('v1.1.0'))[0]).toMatch(/older than v2\.0/);
    // A nightly build reports no release number: it is read as the newest known, whose handler master keeps.
    expect(settingsWriteRisks({}, parseVersion('nightly'))).toEqual([]);
    const lm = await start('v6.3.0');
    saveOnce();
    await expect(lm.writeSlidingWindow(WANT)).rejects.toMatchObject({ gate: 'listmonk-settings', message: expect.stringMatching(/v6\.3\.0 is newer than v6\.2/) });
    expect(d.settingsLog.puts).toBe(0);
  });
});
