/**
 * The lists already filled are judged again. A build for a later date (an analyst working ahead)
 * puts addresses on that date's list days before its campaign sends; meanwhile an address may opt
 * out, bounce into a suppression, its domain may die or move to Yahoo's servers, or its provider may
 * fall under a hold. The rules keep it out of every push after that, but the list's campaign,
 * already filled, would still mail it. So after each opt-out read (sync-listmonk, the nightly job
 * after the scrub; and every build that is not a dry run), every pushed address of a send date
 * from today on that a protecting rule excludes now (audit/offending.ts: Yahoo family,
 * suppressions, opt-outs, dead MX, holds) is taken off that list in Listmonk: unsubscribed from that
 * list only, never blocklisted in a Listmonk other streams share. Each withdrawal is recorded in
 * list_unsubscribes (sql/0018), so a re-run withdraws nothing twice and the opt-out sync does not
 * read our own unsubscribe back as the recipient's opt-out.
 *
 * The address stays pushed in the ledger: it counts against its date's cap and as a contact for
 * the cooldown, the cautious side (a hold of three days costs it that date, never a spike). Lists of
 * past dates are left alone: their campaigns have gone out. A Listmonk that fails half way keeps
 * what it confirmed; the next read takes the rest.
 */
import { sql, type Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { ExternalServiceError } from '../errors.ts';
import type { ListmonkClient } from '../listmonk/index.ts';
import { isOffendingCode, OFFENDING_CODES } from '../audit/offending.ts';
import { createCandidates, evaluateExclusions } from '../rules/engine.ts';
import { RULES } from '../rules/index.ts';

const PROTECTING_RULES = RULES.filter((r) => isOffendingCode(r.code));

export interface WithdrawReport {
  /** Send dates from this one on were looked at. */
  from: string;
  /** Lists an address was taken off. */
  lists: number;
  /** Subscriptions withdrawn by this run (0 on a re-run). */
  unsubscribed: number;
  /** Withdrawn subscriptions per rule code (one may count under several). */
  byRule: Record<string, number>;
}

interface Withdrawal {
  ledger_id: number;
  send_date: string;
  address: string;
  list_id: number;
  subscriber_id: number;
  codes: string[];
}

/**
 * The pushed subscriptions of `today` and later that a protecting rule excludes now, not yet
 * withdrawn, and not already off their list by the recipient's own unsubscribe from it.
 */
async function pendingWithdrawals(db: Kysely<Database>, p: { config: Config; today: string; now: Date }): Promise<Withdrawal[]> {
  const pending = sql`l.status = 'pushed' and l.send_date >= ${p.today}::date
    and l.list_id is not null and l.subscriber_id is not null
    and not exists (select 1 from list_unsubscribes u where u.ledger_id = l.id)
    and not exists (select 1 from opt_outs o where o.address = l.address and o.kind = 'unsubscribed' and o.list_id = l.list_id)`;
  return db.transaction().execute(async (trx) => {
    // One candidate per address: an address may be on several later lists.
    const n = await createCandidates(
      trx,
      sql<{ email_id: number; email: string; domain: string }>`
        select distinct on (l.email_id) l.email_id, l.address as email, coalesce(e.domain, split_part(l.address, '@', 2)) as domain
        from push_ledger l left join emails e on e.id = l.email_id
        where ${pending}
        order by l.email_id`,
    );
    if (!n) return [];
    // Only the protecting rules: the others (disposable, role mailboxes, typos) are the build's
    // choices for new picks, and judging them would cost a second on every build and sync.
    await evaluateExclusions(trx, { config: p.config, date: p.today, now: p.now }, PROTECTING_RULES);
    const r = await sql<Withdrawal>`
      select l.id as ledger_id, l.send_date::text as send_date, l.address, l.list_id, l.subscriber_id,
             array_agg(distinct h.code order by h.code) as codes
      from push_ledger l
      join pg_temp.exclusion_hits h on h.email_id = l.email_id and h.code = any(${[...OFFENDING_CODES]}::text[])
      where ${pending}
      group by l.id
      order by l.list_id, l.id`.execute(trx);
    return r.rows;
  });
}

/** Takes every pending withdrawal off its list in Listmonk, list by list, recording each once confirmed. */
export async function withdrawExcluded(
  db: Kysely<Database>,
  lm: ListmonkClient,
  p: { config: Config; today: string; runId: number; now: Date },
): Promise<WithdrawReport> {
  const rows = await pendingWithdrawals(db, p);
  const byList = new Map<number, Withdrawal[]>();
  for (const r of rows) (byList.get(r.list_id) ?? byList.set(r.list_id, []).get(r.list_id)!).push(r);
  const report: WithdrawReport = { from: p.today, lists: 0, unsubscribed: 0, byRule: {} };
  for (const [listId, withdrawals] of byList) {
    try {
      await lm.unsubscribeFromList(listId, [...new Set(withdrawals.map((w) => w.subscriber_id))]);
    } catch (e) {
      if (!(e instanceof ExternalServiceError)) throw e;
      const left = rows.length - report.unsubscribed;
      // Appended in place: the error's class carries the exit code.
      e.message = `${e.message}\n${left} address(es) the rules exclude now are still on Listmonk lists of ${p.today} or later (list #${listId} failed); their campaigns would mail them. Re-run \`audience sync-listmonk\` once Listmonk answers, or pause those campaigns (\`audience audit-listmonk --pause\`).`;
      throw e;
    }
    await sql`
      insert into list_unsubscribes (ledger_id, send_date, address, list_id, subscriber_id, reason, run_id, unsubscribed_at)
      select u.ledger_id, u.send_date::date, u.address, ${listId}::int, u.subscriber_id, u.reason, ${p.runId}::bigint, ${p.now}::timestamptz
      from unnest(${withdrawals.map((w) => w.ledger_id)}::bigint[], ${withdrawals.map((w) => w.send_date)}::text[], ${withdrawals.map((w) => w.address)}::text[],
                  ${withdrawals.map((w) => w.subscriber_id)}::int[], ${withdrawals.map((w) => w.codes.join(','))}::text[]) as u(ledger_id, send_date, address, subscriber_id, reason)
      on conflict (ledger_id) do nothing`.execute(db);
    for (const w of withdrawals) for (const c of w.codes) report.byRule[c] = (report.byRule[c] ?? 0) + 1;
    report.lists++;
    report.unsubscribed += withdrawals.length;
  }
  return report;
}

/** The summary line of the withdrawals, when there were any. */
export function withdrawLine(r: WithdrawReport | null): string | null {
  if (!r || !r.unsubscribed) return null;
  const why = Object.entries(r.byRule).map(([k, v]) => `${k} ${v}`).join(', ');
  return `  took ${r.unsubscribed} address(es) the rules exclude now (${why}) off ${r.lists} list(s) of ${r.from} or later in Listmonk, whose campaigns would have mailed them`;
}
