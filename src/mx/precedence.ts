/**
 * Which verdict of a domain wins when two meet: a new observation (a DNS check or an imported
 * line) and the stored row, or two lines of one import file. The one rule, everywhere:
 *
 * 1. The later `checked_at` wins: both are observations of the DNS at a time, and the DNS of a
 *    domain is what it was last seen to be. Live DNS and imports compete on that time alone, so an
 *    old snapshot never overwrites a newer check, and a newer snapshot updates an older check.
 *    (An import line observed after the importing run's clock is rejected: src/mx/csv.ts.)
 * 2. At the same `checked_at`, by verdict: dead > deliverable > unresolvable > unknown. An answer
 *    beats the absence of one (a streak of failures, a single failure); between two answers that
 *    disagree, dead wins because mailing a dead domain costs reputation, and the dead verdict is
 *    checked again after mx.deadRecheckHours anyway.
 * 3. Same time and verdict: live DNS (source `dns`) beats an import: it is this installation's own
 *    observation, through the resolver it trusts.
 * 4. A full tie keeps what came first: the stored row (re-importing a file changes nothing), or,
 *    between lines of one file, the earlier line.
 */
import { sql, type RawBuilder } from 'kysely';

/** (checked_at, verdict rank, source rank) of the row `alias`: greater wins. */
export function precedenceKey(alias: string): RawBuilder<unknown> {
  const col = (c: string) => sql.ref(`${alias}.${c}`);
  return sql`(${col('checked_at')},
    case ${col('verdict')} when 'dead' then 3 when 'deliverable' then 2 when 'unresolvable' then 1 else 0 end,
    case ${col('source')} when 'dns' then 1 else 0 end)`;
}

/** True when the row `incoming` wins over the row `stored` (strictly: a tie keeps the stored one). */
export function wins(incoming: string, stored: string): RawBuilder<boolean> {
  return sql<boolean>`${precedenceKey(incoming)} > ${precedenceKey(stored)}`;
}
