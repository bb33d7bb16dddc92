import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMigrated, listMigrations, migrate, migrationStatus } from '../src/db/migrate.ts';
import { SafetyGateError } from '../src/errors.ts';
import { createTestStore, testBackend, type TestStore } from './helpers/store.ts';
import { openStore } from '../src/db/store.ts';

describe('migrations', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  it('the template is fully migrated and a second migrate does no harm', async () => {
    const s = await migrationStatus(store.db);
    expect(s.pending).toEqual([]);
    expect(s.applied.map((a) => a.id)).toEqual(listMigrations().map((m) => m.id));
    expect(await migrate(store)).toEqual([]);
  });

  it('refuses to run when the database knows a migration the code does not', async () => {
    await store.db.insertInto('audience_migrations').values({ id: 9999, name: 'from_the_future', checksum: 'x' }).execute();
    await expect(ensureMigrated(store, { apply: true })).rejects.toBeInstanceOf(SafetyGateError);
    await store.db.deleteFrom('audience_migrations').where('id', '=', 9999).execute();
  });

  it('refuses when a landed migration was edited', async () => {
    await store.db.updateTable('audience_migrations').set({ checksum: 'edited' }).where('id', '=', 1).execute();
    await expect(ensureMigrated(store, { apply: true })).rejects.toThrow(/edited/);
    const first = listMigrations()[0]!;
    await store.db.updateTable('audience_migrations').set({ checksum: first.checksum }).where('id', '=', 1).execute();
  });

  it('an empty database refuses readers with the command that fixes it, and concurrent migrators both succeed', async () => {
    if (testBackend() !== 'pg') {
      const fresh = await openStore({ dataDir: '', inMemory: true });
      try {
        await expect(ensureMigrated(fresh, { apply: false })).rejects.toThrow(/audience migrate/);
        expect((await ensureMigrated(fresh, { apply: true })).length).toBe(listMigrations().length);
      } finally {
        await fresh.close();
      }
      return;
    }
    // A second database on the same server, migrated by several processes' worth of pools at once.
    const base = new URL(store.url!);
    const name = `${base.pathname.slice(1)}_fresh`;
    await sql.raw(`create database ${name}`).execute(store.db);
    base.pathname = '/' + name;
    const stores = await Promise.all([1, 2, 3, 4].map(() => openStore({ url: base.toString(), dataDir: '' })));
    try {
      await expect(ensureMigrated(stores[0]!, { apply: false })).rejects.toThrow(/audience migrate/);
      const results = await Promise.all(stores.map((s) => migrate(s)));
      expect(results.flat().sort()).toEqual(listMigrations().map((m) => m.file).sort());
      expect((await migrationStatus(stores[0]!.db)).pending).toEqual([]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await sql.raw(`drop database if exists ${name} with (force)`).execute(store.db);
    }
  });
});
