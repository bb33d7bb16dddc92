/**
 * The commit of a census ingest, in set-based SQL inside the run's one transaction: rejects into
 * census_rejects, typed rows merged into carriers keyed by DOT number (only rows whose row_hash
 * changed are written, so a re-run writes nothing), and with --snapshot the deactivation of
 * carriers the file no longer lists (never a delete).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { FIELDS, type CarrierField, type CensusFormatId } from './formats.ts';
import { CARRIER_VALUE_COLUMNS } from './typing.ts';
import type { ScratchTables } from './staging.ts';

type Executor = Kysely<Database> | Transaction<Database>;

export interface MergeCounts {
  inserted: number;
  updated: number;
}

export async function storeRejects(db: Executor, runId: number, file: string, t: ScratchTables): Promise<number> {
  const r = await sql`
    insert into census_rejects (run_id, file, line_no, reason, raw)
    select ${runId}, ${file}, line_no, reject, raw from (
      select line_no, reject, coalesce(raw, '') as raw from ${sql.table(t.staging)} where reject is not null
      union all
      select line_no, reject, coalesce(raw, '') from ${sql.table(t.typed)} where reject is not null
    ) r order by line_no`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function mergeCarriers(
  db: Executor,
  o: { runId: number; file: string; format: CensusFormatId; typed: string; now: Date },
): Promise<MergeCounts> {
  const values = CARRIER_VALUE_COLUMNS.join(', ');
  const updates = [...(Object.keys(FIELDS) as CarrierField[]), 'data_flags', 'is_test_record', 'source_format', 'source_file', 'source_line', 'row_hash', 'changed_run_id', 'updated_at']
    .map((c) => `${c} = excluded.${c}`)
    .join(', ');
  const r = await sql<{ inserted: number; updated: number }>`
    with m as (
      insert into carriers as c (dot_number, ${sql.raw(values)}, source_format, source_file, source_line, row_hash,
                                 first_run_id, changed_run_id, created_at, updated_at, deactivated_at)
      select dot_number, ${sql.raw(values)}, ${o.format}, ${o.file}, line_no, row_hash,
             ${o.runId}, ${o.runId}, ${o.now}, ${o.now}, case when status = 'inactive' then ${o.now}::timestamptz end
        from ${sql.table(o.typed)}
       where reject is null
      on conflict (dot_number) do update set ${sql.raw(updates)},
        deactivated_at = case when excluded.status = 'inactive' then coalesce(c.deactivated_at, excluded.updated_at) end
      where c.row_hash is distinct from excluded.row_hash
      returning (xmax = 0) as ins
    )
    select (count(*) filter (where ins))::int as inserted, (count(*) filter (where not ins))::int as updated from m`.execute(db);
  return { inserted: Number(r.rows[0]?.inserted ?? 0), updated: Number(r.rows[0]?.updated ?? 0) };
}

/**
 * --snapshot: carriers listed nowhere in the file become inactive. A carrier whose line was
 * rejected for a bad value is still listed, so it is left alone. The row_hash changes with the
 * status, so the carrier's reappearance in a later file counts as an update that reactivates it.
 */
export async function deactivateAbsent(db: Executor, o: { runId: number; typed: string; now: Date }): Promise<number> {
  const r = await sql`
    update carriers c
       set status = 'inactive', deactivated_at = ${o.now}, updated_at = ${o.now}, changed_run_id = ${o.runId},
           row_hash = md5(c.row_hash || ':deactivated')
     where c.status <> 'inactive'
       and not exists (select 1 from ${sql.table(o.typed)} t where t.dot_number = c.dot_number)`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
