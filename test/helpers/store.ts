/**
 * A fresh, migrated database for one test file, on the backend of the current vitest project:
 * real PostgreSQL (project `pg`) or embedded PGlite (project `pglite`). Closing it drops it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { openStore, type Store } from '../../src/db/store.ts';
import { withDatabase } from './global-setup.ts';

export type TestBackend = 'pg' | 'pglite';

export function testBackend(): TestBackend {
  const b = process.env.AUDIENCE_TEST_BACKEND;
  if (b !== 'pg' && b !== 'pglite') throw new Error('database tests must be named *.db.test.ts (they run in the pg and pglite projects)');
  return b;
}

export interface TestStore extends Store {
  /** The connection URL (pg backend only): for spawning the CLI against the same database. */
  readonly url?: string;
}

/**
 * A fresh database for one test file. `migrated: false` gives an empty one (no migration applied),
 * for tests of what happens before `audience migrate`.
 */
export async function createTestStore(opts: { migrated?: boolean } = {}): Promise<TestStore> {
  const migrated = opts.migrated ?? true;
  if (testBackend() === 'pg') {
    const base = process.env.DATABASE_URL!;
    const name = `audience_t_${inject('testRunId')}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    try {
      await admin.query(migrated ? `create database ${name} template ${inject('pgTemplate')}` : `create database ${name}`);
    } finally {
      await admin.end();
    }
    const url = withDatabase(base, name);
    const store = await openStore({ url, dataDir: '' });
    return {
      ...store,
      url,
      async close() {
        await store.close();
        const a = new pg.Client({ connectionString: base });
        await a.connect();
        await a.query(`drop database if exists ${name} with (force)`).catch(() => {});
        await a.end();
      },
    };
  }
  if (!migrated) return openStore({ dataDir: '', inMemory: true });
  const blob = new Blob([readFileSync(inject('pgliteTemplate'))]);
  return openStore({ dataDir: '', inMemory: true, loadDataDir: blob });
}
