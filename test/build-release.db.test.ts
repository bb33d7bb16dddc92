/**
 * A failed push releases its reservations (issue #14, item 6), but only those Listmonk provably
 * never had: a push that failed on credentials frees its people for other dates and its date's
 * cap; a transient failure (5xx) keeps every row reserved so the re-run completes exactly that
 * set; reservations of a date that has passed are released when no run sent them, or when the
 * date's list read back from Listmonk does not hold them, and recorded as pushed when it does.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { segmentBuild } from '../src/push/stage.ts';
import { listmonkSync } from '../src/optouts/stage.ts';
import { status } from '../src/reports/stage.ts';
import { ledgerCounts } from '../src/push/ledger.ts';
import type { PushStatus } from '../src/push/tables.ts';
import type { Store } from '../src/db/store.ts';
import { ExternalServiceError } from '../src/errors.ts';
import { ListmonkApiError, ListmonkAuthError, ListmonkPermissionError, type ListmonkClient } from '../src/listmonk/index.ts';
import { addDays } from '../src/warmup/calendar.ts';
import { beforeEachCall, buildTestBed, DATE, doubleClient, fxConfig, fxContext, ledgerAddresses, NOW, overdueCarriers } from './build-fixture.ts';
import { DEFAULT_USER, PIPELINE_PERMS } from './listmonk-double/index.ts';

const DAY = 86_400_000;
const TOMORROW = addDays(DATE, 1);
const YESTERDAY = addDays(DATE, -1);
/** The morning cron of the day before DATE. */
const YESTERDAY_NOW = new Date(NOW.getTime() - DAY);
const SUBSCRIBER_WRITES = /^POST \/api\/subscribers$/;

const ledgerOf = (store: Store, date: string, statuses: readonly PushStatus[]) => ledgerAddresses(store.db, date, statuses);

async function releases(store: Store, date: string) {
  const r = await sql<{ address: string; reason: string; evidence: Record<string, unknown> }>`
    select address, reason, evidence from push_releases where send_date = ${date}::date order by address`.execute(store.db);
  return r.rows;
}

const overlap = (a: readonly string[], b: readonly string[]) => a.filter((x) => b.includes(x));

