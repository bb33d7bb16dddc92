/**
 * The counting path over the kept static verdicts (static-verdicts.ts): what judgeDates()
 * (push/eligibility.ts) counts, in one scan of static_links instead of gathering the audience from
 * carriers, carrier_emails and emails and judging every rule over it.
 *
 * - Each link's segment days come from the segments' carrierDays() over the carrier columns kept
 *   beside it; an address listed by several carriers (`shared`) takes the union of its links'.
 * - An address a static rule excludes is excluded on every day (its codes were kept).
 * - The other rules run as they always do, through evaluateExclusionsOnDays(), with
 *   `pg_temp.candidates` a view of every address (emails) and `pg_temp.candidate_domains` one of
 *   every domain (static_domains): a rule's verdict depends on the address alone, so judging more
 *   addresses than the audience changes no verdict on it, and these rules start from small tables
 *   (the ledger's window, suppressions, holds, opt-outs) and probe the addresses by key.
 * Returns null (the caller judges the usual way) when a segment has no carrierDays(), or when
 * several dates need their counts per code.
 *
 * The kept set, the key it is checked against and the run-time rules are read in one snapshot
 * (repeatable read), with the kept tables locked against a concurrent rebuild's truncate (which
 * is not MVCC-safe: an older snapshot would see them empty).
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { tuneSelection } from '../push/session.ts';
import type { Segment } from '../segments/segment.ts';
import { allowlistedAddresses, evaluateExclusionsOnDays, MAX_JUDGED_DAYS } from './engine.ts';
import { REASON_CODES, type ReasonCode } from './reason-codes.ts';
import type { ExclusionRule } from './rule.ts';
import { codeBit, currentKey, keptAt, rebuildStaticVerdicts, staticFingerprint } from './static-verdicts.ts';

export interface StaticCounts {
  /** For each date and segment, its bit in `mask`. */
  bits: bigint[][];
  /** Candidates grouped by the segment bits that list them and the days something excludes them on. */
  groups: { mask: string; days: string; n: number }[];
  /** With one date and `reasons`: how many candidates of each mask each code excludes (days '1'). */
  byCode: { code: ReasonCode; mask: string; days: string; n: number }[];
  /** Whether this call rebuilt the kept set first. */
  rebuilt: boolean;
}

const LINK = 'l';

export async function countFromStaticVerdicts(
  db: Kysely<Database>,
  config: Config,
  segments: readonly Segment[],
  rules: readonly ExclusionRule[],
  dates: readonly string[],
  now: Date,
  reasons: boolean,
): Promise<StaticCounts | null> {
  if (!segments.length || !segments.every((s) => s.carrierDays)) return null;
  if (reasons && dates.length > 1) return null;
  if (dates.length * segments.length > MAX_JUDGED_DAYS) throw new RangeError(`countFromStaticVerdicts: at most ${MAX_JUDGED_DAYS} date × segment evaluations, got ${dates.length} × ${segments.length}`);
  const fingerprint = staticFingerprint(db, config, rules);
  let rebuilt = false;
  // A write between the rebuild and the count makes the set stale again: then once more, and
  // after that the caller's usual path (a census load in progress keeps writing).
  for (let attempt = 0; attempt < 3; attempt++) {
    const counted = await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        await sql`lock table static_verdicts_state, static_links, static_domains in access share mode`.execute(trx);
        if (!(await keptAt(trx, await currentKey(trx, fingerprint)))) return null;
        await tuneSelection(trx);
        return count(trx, config, segments, rules, dates, now, reasons);
      });
    if (counted) return { ...counted, rebuilt };
    if (attempt === 2) break;
    rebuilt = (await rebuildStaticVerdicts(db, config, rules, now, fingerprint)).rebuilt || rebuilt;
  }
  return null;
}

