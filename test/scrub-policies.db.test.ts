import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBounceScrub } from '../src/maillog/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import { deepMerge, loadConfig, type ConfigOverrides } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import { InputError, UsageError } from '../src/errors.ts';
import { activeHolds, globalDkimHold } from '../src/maillog/holds.ts';
import { operatorSuppress, operatorUnhold, operatorUnsuppress } from '../src/maillog/operator.ts';
import { activeSuppressions } from '../src/maillog/suppressions.ts';
import { createCandidates, evaluateExclusions } from '../src/rules/engine.ts';
import { suppressedAddressRule } from '../src/rules/suppressed-address.ts';
import { suppressedDomainRule } from '../src/rules/suppressed-domain.ts';
import { day, LogBuilder, said } from './fixtures/maillog/flows.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

let store: TestStore;
let dir: string;
let now = new Date('2026-11-28T00:00:00Z');
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

beforeEach(async () => {
  store = await createTestStore();
  dir = mkdtempSync(path.join(os.tmpdir(), 'scrub-pol-'));
  now = new Date('2026-11-28T00:00:00Z');
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function ctx(overrides: ConfigOverrides = {}): StageContext {
  const config = loadConfig({ env: {}, cwd: dir, overrides: deepMerge<ConfigOverrides>({ timezone: 'UTC', maillog: { ownDomains: ['firm.example'], campaignClients: { '172.18.0.5': 'trucking' } } }, overrides) });
  return { config, store, out: createOutput({ json: true, stdout: sink, stderr: sink }), now: () => now };
}

let fileNo = 0;
async function scrubLog(b: LogBuilder, overrides: ConfigOverrides = {}) {
  const file = path.join(dir, `log-${++fileNo}.log`);
  writeFileSync(file, b.text());
  return runBounceScrub(ctx(overrides), [file]);
}

const suppressions = () => store.db.selectFrom('suppressions').selectAll().orderBy('kind').orderBy('value').orderBy('id').execute();
const FULL = said("452-4.2.2 The recipient's inbox is out of storage space. 452 4.2.2 https://support.google.com/mail/?p=OverQuotaTemp - gsmtp");
const UNKNOWN = said('550 5.1.1 <x>: Recipient address rejected: User unknown in virtual mailbox table');

describe('address policies', () => {
  it('mailbox_full suppresses only after it repeats on mailboxFullDays distinct days; deferrals alone never do', async () => {
    const b = new LogBuilder();
    for (const d of [20, 21]) b.flow({ at: day(d), to: 'full@b.example', outcomes: [['deferred', '4.2.2', FULL]] });
    b.flow({ at: day(20), to: 'later@b.example', outcomes: [['deferred', '4.1.1', said('450 4.1.1 <later@b.example>: Recipient address rejected: User unknown')], ['sent', '2.0.0', '250 ok']] });
    b.flow({ at: day(21), to: 'timeout@b.example', outcomes: [['deferred', '4.4.1', 'connect to mx.b.example[192.0.2.10]:25: Connection timed out']] });
    expect((await scrubLog(b)).suppressed).toEqual({ addresses: 0, domains: 0 });
    const third = new LogBuilder();
    third.flow({ at: day(22), to: 'full@b.example', outcomes: [['deferred', '4.2.2', FULL]] });
    expect((await scrubLog(third)).suppressed).toEqual({ addresses: 1, domains: 0 });
    const [row] = await suppressions();
    expect(row).toMatchObject({ kind: 'address', value: 'full@b.example', reason: 'mailbox_full', evidence: expect.objectContaining({ days: 3, count: 3 }) });
  });

  it('an expired message whose last deferral was recipient-level suppresses; one that timed out does not', async () => {
    const b = new LogBuilder()
      .flow({ at: day(20), to: 'gone@b.example', outcomes: [['deferred', '4.2.2', FULL], ['expired']] })
      .flow({ at: day(20), to: 'slow@c.example', outcomes: [['deferred', '4.4.1', 'connect to mx.c.example[192.0.2.11]:25: Connection timed out'], ['expired']] });
    const s = await scrubLog(b);
    expect(s.suppressed).toEqual({ addresses: 1, domains: 0 });
    expect((await suppressions()).map((r) => [r.value, r.reason])).toEqual([['gone@b.example', 'expired_recipient']]);
  });

  it('sender-side refusals never suppress a recipient: they hold the provider (by relay host without MX data)', async () => {
    const gmail = 'gmail-smtp-in.l.google.com[192.0.2.27]:25';
    const b = new LogBuilder()
      .flow({ at: day(27), to: 'a@gmail.com', relay: gmail, outcomes: [['bounced', '5.7.1', said('550-5.7.1 [198.51.100.5 1] Our system has detected an unusual rate of 550-5.7.1 unsolicited mail originating from your IP address. has been blocked. ?p=UnsolicitedIPError', 'end of DATA')]] })
      .flow({ at: day(27), to: 'b@yahoo.example', relay: 'mta5.am0.yahoodns.net[192.0.2.40]:25', outcomes: [['deferred', '4.7.0', said('421 4.7.0 [TSS04] Messages from 198.51.100.5 temporarily deferred due to user complaints', 'MAIL FROM')]] })
      .flow({ at: day(27), to: 'c@corp.example', relay: 'corp-example.mail.protection.outlook.com[192.0.2.50]:25', outcomes: [['bounced', '5.7.606', said('550 5.7.606 Access denied, banned sending IP [198.51.100.5].')]] });
    const s = await scrubLog(b, { maillog: { holdDays: 3 } });
    expect(s.suppressed).toEqual({ addresses: 0, domains: 0 });
    expect(s.holds.map((h) => [h.provider, h.reason])).toEqual([
      ['google', 'reputation_block'],
      ['microsoft365', 'reputation_block'],
      ['yahoo', 'rate_limited'],
    ]);
    const holds = await activeHolds(store.db, now);
    expect(holds[0]!.until.toISOString()).toBe(new Date(day(27).getTime() + 3 * 86_400_000 + 1000 * 5).toISOString());
    expect(holds[0]!.evidence).toMatchObject({ count: 1, sample: expect.stringContaining('UnsolicitedIPError') });
    // A second run over nothing new keeps the holds as they are.
    expect((await scrubLog(new LogBuilder())).holds).toEqual(s.holds);
    // Old signals raise no hold: their days are over.
    now = new Date('2026-12-15T00:00:00Z');
    expect(await activeHolds(store.db, now)).toEqual([]);
  });

  it("the firm's own domains are reported apart and never suppressed", async () => {
    const b = new LogBuilder().flow({ at: day(20), to: 'nobody@firm.example', outcomes: [['bounced', '5.1.1', UNKNOWN]] });
    const s = await scrubLog(b);
    expect(s.ownDomain.bounced).toBe(1);
    expect(s.deliveries.bounced).toBe(0);
    expect(await suppressions()).toEqual([]);
  });
});

describe('domain policies', () => {
  it('domain_dead at once; repeated failures only with enough recipients and no delivery in the window', async () => {
    const nx = 'Host or domain name not found. Name service error for name=defunct-freight.test type=MX: Host not found';
    const b = new LogBuilder().flow({ at: day(20), to: 'info@defunct-freight.test', relay: 'none', outcomes: [['bounced', '5.4.4', nx]] });
    for (const u of ['a', 'b', 'c']) b.flow({ at: day(21), to: `${u}@failing.example`, outcomes: [['bounced', '5.0.0', said('550 Service unavailable')]] });
    for (const u of ['a', 'b', 'c']) b.flow({ at: day(21), to: `${u}@mixed.example`, outcomes: [['bounced', '5.0.0', said('550 Service unavailable')]] });
    b.flow({ at: day(22), to: 'd@mixed.example', outcomes: [['sent', '2.0.0', '250 ok']] });
    for (const u of ['a', 'b']) b.flow({ at: day(21), to: `${u}@two.example`, outcomes: [['bounced', '5.0.0', said('550 Service unavailable')]] });
    const s = await scrubLog(b);
    expect(s.suppressed).toEqual({ addresses: 0, domains: 2 });
    expect((await suppressions()).map((r) => [r.value, r.reason])).toEqual([
      ['defunct-freight.test', 'domain_dead'],
      ['failing.example', 'domain_failures'],
    ]);
  });
});

describe('operator actions and lifts', () => {
  it('unsuppress keeps history; the scrub does not re-suppress on old evidence, only on newer bounces', async () => {
    await scrubLog(new LogBuilder().flow({ at: day(20), to: 'x@b.example', outcomes: [['bounced', '5.1.1', UNKNOWN]] }));
    now = new Date('2026-11-28T01:00:00Z');
    await expect(operatorUnsuppress(ctx(), 'X@B.example', { reason: 'recreated' })).resolves.toMatchObject({ lifted: 1 });
    await expect(operatorUnsuppress(ctx(), 'x@b.example', { reason: 'again' })).rejects.toBeInstanceOf(InputError);
    // Same old evidence (re-read from another file): stays lifted.
    await scrubLog(new LogBuilder().flow({ at: day(20), to: 'x@b.example', outcomes: [['bounced', '5.1.1', UNKNOWN]] }));
    expect(await activeSuppressions(store.db, now).execute()).toEqual([]);
    // A bounce after the lift suppresses again, in a new row.
    await scrubLog(new LogBuilder().flow({ at: new Date('2026-11-28T02:00:00Z'), to: 'x@b.example', outcomes: [['bounced', '5.1.1', UNKNOWN]] }));
    const rows = await suppressions();
    expect(rows.map((r) => [r.value, r.lifted_at === null, r.lifted_by !== null])).toEqual([
      ['x@b.example', false, true],
      ['x@b.example', true, false],
    ]);
  });

  it('suppress by hand with an expiry; expired suppressions are not active', async () => {
    const s = await operatorSuppress(ctx(), 'Sunset-Haulers.test', { reason: 'company closed', days: 10 });
    expect(s).toMatchObject({ kind: 'domain', value: 'sunset-haulers.test', expiresAt: '2026-12-08T00:00:00.000Z', replaced: false });
    expect((await activeSuppressions(store.db, now).execute()).map((r) => r.value)).toEqual(['sunset-haulers.test']);
    expect(await activeSuppressions(store.db, new Date('2026-12-09T00:00:00Z')).execute()).toEqual([]);
    // The subject is a command-line argument: a usage error (exit 2), issue #18.
    await expect(operatorSuppress(ctx(), 'not an address', { reason: 'x', days: null })).rejects.toBeInstanceOf(UsageError);
  });

  it('the suppressed_address and suppressed_domain rules exclude exactly the active subjects, with evidence', async () => {
    await scrubLog(new LogBuilder().flow({ at: day(20), to: 'old.dispatch@blue-ox-hauling.test', outcomes: [['bounced', '5.1.1', UNKNOWN]] }));
    await operatorSuppress(ctx(), 'sunset-haulers.test', { reason: 'closed', days: null });
    const hits = await store.db.transaction().execute(async (trx) => {
      await createCandidates(
        trx,
        sql`select * from (values (1::bigint, 'old.dispatch@blue-ox-hauling.test'::text, 'blue-ox-hauling.test'::text),
                                  (2::bigint, 'j.miller@blue-ox-hauling.test', 'blue-ox-hauling.test'),
                                  (3::bigint, 'west@sunset-haulers.test', 'sunset-haulers.test')) as t(email_id, email, domain)`,
      );
      const counts = await evaluateExclusions(trx, { config: ctx().config, date: '2026-11-28', now }, [suppressedAddressRule, suppressedDomainRule]);
      const rows = await sql<{ email_id: number; code: string; detail: string; since: Date }>`select * from pg_temp.exclusion_hits order by email_id`.execute(trx);
      return { counts, rows: rows.rows };
    });
    expect(hits.counts).toEqual({ suppressed_address: 1, suppressed_domain: 1 });
    expect(hits.rows.map((r) => [r.email_id, r.code])).toEqual([
      [1, 'suppressed_address'],
      [3, 'suppressed_domain'],
    ]);
    expect(hits.rows[0]!.detail).toMatch(/^recipient_invalid \(recipient_invalid, 1x, first .*User unknown/);
    expect(hits.rows[0]!.since.toISOString()).toBe(new Date(day(20).getTime() + 5000).toISOString());
    expect(hits.rows[1]!.detail).toMatch(/operator .*: closed/);
  });
});

describe('DKIM coverage', () => {
  it('unsigned campaign mail sets a global hold; a covered later day lifts it; unhold lifts by hand', async () => {
    const bad = new LogBuilder();
    for (let i = 0; i < 30; i++) bad.flow({ at: day(26), to: `r${i}@b.example`, signed: i < 20, outcomes: [['sent', '2.0.0', '250 ok']] });
    const s1 = await scrubLog(bad, { maillog: { dkimMinMessages: 20 } });
    expect(s1.dkim).toEqual({ campaignMessages: 30, signed: 20, coverage: 0.6667, byStream: { trucking: { campaignMessages: 30, signed: 20, coverage: 0.6667 } } });
    expect(s1.holds).toEqual([{ scope: 'global', provider: null, domain: null, mxHost: null, reason: 'dkim_coverage', until: expect.any(String) }]);
    expect(await globalDkimHold(store.db, now)).toMatchObject({ detail: expect.stringContaining('20 of 30 campaign messages in stream trucking signed') });

    const good = new LogBuilder();
    for (let i = 0; i < 25; i++) good.flow({ at: day(27), to: `s${i}@b.example`, outcomes: [['sent', '2.0.0', '250 ok']] });
    // Cron mail (not a campaign client) does not count either way.
    good.flow({ at: day(27), to: 'ops@b.example', client: '127.0.0.1', signed: false, outcomes: [['sent', '2.0.0', '250 ok']] });
    const s2 = await scrubLog(good, { maillog: { dkimMinMessages: 20 } });
    expect(s2.dkim).toEqual({ campaignMessages: 25, signed: 25, coverage: 1, byStream: { trucking: { campaignMessages: 25, signed: 25, coverage: 1 } } });
    expect(await globalDkimHold(store.db, now)).toBeNull();
    const lifted = await store.db.selectFrom('holds').select(['lifted_by']).where('scope', '=', 'global').executeTakeFirstOrThrow();
    expect(lifted.lifted_by).toBe('scrub-bounces');

    // A new bad day raises it again; the operator lifts it with a reason.
    const worse = new LogBuilder();
    for (let i = 0; i < 20; i++) worse.flow({ at: day(28, 1), to: `t${i}@b.example`, signed: false, outcomes: [['sent', '2.0.0', '250 ok']] });
    await scrubLog(worse, { maillog: { dkimMinMessages: 20 } });
    expect(await globalDkimHold(store.db, now)).not.toBeNull();
    await expect(operatorUnhold(ctx(), 'global', { reason: 'opendkim fixed' })).resolves.toMatchObject({ lifted: [expect.objectContaining({ reason: 'dkim_coverage' })] });
    expect(await globalDkimHold(store.db, now)).toBeNull();
    await expect(operatorUnhold(ctx(), 'google', { reason: 'x' })).rejects.toThrow(/no current hold for google/);
  });

  it('one stream whose signing broke holds everything, though the day\'s total is above the threshold', async () => {
    const streams = { maillog: { dkimMinMessages: 20, campaignClients: { '172.18.0.5': 'trucking', '172.18.0.6': 'healthcare' } } };
    const b = new LogBuilder();
    for (let i = 0; i < 400; i++) b.flow({ at: day(26), to: `r${i}@b.example`, outcomes: [['sent', '2.0.0', '250 ok']] });
    for (let i = 0; i < 20; i++) b.flow({ at: day(26), to: `h${i}@b.example`, client: '172.18.0.6', signed: false, outcomes: [['sent', '2.0.0', '250 ok']] });
    const s1 = await scrubLog(b, streams);
    expect(s1.dkim.coverage).toBeGreaterThan(0.95);
    expect(s1.dkim.byStream.healthcare).toEqual({ campaignMessages: 20, signed: 0, coverage: 0 });
    expect(await globalDkimHold(store.db, now)).toMatchObject({ detail: expect.stringContaining('0 of 20 campaign messages in stream healthcare signed') });

    // The broken stream fixed and sending again: lifted.
    const fixed = new LogBuilder();
    for (let i = 0; i < 20; i++) fixed.flow({ at: day(27), to: `g${i}@b.example`, client: '172.18.0.6', outcomes: [['sent', '2.0.0', '250 ok']] });
    await scrubLog(fixed, streams);
    expect(await globalDkimHold(store.db, now)).toBeNull();
  });

  it('a stream that stopped sending does not hold the others once its last bad day is a week older than theirs', async () => {
    const streams = { maillog: { dkimMinMessages: 20, campaignClients: { '172.18.0.5': 'trucking', '172.18.0.6': 'healthcare' } } };
    const b = new LogBuilder();
    for (let i = 0; i < 20; i++) b.flow({ at: day(10), to: `h${i}@b.example`, client: '172.18.0.6', signed: false, outcomes: [['sent', '2.0.0', '250 ok']] });
    for (let i = 0; i < 20; i++) b.flow({ at: day(26), to: `r${i}@b.example`, outcomes: [['sent', '2.0.0', '250 ok']] });
    await scrubLog(b, streams);
    expect(await globalDkimHold(store.db, now)).toBeNull();
  });

  it('runs out dkimHoldDays after the bad day: nightly scrubs with nothing new do not extend it (60-day simulation, seed 20310303, day 40)', async () => {
    // main: each nightly scrub judged the same bad day again and moved `until` to now + dkimHoldDays;
    // the hold stops every campaign, so no covered day could lift it, and every build was refused
    // for the 20 remaining days of the simulation.
    const policy = { maillog: { dkimMinMessages: 20, dkimHoldDays: 2 } };
    const bad = new LogBuilder();
    for (let i = 0; i < 20; i++) bad.flow({ at: day(26), to: `r${i}@b.example`, signed: false, outcomes: [['sent', '2.0.0', '250 ok']] });
    now = day(26, 23);
    await scrubLog(bad, policy);
    const raised = await globalDkimHold(store.db, now);
    expect(raised!.until.toISOString()).toBe(new Date(now.getTime() + 2 * 86_400_000).toISOString());
    for (const d of [27, 28]) {
      now = day(d, 23);
      await scrubLog(new LogBuilder(), policy);
    }
    expect(await globalDkimHold(store.db, now)).toBeNull();
    now = day(29, 23);
    await scrubLog(new LogBuilder(), policy);
    expect(await globalDkimHold(store.db, now)).toBeNull();
    // New evidence (a later bad day) holds everything again, for dkimHoldDays from then.
    const again = new LogBuilder();
    for (let i = 0; i < 20; i++) again.flow({ at: day(30, 15), to: `u${i}@b.example`, signed: false, outcomes: [['sent', '2.0.0', '250 ok']] });
    now = day(30, 23);
    await scrubLog(again, policy);
    expect((await globalDkimHold(store.db, now))!.until.toISOString()).toBe(new Date(now.getTime() + 2 * 86_400_000).toISOString());
  });
});
