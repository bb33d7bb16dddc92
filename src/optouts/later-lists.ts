/**
 * An opt-out reaches the lists already filled. A build for a later date (an analyst working ahead)
 * may have put an address on that date's list before the address opted out; the rules keep it out
 * of every push after that, but the list's campaign, already filled, would still mail it once.
 * So after each opt-out read, every pushed address of a send date from today on whose opt-out is
 * active is taken off that list in Listmonk (unsubscribed there only: a blocklisting would reach the
 * lists of every stream sharing that Listmonk) and the withdrawal is recorded in
 * list_unsubscribes (sql/0018), so a re-run withdraws nothing twice. Lists of past dates are left
 * alone: their campaigns have gone out. A Listmonk that fails half way keeps what it confirmed; the
 * next read takes the rest.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { ExternalServiceError } from '../errors.ts';
import type { ListmonkClient } from '../listmonk/index.ts';

export interface LaterListsReport {
  /** Send dates from this one on were looked at. */
  from: string;
  /** Lists an address was taken off. */
  lists: number;
  /** Subscriptions withdrawn by this run (0 on a re-run). */
  unsubscribed: number;
}

interface Withdrawal {
  ledger_id: number;
  send_date: string;
  address: string;
  list_id: number;
  subscriber_id: number;
  reason: string;
}

/** The pushed subscriptions of `today` and later that an active opt-out says to withdraw, not yet withdrawn. */
async function pendingWithdrawals(db: Kysely<Database>, today: string): Promise<Withdrawal[]> {
  const r = await sql<Withdrawal>`
    select l.id as ledger_id, l.send_date::text as send_date, l.address, l.list_id, l.subscriber_id,
           (select string_agg(o.kind || coalesce(' from list ' || o.list_id, ''), ', ' order by o.id)
              from opt_outs o where o.address = l.address and o.lifted_at is null) as reason
    from push_ledger l
    where l.status = 'pushed' and l.send_date >= ${today}::date
      and l.list_id is not null and l.subscriber_id is not null
      and exists (select 1 from opt_outs o where o.address = l.address and o.lifted_at is null)
      -- Already off that very list: the recipient unsubscribed from it.
      and not exists (select 1 from opt_outs o where o.address = l.address and o.kind = 'unsubscribed' and o.list_id = l.list_id)
      and not exists (select 1 from list_unsubscribes u where u.ledger_id = l.id)
    order by l.list_id, l.id`.execute(db);
  return r.rows;
}

export async function unsubscribeFromLaterLists(
  db: Kysely<Database>,
  lm: ListmonkClient,
  p: { today: string; runId: number; now: Date },
): Promise<LaterListsReport> {
  const rows = await pendingWithdrawals(db, p.today);
  const byList = new Map<number, Withdrawal[]>();
  for (const r of rows) (byList.get(r.list_id) ?? byList.set(r.list_id, []).get(r.list_id)!).push(r);
  const report: LaterListsReport = { from: p.today, lists: 0, unsubscribed: 0 };
  for (const [listId, withdrawals] of byList) {
    try {
      await lm.unsubscribeFromList(listId, [...new Set(withdrawals.map((w) => w.subscriber_id))]);
    } catch (e) {
      if (!(e instanceof ExternalServiceError)) throw e;
      const left = rows.length - report.unsubscribed;
      // Appended in place: the error's class carries the exit code.
      e.message = `${e.message}\n${left} opted-out address(es) are still on Listmonk lists of ${p.today} or later (list #${listId} failed); their campaigns would mail them. Re-run \`audience sync-listmonk\` once Listmonk answers, or pause those campaigns (\`audience audit-listmonk --pause\`).`;
      throw e;
    }
    await sql`
      insert into list_unsubscribes (ledger_id, send_date, address, list_id, subscriber_id, reason, run_id, unsubscribed_at)
      select u.ledger_id, u.send_date::date, u.address, ${listId}::int, u.subscriber_id, u.reason, ${p.runId}::bigint, ${p.now}::timestamptz
      from unnest(${withdrawals.map((w) => w.ledger_id)}::bigint[], ${withdrawals.map((w) => w.send_date)}::text[], ${withdrawals.map((w) => w.address)}::text[],
                  ${withdrawals.map((w) => w.subscriber_id)}::int[], ${withdrawals.map((w) => w.reason)}::text[]) as u(ledger_id, send_date, address, subscriber_id, reason)
      on conflict (ledger_id) do nothing`.execute(db);
    report.lists++;
    report.unsubscribed += withdrawals.length;
  }
  return report;
}

/** The summary line of the withdrawals, when there were any. */
export function laterListsLine(r: LaterListsReport | null): string | null {
  if (!r || !r.unsubscribed) return null;
  return `  took ${r.unsubscribed} opted-out address(es) off ${r.lists} list(s) of ${r.from} or later in Listmonk, whose campaigns would have mailed them`;
}