async function count(
  trx: Transaction<Database>,
  config: Config,
  segments: readonly Segment[],
  rules: readonly ExclusionRule[],
  dates: readonly string[],
  now: Date,
  reasons: boolean,
): Promise<Omit<StaticCounts, 'rebuilt'>> {
  const n = dates.length;
  const every = String((1n << BigInt(n)) - 1n);
  const bits = dates.map((_d, i) => segments.map((_s, s) => 1n << BigInt(s * n + i)));
  const ctx = { config, now };

  // The run-time rules over every address and domain (see above), into the engine's hit tables.
  await sql`create temp view candidates as select id as email_id, address as email, domain from emails`.execute(trx);
  await sql`create temp view candidate_domains as select domain, n from static_domains`.execute(trx);
  await evaluateExclusionsOnDays(
    trx,
    ctx,
    rules.filter((r) => !r.static),
    dates,
  );
  await sql`drop view pg_temp.candidate_domains`.execute(trx);
  await sql`drop view pg_temp.candidates`.execute(trx);

  const mask = sql.join(
    segments.map((s, i) => sql`((${s.carrierDays!({ config, date: dates[0]! }, dates, LINK)}) << ${i * n}::int)`),
    sql` | `,
  );
  const allowlist = allowlistedAddresses({ ...ctx, date: dates[0]! });
  const allowed: RawBuilder<boolean> = allowlist.length
    ? sql<boolean>`a.email_id = any(array(select e.id from emails e where e.address = any(${allowlist}::text[])))`
    : sql<boolean>`false`;
  const codes = reasons ? sql`a.codes | coalesce(d.hard_codes, 0) | case when ${allowed} then 0 else coalesce(d.soft_codes, 0) end | coalesce(h.codes, 0)` : sql`0`;
  const rows = (
    await sql<{ mask: string; days: string; codes: number; n: number }>`
      -- Every address, those in no segment on any of the days too (mask 0: the reduction skips
      -- them), so the segment expressions are computed once per row, not again in a filter.
      with a as (
        select ${sql.ref(LINK)}.email_id, ${sql.ref(LINK)}.domain, ${sql.ref(LINK)}.codes, ${mask} as mask
        from static_links ${sql.ref(LINK)} where not ${sql.ref(LINK)}.shared
        union all
        -- An address listed by several carriers: the union of its links' days (codes and domain are the address's).
        select email_id, min(domain), min(codes), bit_or(mask) from (
          select ${sql.ref(LINK)}.email_id, ${sql.ref(LINK)}.domain, ${sql.ref(LINK)}.codes, ${mask} as mask
          from static_links ${sql.ref(LINK)} where ${sql.ref(LINK)}.shared) x
        group by email_id)
      -- Grouped on the numbers, turned to text once per group.
      select mask::text as mask, days::text as days, codes, n from (
      select mask, days, codes, count(*)::int as n from (
        select a.mask,
               case when a.codes <> 0 then ${every}::bigint else 0::bigint end
                 | coalesce(d.hard, 0) | case when ${allowed} then 0 else coalesce(d.soft, 0) end | coalesce(h.days, 0) as days,
               ${codes} as codes
        from a
        left join (select domain, bit_or(days) filter (where not soft) as hard, bit_or(days) filter (where soft) as soft,
                          bit_or(${codeBit(sql`code`)}) filter (where not soft) as hard_codes, bit_or(${codeBit(sql`code`)}) filter (where soft) as soft_codes
                   from pg_temp.domain_day_hits group by domain) d on d.domain = a.domain
        left join (select email_id, bit_or(days) as days, bit_or(${codeBit(sql`code`)}) as codes
                   from pg_temp.exclusion_day_hits group by email_id) h on h.email_id = a.email_id
      ) g
      group by 1, 2, 3) t
      where mask <> 0`.execute(trx)
  ).rows;
  const groups = new Map<string, { mask: string; days: string; n: number }>();
  const byCode = new Map<string, { code: ReasonCode; mask: string; days: string; n: number }>();
  for (const r of rows) {
    const key = `${r.mask}/${r.days}`;
    const g = groups.get(key) ?? groups.set(key, { mask: r.mask, days: r.days, n: 0 }).get(key)!;
    g.n += r.n;
    REASON_CODES.forEach((code, i) => {
      if (((r.codes >> i) & 1) === 0) return;
      const k = `${code}/${r.mask}`;
      const c = byCode.get(k) ?? byCode.set(k, { code, mask: r.mask, days: '1', n: 0 }).get(k)!;
      c.n += r.n;
    });
  }
  return { bits, groups: [...groups.values()], byCode: [...byCode.values()] };
}
