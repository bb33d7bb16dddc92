/**
 * Loading a table in bulk inside one transaction, where a rollback undoes every step:
 * - drop its indexes now and build them again after the load: PostgreSQL's own advice
 *   ("Populating a Database"). Building an index once over millions of keys costs a fraction of
 *   maintaining it on as many random inserts. The definitions are read from the catalog, so an
 *   index a later migration adds is rebuilt too.
 * - truncate it (it is empty) so COPY may write its rows frozen: otherwise the first statement to
 *   read them after the load rewrites every page to set hint bits (seconds for 2M rows).
 * - give the columns that are the same on every row (the run, the file) a default for the load,
 *   so COPY does not parse the same text millions of times.
 */
import { sql, type Transaction } from 'kysely';
import { InternalError } from '../errors.ts';
import type { Database } from './database.ts';

/**
 * Drops every index of `table` (constraint-backed ones through their constraint) and returns the
 * function that creates them again. When another table's foreign key depends on one of them,
 * nothing is dropped and the returned function does nothing.
 */
/** Other tables' foreign keys to `table`: they forbid dropping its keys and truncating it. */
async function referenced(trx: Transaction<Database>, table: string): Promise<boolean> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from pg_constraint where contype = 'f' and confrelid = ${table}::regclass`.execute(trx);
  return Number(r.rows[0]?.n ?? 0) > 0;
}

/**
 * Truncates the (empty) `table` so a COPY in this transaction may use FREEZE; false, doing
 * nothing, when another table references it.
 */
export async function truncateForFreeze(trx: Transaction<Database>, table: string): Promise<boolean> {
  if (await referenced(trx, table)) return false;
  await sql`truncate ${sql.table(table)}`.execute(trx);
  return true;
}

export async function dropIndexesUntilRebuilt(trx: Transaction<Database>, table: string): Promise<() => Promise<void>> {
  if (await referenced(trx, table)) return async () => {};
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

/**
 * Drops the foreign keys `table` holds (to other tables) and returns the function that adds them
 * again, which checks every row in one set-based pass: a load into `table` then fires no
 * per-row trigger, and the table it references may have its own keys dropped and rebuilt meanwhile.
 */
export async function dropForeignKeysUntilRestored(trx: Transaction<Database>, table: string): Promise<() => Promise<void>> {
  const r = await sql<{ conname: string; condef: string }>`
    select conname, pg_get_constraintdef(oid) as condef from pg_constraint where contype = 'f' and conrelid = ${table}::regclass order by conname`.execute(trx);
  for (const x of r.rows) await sql`alter table ${sql.table(table)} drop constraint ${sql.ref(x.conname)}`.execute(trx);
  return async () => {
    for (const x of r.rows) await sql.raw(`alter table ${table} add constraint "${x.conname.replace(/"/g, '""')}" ${x.condef}`).execute(trx);
  };
}

/**
 * Sets the defaults of `values`' columns (SQL literals) until the returned function puts the
 * table's own defaults back.
 */
export async function setDefaultsUntilRestored(trx: Transaction<Database>, table: string, values: Record<string, string | number>): Promise<() => Promise<void>> {
  const r = await sql<{ name: string; def: string | null }>`
    select a.attname as name, pg_get_expr(d.adbin, d.adrelid) as def
      from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where a.attrelid = ${table}::regclass and a.attname = any(${Object.keys(values)}::text[])`.execute(trx);
  const own = new Map(r.rows.map((x) => [x.name, x.def]));
  for (const [column, value] of Object.entries(values)) {
    if (!own.has(column)) throw new InternalError(`${table} has no column ${column}: the bulk load and the migrations disagree.`);
    await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} set default ${sql.lit(value)}`.execute(trx);
  }
  return async () => {
    for (const column of Object.keys(values)) {
      const def = own.get(column);
      if (def) await sql.raw(`alter table ${table} alter column "${column.replace(/"/g, '""')}" set default ${def}`).execute(trx);
      else await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} drop default`.execute(trx);
    }
  };
}
