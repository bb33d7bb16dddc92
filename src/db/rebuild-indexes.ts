/**
 * Drop a table's indexes now, build them again later, inside one transaction: PostgreSQL's own
 * advice for populating a table in bulk ("Populating a Database": remove indexes, load, create
 * them). Building an index once over millions of keys costs a fraction of maintaining it on as
 * many random inserts. The definitions are read from the catalog, so an index a later migration
 * adds is rebuilt too, and a rollback restores everything.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from './database.ts';

/**
 * Drops every index of `table` (constraint-backed ones through their constraint) and returns the
 * function that creates them again. When another table's foreign key depends on one of them,
 * nothing is dropped and the returned function does nothing.
 */
export async function dropIndexesUntilRebuilt(trx: Transaction<Database>, table: string): Promise<() => Promise<void>> {
  const referenced = await sql<{ n: number }>`
    select count(*)::int as n from pg_constraint where contype = 'f' and confrelid = ${table}::regclass`.execute(trx);
  if (Number(referenced.rows[0]?.n ?? 0) > 0) return async () => {};
  const r = await sql<{ index: string; indexdef: string; conname: string | null; condef: string | null }>`
    select i.indexrelid::regclass::text as index, pg_get_indexdef(i.indexrelid) as indexdef,
           c.conname, pg_get_constraintdef(c.oid) as condef
      from pg_index i
      left join pg_constraint c on c.conindid = i.indexrelid and c.conrelid = i.indrelid and c.contype in ('p', 'u', 'x')
     where i.indrelid = ${table}::regclass
     order by c.conname nulls last, 1`.execute(trx);
  for (const x of r.rows) {
    if (x.conname) await sql`alter table ${sql.table(table)} drop constraint ${sql.ref(x.conname)}`.execute(trx);
    else await sql.raw(`drop index ${x.index}`).execute(trx);
  }
  return async () => {
    for (const x of r.rows) {
      if (x.conname) await sql.raw(`alter table ${table} add constraint "${x.conname.replace(/"/g, '""')}" ${x.condef}`).execute(trx);
      else await sql.raw(x.indexdef).execute(trx);
    }
  };
}
