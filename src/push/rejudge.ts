/**
 * Reservations left by an earlier run (a push that failed on a 5xx, a crash) wait for a re-run to be
 * pushed. They were judged when they were reserved; since then the address may have bounced, been
 * suppressed, opted out, or fallen under a hold. So before a push the date's reservations of other
 * runs are judged again, by the same rules and at the same clock as a new selection
 * (rules/engine.ts), and one that a rule excludes now is not pushed:
 *
 * - never sent by any run (attempt_run_id null): released, reason `excluded`, with the rules as
 *   evidence. Listmonk never had it, so it is no contact, and its day's room goes to someone else.
 * - possibly sent (a run's request left, its answer was lost): withheld from this push and left
 *   reserved, counted against the cap and the cooldown, because Listmonk may have it on the list;
 *   once its date has passed the list is read back (release.ts) and it is settled either way.
 *
 * The provider recorded at reservation is checked too: a `yahoo` row is never pushed, whatever the
 * rules say now (invariant 1 does not hang on one rule module).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { createCandidates, evaluateExclusions } from '../rules/engine.ts';
import type { ExclusionRule, RuleContext } from '../rules/rule.ts';
import { releaseUnsent } from './release.ts';

export interface RejudgeReport {
  /** Reservations of other runs judged again. */
  judged: number;
  /** Released: excluded now and never sent. */
  released: number;
  /** Excluded now but possibly sent: kept reserved and not pushed by this run (ledger ids). */
  withheld: number[];
  /** Excluded reservations per rule code (a row may count under several). */
  byRule: Record<string, number>;
}

interface Excluded {
  id: number;
  address: string;
  attempt_run_id: number | null;
  codes: string[];
}

export async function rejudgeReserved(
  db: Kysely<Database>,
  p: { date: string; runId: number; now: Date; rules: readonly ExclusionRule[]; ruleCtx: RuleContext },
): Promise<RejudgeReport> {
  return db.transaction().execute(async (trx) => {
    const report: RejudgeReport = { judged: 0, released: 0, withheld: [], byRule: {} };
    report.judged = await createCandidates(
      trx,
      sql<{ email_id: number; email: string; domain: string }>`
        select l.email_id, l.address as email, coalesce(e.domain, split_part(l.address, '@', 2)) as domain
        from push_ledger l left join emails e on e.id = l.email_id
        where l.send_date = ${p.date}::date and l.status = 'reserved' and l.run_id <> ${p.runId}::bigint`,
    );
    if (!report.judged) return report;
    await evaluateExclusions(trx, p.ruleCtx, p.rules);
    const excluded = (
      await sql<Excluded>`
        select l.id, l.address, l.attempt_run_id,
               array_remove(array_agg(distinct h.code) || case when l.provider = 'yahoo' then array['yahoo_family'] else array[]::text[] end, null) as codes
        from push_ledger l
        left join pg_temp.exclusion_hits h on h.email_id = l.email_id
        where l.send_date = ${p.date}::date and l.status = 'reserved' and l.run_id <> ${p.runId}::bigint
        group by l.id
        having count(h.code) > 0 or l.provider = 'yahoo'
        order by l.id`.execute(trx)
    ).rows;
    // One release per set of rules, so each row's evidence names what excludes it.
    const bySet = new Map<string, number[]>();
    for (const x of excluded) {
      const codes = [...new Set(x.codes)].sort();
      for (const c of codes) report.byRule[c] = (report.byRule[c] ?? 0) + 1;
      if (x.attempt_run_id !== null) report.withheld.push(x.id);
      else (bySet.get(codes.join(',')) ?? bySet.set(codes.join(','), []).get(codes.join(','))!).push(x.id);
    }
    for (const [codes, ids] of bySet)
      report.released += await releaseUnsent(
        trx,
        ids,
        'excluded',
        { rules: codes.split(','), judgedFor: p.date, judgedAt: p.now.toISOString(), detail: 'excluded by these rules when judged again before the push; no run had sent it to Listmonk' },
        { runId: p.runId, now: p.now },
      );
    return report;
  });
}
