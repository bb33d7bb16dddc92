/**
 * The commit of a census ingest, in set-based SQL inside the run's one transaction: rejects into
 * census_rejects, typed rows merged into carriers keyed by DOT number (only carriers whose loaded
 * columns changed are written, so a re-run writes nothing), and with --snapshot the deactivation of
 * carriers the file no longer lists (never a delete).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { CensusFormatId } from './formats.ts';
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
  const updates = [...CARRIER_VALUE_COLUMNS, 'source_format', 'source_file', 'source_line', 'changed_run_id', 'updated_at'].map((c) => `${c} = excluded.${c}`).join(', ');
  // A carrier is written only when a loaded column differs: a re-run writes nothing.
  const changed = `(${CARRIER_VALUE_COLUMNS.map((c) => `c.${c}`).join(', ')}) is distinct from (${CARRIER_VALUE_COLUMNS.map((c) => `excluded.${c}`).join(', ')})`;
  const r = await sql<{ inserted: number; updated: number }>`
    with m as (
      insert into carriers as c (dot_number, ${sql.raw(values)}, source_format, source_file, source_line,
                                 first_run_id, changed_run_id, created_at, updated_at, deactivated_at)
      select dot_number, ${sql.raw(values)}, ${o.format}, ${o.file}, line_no,
             ${o.runId}, ${o.runId}, ${o.now}, ${o.now}, case when status = 'inactive' then ${o.now}::timestamptz end
        from ${sql.table(o.typed)}
       where reject is null
      on conflict (dot_number) do update set ${sql.raw(updates)},
        deactivated_at = case when excluded.status = 'inactive' then coalesce(c.deactivated_at, excluded.updated_at) end
      where ${sql.raw(changed)}
      returning (xmax = 0) as ins
    )
    select (count(*) filter (where ins))::int as inserted, (count(*) filter (where not ins))::int as updated from m`.execute(db);
  return { inserted: Number(r.rows[0]?.inserted ?? 0), updated: Number(r.rows[0]?.updated ?? 0) };
}

/**
 * --snapshot: carriers listed nowhere in the file become inactive. A carrier whose line was
 * rejected for a bad value is still listed, so it is left alone. Its reappearance in a later file
 * differs in status, so the merge updates (reactivates) it.
 */
export async function deactivateAbsent(db: Executor, o: { runId: number; typed: string; now: Date }): Promise<number> {
  const r = await sql`
    update carriers c
       set status = 'inactive', deactivated_at = ${o.now}, updated_at = ${o.now}, changed_run_id = ${o.runId}
     where c.status <> 'inactive'
       and not exists (select 1 from ${sql.table(o.typed)} t where t.dot_number = c.dot_number)`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
