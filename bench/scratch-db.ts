/**
 * A scratch PostgreSQL database for a benchmark, beside the one DATABASE_URL names (default: this
 * machine's postgres://postgres@127.0.0.1:5432/test), dropped when the bench ends.
 */
import pg from 'pg';

export const BENCH_BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = '/' + db;
  return u.toString();
}

/**
 * With `reuse`, an existing database of that name is kept as it is and not dropped at the end
 * (BENCH_KEEP_DB: iterate on a bench without generating its data again); `existed` says which.
 */
export async function scratchDatabase(name: string, o: { reuse?: boolean } = {}): Promise<{ url: string; existed: boolean; drop: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: BENCH_BASE_URL });
  await admin.connect();
  const existed = (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
  if (existed && !o.reuse) await admin.query(`drop database ${name} with (force)`);
  if (!existed || !o.reuse) await admin.query(`create database ${name}`);
  return {
    url: withDatabase(BENCH_BASE_URL, name),
    existed: existed && !!o.reuse,
    drop: async () => {
      if (!o.reuse) await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
