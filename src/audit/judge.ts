/**
 * The project's own exclusion rules (src/rules/, the engine the build and `explain` use) over the
 * members of Listmonk campaigns. An address the census holds is judged as the build judges it (its
 * emails row: every rule). An address we do not know is judged on the address alone: it gets an id
 * of its own below zero, so the rules that match the address or its domain (Yahoo family, disposable,
 * role mailboxes, suppressions, opt-outs, MX verdicts, holds, cooldown) apply, and those that need
 * a census row (invalid_syntax and typo_domain from normalization, shared_address, FMCSA test
 * records by carrier) find none.
 */
import { sql, type Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { optOutAddress } from '../optouts/record.ts';
import { createCandidates, evaluateExclusions } from '../rules/engine.ts';
import { RULES } from '../rules/index.ts';
import type { ReasonCode } from '../rules/reason-codes.ts';
import { isOffendingCode, OFFENDING_CODES } from './offending.ts';

export interface Verdict {
  /** In the emails table (a census address). */
  known: boolean;
  /** Every code that excludes the address, in registry order. */
  codes: ReasonCode[];
  /** The evidence of its offending codes (one line each). */
  evidence: { code: ReasonCode; detail: string | null }[];
}

/** The form the rules match (emails.address): normalized when valid, else Listmonk's lower-case form. */
export function judgedAddress(email: string): string {
  return optOutAddress(email);
}

/**
 * Verdicts of the given addresses (judgedAddress forms) for send date `date`, judged at `now`. One
 * transaction; the engine's temp tables are dropped at its end.
 */
export async function judgeAddresses(db: Kysely<Database>, config: Config, date: string, now: Date, addresses: readonly string[]): Promise<Map<string, Verdict>> {
  const unique = [...new Set(addresses)];
  const out = new Map<string, Verdict>();
  if (!unique.length) return out;
  const domains = unique.map((a) => (a.includes('@') ? a.slice(a.lastIndexOf('@') + 1) : null));
  const order = new Map<string, number>(RULES.map((r, i) => [r.code, i]));
  return db.transaction().execute(async (trx) => {
    await createCandidates(
      trx,
      sql<{ email_id: number; email: string; domain: string }>`
        select coalesce(e.id, -u.ord) as email_id, u.email, coalesce(e.domain, u.domain) as domain
        from unnest(${unique}::text[], ${domains}::text[]) with ordinality as u(email, domain, ord)
        left join emails e on e.address = u.email`,
    );
    await evaluateExclusions(trx, { config, date, now }, RULES);
    const rows = await sql<{ email: string; known: boolean; code: ReasonCode | null; detail: string | null }>`
      select c.email, c.email_id > 0 as known, h.code,
             case when h.code = any(${[...OFFENDING_CODES]}::text[]) then h.detail end as detail
      from pg_temp.candidates c left join pg_temp.exclusion_hits h on h.email_id = c.email_id`.execute(trx);
    for (const r of rows.rows) {
      const v = out.get(r.email) ?? out.set(r.email, { known: r.known, codes: [], evidence: [] }).get(r.email)!;
      if (!r.code) continue;
      if (!v.codes.includes(r.code)) v.codes.push(r.code);
      if (isOffendingCode(r.code) && !v.evidence.some((x) => x.code === r.code)) v.evidence.push({ code: r.code, detail: r.detail });
    }
    for (const v of out.values()) {
      v.codes.sort((a, b) => (order.get(a) ?? 99) - (order.get(b) ?? 99));
      v.evidence.sort((a, b) => (order.get(a.code) ?? 99) - (order.get(b.code) ?? 99));
    }
    return out;
  });
}
