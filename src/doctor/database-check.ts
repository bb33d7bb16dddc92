/**
 * `database`: the store opens within the time box and its schema is this version's: no pending
 * migration (listed by file), none unknown to this code, none edited since it ran. Read-only: an
 * embedded database that does not exist yet is reported, not created.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { migrationStatus } from '../db/migrate.ts';
import { openStore, redactUrl, type Store } from '../db/store.ts';
import { fail, pass, type CheckOutcome } from './check.ts';
import type { DoctorContext } from './context.ts';
import type { CheckSpec } from './run-checks.ts';

export function databaseCheck(ctx: DoctorContext): CheckSpec {
  const { url, dataDir } = ctx.config.database;
  const where = url ? `PostgreSQL ${redactUrl(url)}` : `the embedded database (PGlite) in ${path.resolve(dataDir)}`;
  return {
    name: 'database',
    timeoutFix: url
      ? 'PostgreSQL did not answer in time: check that it runs and that DATABASE_URL names the right host and port (`pg_isready -d "$DATABASE_URL"`).'
      : `the embedded database in ${path.resolve(dataDir)} took too long to open: is another audience process using it? Production runs should set DATABASE_URL to a PostgreSQL server.`,
    release: async (store) => (store as Store).close(),
    async run(): Promise<CheckOutcome> {
      if (!ctx.openStore && !url && !existsSync(path.join(path.resolve(dataDir), 'PG_VERSION')))
        return fail(`no database: ${where} does not exist yet.`, 'run `audience migrate` to create it, or set DATABASE_URL to use a PostgreSQL server.', { backend: 'pglite' });
      let store: Store;
      try {
        store = ctx.openStore
          ? await ctx.openStore()
          : await openStore({ url, dataDir, poolSize: 2, connectTimeoutMs: ctx.timeoutMs, statementTimeoutMs: ctx.timeoutMs });
      } catch (e) {
        return fail(
          `${where} cannot be opened: ${(e as Error).message}`,
          url ? 'start PostgreSQL or correct DATABASE_URL (user, host, port, database), then run `audience doctor` again.' : 'close the other audience process using it, or set DATABASE_URL.',
          { backend: url ? 'pg' : 'pglite' },
        );
      }
      try {
        return await judge(store, where);
      } catch (e) {
        await store.close().catch(() => {});
        throw e;
      }
    },
  };
}

async function judge(store: Store, where: string): Promise<CheckOutcome> {
  const s = await migrationStatus(store.db);
  const data = {
    backend: store.kind,
    applied: s.applied.length,
    pending: s.pending.map((p) => p.file),
    unknown: s.unknown.map((u) => `${u.id}_${u.name}`),
    modified: s.modified.map((m) => `${m.id}_${m.name}`),
  };
  const close = async <T>(o: T) => (await store.close(), o);
  if (s.unknown.length)
    return close(fail(`${where} has migrations this version of audience does not know: ${data.unknown.join(', ')}.`, 'upgrade audience (git pull && npm ci) before running it against this database.', data));
  if (s.modified.length)
    return close(fail(`applied migrations were edited since they ran: ${data.modified.join(', ')}.`, 'restore the landed migration files from git (they must never change); add new migrations instead.', data));
  if (s.pending.length)
    return close(
      fail(
        `${where} is reachable, ${s.applied.length} migration(s) applied, ${s.pending.length} pending: ${data.pending.join(', ')}.`,
        'run `audience migrate` (build, plan, status and explain refuse until then; the nightly scrub applies them too).',
        data,
      ),
    );
  const note =
    store.kind === 'pglite'
      ? 'the embedded database serves one process at a time and psql cannot open it: for the scheduled jobs of deploy/, set DATABASE_URL to a PostgreSQL server.'
      : null;
  return pass(`${where}: reachable, ${s.applied.length} migrations applied, none pending.`, { data, value: store, fix: note });
}
