/**
 * Forward-only SQL migrations from sql/NNNN_name.sql. Each file runs in its own transaction under a
 * transaction-level advisory lock, and its ledger row is written in that same transaction: two
 * processes migrating at once serialize on the lock, and the second finds the work done.
 * Migrations never import application code: they are frozen in time.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { InternalError, SafetyGateError } from '../errors.ts';
import { PACKAGE_ROOT } from '../paths.ts';
import type { Database } from './database.ts';
import type { Store } from './store.ts';

export const SQL_DIR = path.join(PACKAGE_ROOT, 'sql');
const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const LOCK_KEY = 'audience:migrate';

export interface MigrationFile {
  id: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export function listMigrations(dir = SQL_DIR): MigrationFile[] {
  // schema.sql is the generated dump of what the migrations produce (scripts/dump-schema.mjs), not one.
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql') && f !== 'schema.sql').sort();
  const out: MigrationFile[] = [];
  for (const f of files) {
    const m = FILE_RE.exec(f);
    if (!m) throw new InternalError(`sql/${f}: migration files must be named NNNN_lower_snake.sql`);
    const text = readFileSync(path.join(dir, f), 'utf8');
    out.push({ id: Number(m[1]), name: m[2]!, file: f, sql: text, checksum: createHash('sha256').update(text).digest('hex').slice(0, 16) });
  }
  out.forEach((mf, i) => {
    if (mf.id !== i + 1) throw new InternalError(`sql/${mf.file}: migration numbers must run 0001, 0002, ... without gaps`);
  });
  return out;
}

async function ensureLedger(db: Kysely<Database>): Promise<void> {
  await sql`create table if not exists audience_migrations (
      id integer primary key, name text not null, checksum text not null,
      applied_at timestamptz not null default now())`.execute(db);
}

async function appliedRows(db: Kysely<Database>) {
  const exists = await sql<{ t: string | null }>`select to_regclass('audience_migrations')::text as t`.execute(db);
  if (!exists.rows[0]?.t) return [];
  return db.selectFrom('audience_migrations').selectAll().orderBy('id').execute();
}

export interface MigrationStatus {
  applied: { id: number; name: string }[];
  pending: MigrationFile[];
  /** Migrations in the database that this code does not know: the database is newer than the code. */
  unknown: { id: number; name: string }[];
  /** Applied migrations whose file changed since: someone edited a landed migration. */
  modified: { id: number; name: string }[];
}

export async function migrationStatus(db: Kysely<Database>, files = listMigrations()): Promise<MigrationStatus> {
  const rows = await appliedRows(db);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const known = new Set(files.map((f) => f.id));
  return {
    applied: rows.filter((r) => known.has(r.id)).map((r) => ({ id: r.id, name: r.name })),
    pending: files.filter((f) => !byId.has(f.id)),
    unknown: rows.filter((r) => !known.has(r.id)).map((r) => ({ id: r.id, name: r.name })),
    modified: files.filter((f) => byId.has(f.id) && byId.get(f.id)!.checksum !== f.checksum).map((f) => ({ id: f.id, name: f.name })),
  };
}

/** Applies every pending migration, in order. Returns the names applied by this call. */
export async function migrate(store: Store, files = listMigrations()): Promise<string[]> {
  const db = store.db;
  await ensureLedger(db).catch(async (e) => {
    // Two processes creating the ledger at once: one wins, the other sees a duplicate and retries.
    if (!(await appliedRows(db).then(() => true, () => false))) throw e;
  });
  const done: string[] = [];
  for (const f of files) {
    const applied = await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${LOCK_KEY}))`.execute(trx);
      const row = await trx.selectFrom('audience_migrations').select(['id', 'checksum']).where('id', '=', f.id).executeTakeFirst();
      if (row) return false;
      await store.runScript(trx, f.sql);
      await trx.insertInto('audience_migrations').values({ id: f.id, name: f.name, checksum: f.checksum }).execute();
      return true;
    });
    if (applied) done.push(f.file);
  }
  return done;
}

/** What every command but `migrate` calls first: apply pending migrations, or refuse with the fix. */
export async function ensureMigrated(store: Store, opts: { apply: boolean }): Promise<string[]> {
  const status = await migrationStatus(store.db);
  if (status.unknown.length)
    throw new SafetyGateError(
      'schema',
      `the database has migrations this version of audience does not know (${status.unknown.map((u) => `${u.id}_${u.name}`).join(', ')}). Upgrade audience (git pull && npm ci) before running it against this database.`,
    );
  if (status.modified.length)
    throw new SafetyGateError(
      'schema',
      `applied migrations were edited since they ran (${status.modified.map((u) => `${u.id}_${u.name}`).join(', ')}). Landed migrations must never change: restore them and add a new migration instead.`,
    );
  if (!status.pending.length) return [];
  if (!opts.apply)
    throw new SafetyGateError(
      'migrations',
      `${status.pending.length} database migration(s) pending (${status.pending.map((p) => p.file).join(', ')}). Run \`audience migrate\` first.`,
    );
  return migrate(store);
}
