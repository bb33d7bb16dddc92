/**
 * The commit of a census ingest, in set-based SQL inside the run's one transaction: rejects into
 * census_rejects, typed rows merged into carriers keyed by DOT number (only carriers whose loaded
 * columns changed are written, so a re-run writes nothing), and with --snapshot the deactivation of
 * carriers the file no longer lists (never a delete).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { CarrierField } from '../email/batch.ts';
import { fieldToNormalize } from '../email/changed-carriers.ts';
import type { CensusFormatId } from './formats.ts';
import { CARRIER_VALUE_COLUMNS } from './typed-columns.ts';

type Executor = Kysely<Database> | Transaction<Database>;
type Returned = { dot_number: string | number; email_raw: string | null; to_normalize: boolean };

export interface MergeCounts {
  inserted: number;
  updated: number;
  /** Rows of an older file left out because the stored MCS-150 date is as new or newer. */
  keptNewer: number;
  /**
   * A refresh's (leftOut given): the carriers updated or inserted whose e-mail field is not the one
   * normalized, with that field, for the normalize next (src/email/changed-carriers.ts); else null.
   */
  fieldChanged: CarrierField[] | null;
}

export async function storeRejects(db: Executor, runId: number, file: string, typed: string): Promise<number> {
  const r = await sql`
    insert into census_rejects (run_id, file, line_no, reason, raw)
    select ${runId}, ${file}, line_no, reject, coalesce(raw, '')
      from ${sql.table(typed)} where reject is not null
     order by line_no`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Update-then-insert rather than INSERT ... ON CONFLICT: the ingest holds the stage lock and is the
 * only writer of carriers, and a plain bulk INSERT skips the speculative insertion ON CONFLICT
 * pays on every row. The update joins on the primary key and writes only carriers whose loaded
 * columns differ, so a re-run writes nothing.
 *
 * Both joins are merge joins over the two DOT-number indexes (carriers' key, the typed table's
 * index): a hash join of two million wide rows spills to temp files in batches whatever work_mem
 * allows, and the planner, costing the index scans as random reads, picks it anyway. Measured on
 * 2.1M unchanged carriers: update 10 s -> 6 s, insert 3.7-6.9 s -> 1.6 s. Census files come in
 * DOT-number order, so both index scans read their heaps in order.
 */
export async function mergeCarriers(
  /** The run's merge transaction: the join settings below are local to it. */
  db: Transaction<Database>,
  o: {
    runId: number;
    file: string;
    format: CensusFormatId;
    typed: string;
    now: Date;
    /**
     * The file is older than the data loaded (within census.olderToleranceDays, or let through by
     * --allow-older; see freshness.ts): a
     * carrier's row is replaced only by a newer MCS-150 filing than the stored one. The filing is
     * what carries the e-mail and addresses, so an older row's are older too.
     */
    older?: boolean;
    /**
     * Good rows of the file left out of `typed` because they equal their carrier's (staging.ts),
     * or null when every row is in `typed`.
     */
    leftOut?: number | null;
    /**
     * With leftOut: how many staged rows may equal their carrier's values (RefreshWriter.mayEqual);
     * 0 skips the digest-only update, which could match none of them.
     */
    mayEqual?: number;
  },
): Promise<MergeCounts> {
  const values = CARRIER_VALUE_COLUMNS.join(', ');
  const set = CARRIER_VALUE_COLUMNS.map((c) => `${c} = t.${c}`).join(', ');
  const changed = `(${CARRIER_VALUE_COLUMNS.map((c) => `c.${c}`).join(', ')}) is distinct from (${CARRIER_VALUE_COLUMNS.map((c) => `t.${c}`).join(', ')})`;
  const newerFiling = sql`t.mcs150_date is not null and (c.mcs150_date is null or t.mcs150_date > c.mcs150_date)`;
  // The merge joins of the comment above are for a typed table of the whole file. Holding only the
  // rows that differ (a refresh: a few percent of the carriers), it is probed into carriers' key
  // instead: left to itself the planner still merge-joined, walking all of carriers' key and heap
  // once per statement (1.1-1.3 s each on 2.1M carriers, for 84k rows probed in 0.1-0.3 s).
  const refresh = o.leftOut != null;
  await sql`set local enable_hashjoin = off`.execute(db);
  if (refresh) await sql`set local enable_mergejoin = off`.execute(db);
  let keptNewer = 0;
  if (o.older) {
    const k = await sql<{ n: number }>`
      select count(*)::bigint as n from ${sql.table(o.typed)} t join carriers c on c.dot_number = t.dot_number
       where t.reject is null and not (${newerFiling})`.execute(db);
    // A row left out equals its carrier's: its MCS-150 date is not newer, so the carrier is kept.
    keptNewer = Number(k.rows[0]?.n ?? 0) + (o.leftOut ?? 0);
  }
  const updated = await sql`
    update carriers c
       set ${sql.raw(set)}, row_hash = t.row_hash, line_hash = t.line_hash, source_format = ${o.format}, source_file = ${o.file}, source_line = t.line_no,
           changed_run_id = ${o.runId}, updated_at = ${o.now},
           deactivated_at = case when t.status = 'inactive' then coalesce(c.deactivated_at, ${o.now}::timestamptz) end
      from ${sql.table(o.typed)} t
     where t.reject is null and c.dot_number = t.dot_number and ${sql.raw(changed)}
       and ${o.older ? newerFiling : sql`true`}
    ${refresh ? sql`returning c.dot_number, c.email_raw, ${fieldToNormalize('c')} as to_normalize` : sql``}`.execute(db);
  // A carrier whose values are the file's but whose digests are missing or other (loaded before
  // row_hash or line_hash, its line spelled otherwise, typed by other rules): only its digests are
  // written, so the next refresh leaves it out. Not a change of the carrier: no run or time moves.
  if (!refresh || o.mayEqual !== 0)
    await sql`
    update carriers c set row_hash = t.row_hash, line_hash = t.line_hash
      from ${sql.table(o.typed)} t
     where t.reject is null and c.dot_number = t.dot_number and (c.row_hash, c.line_hash) is distinct from (t.row_hash, t.line_hash)
       and not ${sql.raw(changed)}`.execute(db);
  const inserted = await sql`
    insert into carriers (dot_number, ${sql.raw(values)}, row_hash, line_hash, source_format, source_file, source_line,
                          first_run_id, changed_run_id, created_at, updated_at, deactivated_at)
    select dot_number, ${sql.raw(values)}, row_hash, line_hash, ${o.format}, ${o.file}, line_no,
           ${o.runId}, ${o.runId}, ${o.now}, ${o.now}, case when status = 'inactive' then ${o.now}::timestamptz end
      from ${sql.table(o.typed)} t
     where t.reject is null and not exists (select 1 from carriers c where c.dot_number = t.dot_number)
    ${refresh ? sql`returning carriers.dot_number, carriers.email_raw, ${fieldToNormalize('carriers')} as to_normalize` : sql``}`.execute(db);
  let fieldChanged: CarrierField[] | null = null;
  if (refresh) {
    const rows = [...(updated.rows as Returned[]), ...(inserted.rows as Returned[])];
    fieldChanged = rows
      .filter((r) => r.to_normalize)
      .map((r) => ({ dot_number: Number(r.dot_number), email_raw: r.email_raw }))
      .sort((a, b) => a.dot_number - b.dot_number);
  }
  const count = (r: typeof updated) => (refresh ? r.rows.length : Number(r.numAffectedRows ?? 0));
  return { inserted: count(inserted), updated: count(updated), keptNewer, fieldChanged };
}

/**
 * --snapshot: carriers listed nowhere in the file become inactive. A carrier whose line was
 * rejected for a bad value is still listed, so it is left alone. Its reappearance in a later file
 * differs in status, so the merge updates (reactivates) it: its row_hash and line_hash are cleared
 * here, since they were of its row as active and the same line coming back must not be left out.
 *
 * `gone`: the DOT numbers the scan found listed nowhere, when it left unchanged rows out of
 * `typed` (staging.ts); else the anti-join of carriers with `typed` finds them.
 */
export async function deactivateAbsent(db: Executor, o: { runId: number; typed: string; gone: number[] | null; now: Date }): Promise<number> {
  const absent = o.gone
    ? sql`c.dot_number = any(${o.gone}::bigint[])`
    : sql`not exists (select 1 from ${sql.table(o.typed)} t where t.dot_number = c.dot_number)`;
  const r = await sql`
    update carriers c
       set status = 'inactive', row_hash = null, line_hash = null, deactivated_at = ${o.now}, updated_at = ${o.now}, changed_run_id = ${o.runId}
     where c.status <> 'inactive' and ${absent}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
