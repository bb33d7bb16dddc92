/**
 * Reservations a failed push left behind are judged again before the re-run pushes them. Between
 * the failure and the re-run an address may be suppressed (a bounce, an operator) or opt out: one no
 * run ever sent is released (`excluded`, its rules as evidence) and its room goes to the next best
 * address; one a run may have sent is withheld (kept reserved and counted, not pushed); the rest are
 * pushed as before, none twice.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { segmentBuild } from '../src/push/stage.ts';
import { ExternalServiceError } from '../src/errors.ts';
import { addSuppression, buildTestBed, DATE, doubleClient, fxConfig, fxContext, ledgerAddresses, NOW, overdueCarriers } from './build-fixture.ts';

const SUBSCRIBER_WRITES = /^POST \/api\/subscribers$/;

async function reservedRows(db: Parameters<typeof ledgerAddresses>[0]) {
  const r = await sql<{ address: string; sent: boolean }>`
    select address, attempt_run_id is not null as sent from push_ledger
    where send_date = ${DATE}::date and status = 'reserved' order by address`.execute(db);
  return r.rows;
}

describe('reservations left by a failed push are judged again', () => {
  const bed = buildTestBed(overdueCarriers(12));

  it('suppressed or opted out since: released when never sent, withheld when maybe sent, never pushed', async () => {
    const config = fxConfig({}, 8);
    // Listmonk fails every subscriber write after the third: the other five stay reserved.
    bed.lm.faults.failNext(1000, 503, { route: SUBSCRIBER_WRITES, after: 3 });
    await expect(segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE })).rejects.toThrow(ExternalServiceError);
    bed.lm.faults.clear();
    const left = await reservedRows(bed.store.db);
    expect(left).toHaveLength(5);
    const unsent = left.filter((r) => !r.sent).map((r) => r.address);
    const maybe = left.filter((r) => r.sent).map((r) => r.address);
    // The requests in flight when Listmonk failed may have reached it; the push stopped before the rest.
    expect(maybe.length).toBeGreaterThanOrEqual(1);
    expect(unsent.length).toBeGreaterThanOrEqual(1);

    // Meanwhile a never-sent address bounces (suppressed) and a maybe-sent one opts out.
    const bounced = unsent[0]!;
    const optedOut = maybe[0]!;
    await addSuppression(bed.store.db, 'address', bounced);
    await sql`insert into opt_outs (address, kind, source, seen_at, run_id) values (${optedOut}, 'blocklisted', 'sync', ${NOW}::timestamptz, 1)`.execute(bed.store.db);

    const again = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE });
    expect(again.rejudged).toEqual({ judged: 5, released: 1, withheld: 1, byRule: { suppressed_address: 1, opted_out: 1 } });
    expect(again.warnings.some((w) => w.includes(`1 address(es) reserved for ${DATE} by an earlier run are excluded now`))).toBe(true);
    expect(again.warnings.some((w) => /1 address\(es\) reserved for .* may have reached Listmonk are excluded now .*audit-listmonk/.test(w))).toBe(true);

    const pushed = await ledgerAddresses(bed.store.db, DATE, ['pushed']);
    expect(pushed).not.toContain(bounced);
    expect(pushed).not.toContain(optedOut);
    // Neither excluded address was put on the list by the re-run; the withheld one stays reserved and counted.
    const listId = again.segments[0]!.list!.id!;
    const onList = [...bed.lm.model.subscribers.values()].filter((s) => bed.lm.model.subscriptions.get(s.id)?.has(listId)).map((s) => s.email);
    expect(onList).not.toContain(bounced);
    expect(onList).not.toContain(optedOut);
    expect(await ledgerAddresses(bed.store.db, DATE, ['reserved'])).toEqual([optedOut]);
    // Every other leftover is pushed, and the released row's room went to the next best address:
    // 7 pushed + 1 withheld fill the cap of 8, no more.
    for (const x of left.map((r) => r.address).filter((a) => a !== bounced && a !== optedOut)) expect(pushed).toContain(x);
    expect(pushed).toHaveLength(7);
    expect(onList.sort()).toEqual(pushed);

    const evidence = await sql<{ address: string; reason: string; evidence: { rules: string[]; judgedFor: string } }>`
      select address, reason, evidence from push_releases where send_date = ${DATE}::date order by address`.execute(bed.store.db);
    expect(evidence.rows.map((r) => [r.address, r.reason, r.evidence.rules, r.evidence.judgedFor])).toEqual([[bounced, 'excluded', ['suppressed_address'], DATE]]);

    // A re-run changes nothing: nothing left to judge but the withheld row, nothing new pushed.
    const third = await segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE }).catch((e: unknown) => e);
    expect(third).not.toBeInstanceOf(Error);
    expect(await ledgerAddresses(bed.store.db, DATE, ['pushed'])).toEqual(pushed);
  });

  it('a dry run judges nothing again and releases nothing', async () => {
    const config = fxConfig({}, 8);
    bed.lm.faults.failNext(1000, 503, { route: SUBSCRIBER_WRITES, after: 3 });
    await expect(segmentBuild(fxContext(bed.store, config), { listmonk: doubleClient(bed.lm, config), date: DATE })).rejects.toThrow(ExternalServiceError);
    bed.lm.faults.clear();
    const left = await reservedRows(bed.store.db);
    await addSuppression(bed.store.db, 'address', left[0]!.address);
    const dry = await segmentBuild(fxContext(bed.store, config), { dryRun: true, date: DATE });
    expect(dry.rejudged).toBeNull();
    expect(await reservedRows(bed.store.db)).toEqual(left);
  });
});
