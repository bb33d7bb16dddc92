/**
 * Reads and writes of the push ledger (sql/0006_build.sql). Batch writes are one statement each
 * (unnest of arrays), so recording 3,000 outcomes costs a handful of round trips.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { PushStatus } from './tables.ts';

type Executor = Kysely<Database> | Transaction<Database>;

export interface SegmentLedgerCounts {
  reserved: number;
  pushed: number;
  failed: number;
  /** Reservations that provably never reached Listmonk (release.ts): counted nowhere. */
  released: number;
}

export const noLedgerCounts = (): SegmentLedgerCounts => ({ reserved: 0, pushed: 0, failed: 0, released: 0 });

/** The date's ledger rows by segment and status: what the build's cap decision and `status` read. */
export async function ledgerCounts(db: Executor, date: string): Promise<Record<string, SegmentLedgerCounts>> {
  return (await ledgerCountsByDay(db, date, date)).get(date) ?? {};
}

/** Ledger rows by send date (from..to, both included), segment and status; dates without rows are absent. */
export async function ledgerCountsByDay(db: Executor, from: string, to: string): Promise<Map<string, Record<string, SegmentLedgerCounts>>> {
  const r = await sql<{ day: string; segment: string; status: PushStatus; n: number }>`
    select send_date as day, segment, status, count(*)::int as n from push_ledger
    where send_date between ${from}::date and ${to}::date group by send_date, segment, status`.execute(db);
  const out = new Map<string, Record<string, SegmentLedgerCounts>>();
  for (const row of r.rows) {
    let day = out.get(row.day);
    if (!day) out.set(row.day, (day = {}));
    (day[row.segment] ??= noLedgerCounts())[row.status] = row.n;
  }
  return out;
}

/** Reserved + pushed for the date, all segments: what counts against the cap. */
export function usedOf(counts: Record<string, SegmentLedgerCounts>): number {
  return Object.values(counts).reduce((n, c) => n + c.reserved + c.pushed, 0);
}

/** One row to export or push: the ledger row with the carrier fields sent as Listmonk attributes. */
export interface PushRow {
  id: number | null;
  segment: string;
  address: string;
  dot_number: number;
  rank: number;
  note: string | null;
  provider: string | null;
  legal_name: string | null;
  dba_name: string | null;
  state: string | null;
  power_units: number | null;
  mcs150_date: string | null;
  add_date: string | null;
}

const carrierFields = sql`c.legal_name, c.dba_name, c.phy_state as state, c.power_units, c.mcs150_date, c.add_date`;

/** Reserved rows of the date (any run's: a crashed run's reservations are ours to finish), best first. */
export async function reservedRows(db: Executor, date: string): Promise<PushRow[]> {
  const r = await sql<PushRow>`
    select l.id, l.segment, l.address, l.dot_number, l.rank, l.note, l.provider, ${carrierFields}
    from push_ledger l left join carriers c on c.dot_number = l.dot_number
    where l.send_date = ${date}::date and l.status = 'reserved'
    order by l.rank`.execute(db);
  return r.rows;
}

/**
 * The date's selection per segment for --out: ledger rows that count (reserved, pushed) and, in a
 * dry run inside the reservation transaction, the would-be picks of the temp table `picked`.
 */
export async function exportRows(db: Executor, date: string, segments: readonly string[], withPicked: boolean): Promise<PushRow[]> {
  const picked = withPicked
    ? sql`union all
      select null::bigint, p.segment, p.email, p.dot_number, p.rank, p.note, p.provider, ${carrierFields}
      from pg_temp.picked p left join carriers c on c.dot_number = p.dot_number`
    : sql``;
  const r = await sql<PushRow>`
    select * from (
      select l.id, l.segment, l.address, l.dot_number, l.rank, l.note, l.provider, ${carrierFields}
      from push_ledger l left join carriers c on c.dot_number = l.dot_number
      where l.send_date = ${date}::date and l.status in ('reserved', 'pushed')
      ${picked}
    ) x
    where x.segment = any(${[...segments]}::text[])
    order by x.rank`.execute(db);
  return r.rows;
}

export interface Outcome {
  id: number;
  status: 'pushed' | 'failed';
  outcome: string;
  error: string | null;
  subscriberId: number | null;
}

/** Records Listmonk's answers for a batch; only rows still reserved change (a re-run is a no-op). */
export async function recordOutcomes(db: Executor, runId: number, listId: number, batch: readonly Outcome[], at: Date): Promise<void> {
  if (!batch.length) return;
  await sql`
    update push_ledger l
    set status = u.status, outcome = u.outcome, error = u.error, subscriber_id = u.sid,
        list_id = ${listId}::int, push_run_id = ${runId}::bigint, pushed_at = ${at}::timestamptz
    from unnest(${batch.map((b) => b.id)}::bigint[], ${batch.map((b) => b.status)}::text[], ${batch.map((b) => b.outcome)}::text[],
                ${batch.map((b) => b.error)}::text[], ${batch.map((b) => b.subscriberId)}::int[]) as u(id, status, outcome, error, sid)
    where l.id = u.id and l.status = 'reserved'`.execute(db);
}

export interface ListRecord {
  segment: string;
  list_id: number;
  list_name: string;
  campaign_id: number | null;
  campaign_send_at: Date | null;
}

export async function listRecords(db: Executor, date: string): Promise<ListRecord[]> {
  const r = await sql<ListRecord>`
    select segment, list_id, list_name, campaign_id, campaign_send_at from build_lists where send_date = ${date}::date`.execute(db);
  return r.rows;
}

export async function saveList(db: Executor, date: string, segment: string, listId: number, listName: string): Promise<void> {
  await sql`
    insert into build_lists (send_date, segment, list_id, list_name) values (${date}::date, ${segment}, ${listId}, ${listName})
    on conflict (send_date, segment) do update set list_id = excluded.list_id, list_name = excluded.list_name, updated_at = now()`.execute(db);
}

export async function saveCampaign(db: Executor, date: string, segment: string, campaignId: number, name: string, sendAt: Date): Promise<void> {
  await sql`
    update build_lists set campaign_id = ${campaignId}, campaign_name = ${name}, campaign_send_at = ${sendAt}, updated_at = now()
    where send_date = ${date}::date and segment = ${segment}`.execute(db);
}