describe('a failed push releases its reservations', () => {
  const bed = buildTestBed(overdueCarriers(12));
  /** Credentials rotated in Listmonk while the build runs: every request from the push on is refused. */
  const rotatedAtPush = (client: ListmonkClient) => beforeEachCall(client, 'ensureList', () => bed.lm.setUser({ ...DEFAULT_USER, token: 'rotated-token-987654321' }));

  it("credentials refused at push time: the next date's build can take those people, and the date's cap is not consumed", async () => {
    const config = fxConfig({}, 8);
    const e = await segmentBuild(fxContext(bed.store, config), { listmonk: rotatedAtPush(doubleClient(bed.lm, config)), date: DATE }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ListmonkAuthError);
    expect((e as ListmonkAuthError).exitCode).toBe(2);
    expect(bed.lm.model.subscribers.size).toBe(0);
    expect(await ledgerOf(bed.store, DATE, ['reserved', 'pushed'])).toEqual([]);
    const released = await ledgerOf(bed.store, DATE, ['released']);
    expect(released).toHaveLength(8);
    expect((e as Error).message).toContain(`8 reservation(s) for ${DATE} released`);
    const used = await ledgerCounts(bed.store.db, DATE);
    expect((used.mcs150?.reserved ?? 0) + (used.mcs150?.pushed ?? 0)).toBe(0);
    expect((await status(fxContext(bed.store, config))).today).toMatchObject({ pushed: 0, reserved: 0, released: 8, remaining: 8 });

    bed.lm.setUser(DEFAULT_USER);
    const next = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: TOMORROW });
    expect(next.excluded.cooldown).toBeUndefined();
    const tomorrow = await ledgerOf(bed.store, TOMORROW, ['pushed']);
    expect(tomorrow).toHaveLength(8);
    expect(overlap(tomorrow, released).length).toBeGreaterThanOrEqual(4);

    const evidence = await releases(bed.store, DATE);
    expect(evidence.map((r) => r.address)).toEqual(released);
    expect(evidence.every((r) => r.reason === 'config_error')).toBe(true);
    expect(evidence[0]!.evidence).toMatchObject({ error: 'ListmonkAuthError', status: 403, request: 'GET /api/lists', run: 1 });
  });

  it('a 401 after two subscribers were accepted: those two stay pushed and in cooldown, the unsent six are released', async () => {
    const config = fxConfig({}, 8);
    bed.lm.faults.failNext(1000, 401, { route: SUBSCRIBER_WRITES, after: 2 });
    const e = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ListmonkAuthError);
    const pushed = await ledgerOf(bed.store, DATE, ['pushed']);
    expect(pushed).toHaveLength(2);
    expect(await ledgerOf(bed.store, DATE, ['reserved'])).toEqual([]);
    expect(await ledgerOf(bed.store, DATE, ['released'])).toHaveLength(6);
    expect((await releases(bed.store, DATE))[0]!.evidence).toMatchObject({ status: 401, request: 'POST /api/subscribers' });

    bed.lm.faults.clear();
    const next = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: TOMORROW });
    expect(next.excluded.cooldown).toBe(2);
    const tomorrow = await ledgerOf(bed.store, TOMORROW, ['pushed']);
    expect(tomorrow).toHaveLength(8);
    expect(overlap(tomorrow, pushed)).toEqual([]);
  });

  it('a permission missing at push time releases too: Listmonk refused the request before acting', async () => {
    const config = fxConfig({}, 8);
    const withoutManage = beforeEachCall(doubleClient(bed.lm, config), 'pushSubscribers', () =>
      bed.lm.setUser({ ...DEFAULT_USER, perms: PIPELINE_PERMS.filter((x) => x !== 'subscribers:manage') }),
    );
    const e = await segmentBuild(fxContext(bed.store, config), { listmonk: withoutManage, date: DATE }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ListmonkPermissionError);
    expect((e as ListmonkPermissionError).permission).toBe('subscribers:manage');
    expect(bed.lm.model.subscribers.size).toBe(0);
    expect(await ledgerOf(bed.store, DATE, ['reserved', 'pushed'])).toEqual([]);
    expect(await ledgerOf(bed.store, DATE, ['released'])).toHaveLength(8);
    expect((await releases(bed.store, DATE))[0]!.evidence).toMatchObject({ error: 'ListmonkPermissionError', status: 403, request: 'POST /api/subscribers' });
  });

  it('a re-run for the date after the credentials are fixed takes the released people again, in place', async () => {
    const config = fxConfig({}, 8);
    await segmentBuild(fxContext(bed.store, config), { listmonk: rotatedAtPush(doubleClient(bed.lm, config)), date: DATE }).catch(() => {});
    const released = await ledgerOf(bed.store, DATE, ['released']);
    bed.lm.setUser(DEFAULT_USER);
    const s = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE });
    expect(s.segments[0]).toMatchObject({ selected: 8, pushed: 8 });
    // The ranking of a date is stable: the same eight, on the same ledger rows, with the release kept as history.
    expect(await ledgerOf(bed.store, DATE, ['pushed'])).toEqual(released);
    const rows = await sql<{ n: number }>`select count(*)::int as n from push_ledger where send_date = ${DATE}::date`.execute(bed.store.db);
    expect(rows.rows[0]!.n).toBe(8);
    expect(await releases(bed.store, DATE)).toHaveLength(8);
    expect(bed.lm.model.subscribers.size).toBe(8);
  });

  it('a 5xx mid-push releases nothing: every row stays counted, and the re-run pushes exactly the reserved set', async () => {
    const config = fxConfig({}, 8);
    bed.lm.faults.failNext(1000, 503, { route: SUBSCRIBER_WRITES, after: 3 });
    const e = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ListmonkApiError);
    expect((e as ExternalServiceError).retryable).toBe(true);
    expect((e as ExternalServiceError).exitCode).toBe(1);
    const reservedSet = await ledgerOf(bed.store, DATE, ['reserved', 'pushed']);
    expect(reservedSet).toHaveLength(8);
    expect(await ledgerOf(bed.store, DATE, ['pushed'])).toHaveLength(3);
    expect(await ledgerOf(bed.store, DATE, ['released'])).toEqual([]);
    expect((e as Error).message).toContain(`5 address(es) stay reserved for ${DATE}`);

    bed.lm.faults.clear();
    const ahead = await segmentBuild(fxContext(bed.store, config), { dryRun: true, date: TOMORROW });
    expect(ahead.excluded.cooldown).toBe(8);
    expect(ahead.segments[0]!.selected).toBe(4);

    const again = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE });
    expect(again.alreadyPushed).toBe(8);
    expect(await ledgerOf(bed.store, DATE, ['pushed'])).toEqual(reservedSet);
    expect(bed.lm.model.subscribers.size).toBe(8);
    const listId = again.segments[0]!.list!.id!;
    expect([...bed.lm.model.subscriptions.values()].filter((m) => m.has(listId)).length).toBe(8);
  });

  it('reservations of a date that passed with Listmonk down are released the next day: nothing was sent', async () => {
    const config = fxConfig({}, 8);
    bed.lm.faults.failNext(1000, 503, { route: /^POST \/api\/lists$/ });
    await expect(segmentBuild(fxContext(bed.store, config, YESTERDAY_NOW), { listmonk: doubleClient(bed.lm, config, YESTERDAY_NOW), date: YESTERDAY })).rejects.toThrow(ExternalServiceError);
    const stranded = await ledgerOf(bed.store, YESTERDAY, ['reserved']);
    expect(stranded).toHaveLength(8);
    bed.lm.faults.clear();

    const today = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE });
    expect(today.pastReservations).toEqual({ released: 8, confirmed: 0, kept: 0 });
    expect(today.excluded.cooldown).toBeUndefined();
    expect(await ledgerOf(bed.store, DATE, ['pushed'])).toHaveLength(8);
    const evidence = await releases(bed.store, YESTERDAY);
    expect(evidence.map((r) => [r.address, r.reason])).toEqual(stranded.map((a) => [a, 'never_sent']));
    expect(evidence[0]!.evidence).toMatchObject({ sendDate: YESTERDAY, today: DATE });
  });

  it('the nightly sync-listmonk settles them too, before the next build', async () => {
    const config = fxConfig({}, 8);
    bed.lm.faults.failNext(1000, 503, { route: /^POST \/api\/lists$/ });
    await expect(segmentBuild(fxContext(bed.store, config, YESTERDAY_NOW), { listmonk: doubleClient(bed.lm, config, YESTERDAY_NOW), date: YESTERDAY })).rejects.toThrow(ExternalServiceError);
    bed.lm.faults.clear();
    const s = await listmonkSync(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config) });
    expect(s.pastReservations).toEqual({ released: 8, confirmed: 0, kept: 0 });
    expect(await ledgerOf(bed.store, YESTERDAY, ['released'])).toHaveLength(8);
    const again = await listmonkSync(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config) });
    expect(again.pastReservations).toEqual({ released: 0, confirmed: 0, kept: 0 });
    const today = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE });
    expect(today.pastReservations).toEqual({ released: 0, confirmed: 0, kept: 0 });
    expect(today.excluded.cooldown).toBeUndefined();
  });

  it('reservations of a date that passed after a crash mid-push are read back: on the list means pushed, absent means released', async () => {
    const config = fxConfig({}, 8);
    bed.lm.faults.crashAfterSubscriberWrites(3);
    await expect(segmentBuild(fxContext(bed.store, config, YESTERDAY_NOW), { listmonk: doubleClient(bed.lm, config, YESTERDAY_NOW), date: YESTERDAY })).rejects.toThrow(ExternalServiceError);
    bed.lm.restart();
    const listId = (await sql<{ list_id: number }>`select list_id from build_lists where send_date = ${YESTERDAY}::date`.execute(bed.store.db)).rows[0]!.list_id;
    const onList = [...bed.lm.model.subscribers.values()].filter((s) => bed.lm.model.subscriptions.get(s.id)?.has(listId)).map((s) => s.email).sort();
    expect(onList).toHaveLength(3);
    // The third write's answer was lost: Listmonk has it, the ledger does not know.
    expect((await ledgerOf(bed.store, YESTERDAY, ['pushed'])).length).toBeLessThan(3);

    const today = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE });
    expect(today.pastReservations.kept).toBe(0);
    expect(today.pastReservations.confirmed).toBeGreaterThanOrEqual(1);
    expect(today.pastReservations.confirmed + today.pastReservations.released).toBe(8 - (3 - today.pastReservations.confirmed));
    // After settling, yesterday's ledger is exactly yesterday's list, and today mails none of it.
    expect(await ledgerOf(bed.store, YESTERDAY, ['pushed'])).toEqual(onList);
    expect(await ledgerOf(bed.store, YESTERDAY, ['reserved'])).toEqual([]);
    expect(today.excluded.cooldown).toBe(3);
    expect(overlap(await ledgerOf(bed.store, DATE, ['pushed']), onList)).toEqual([]);
    const reasons = new Set((await releases(bed.store, YESTERDAY)).map((r) => r.reason));
    expect([...reasons].every((r) => r === 'never_sent' || r === 'absent_from_list')).toBe(true);
  });

  it('without Listmonk to read back, reservations of a past date that may have been sent stay counted, with a warning', async () => {
    const config = fxConfig({}, 8);
    bed.lm.faults.failNext(1000, 503, { route: SUBSCRIBER_WRITES, after: 3 });
    await expect(segmentBuild(fxContext(bed.store, config, YESTERDAY_NOW), { listmonk: doubleClient(bed.lm, config, YESTERDAY_NOW), date: YESTERDAY })).rejects.toThrow(ExternalServiceError);
    const maybe = await sql<{ n: number }>`select count(*)::int as n from push_ledger where status = 'reserved' and attempt_run_id is not null`.execute(bed.store.db);
    expect(maybe.rows[0]!.n).toBeGreaterThan(0);

    const dry = await segmentBuild(fxContext(bed.store, config), { dryRun: true, date: DATE });
    expect(dry.pastReservations.kept).toBe(maybe.rows[0]!.n);
    expect(dry.pastReservations.released).toBe(5 - maybe.rows[0]!.n);
    expect(dry.warnings.some((w) => w.includes(`reservation(s) for ${YESTERDAY} may have reached Listmonk`))).toBe(true);
    expect(dry.excluded.cooldown).toBe(3 + maybe.rows[0]!.n);
  });
});
