/**
 * The embedded database's first start: a fresh data dir starts as a copy of the migrated template
 * made at install (src/db/pglite-template.ts), an existing one is never touched, a template of
 * other migrations is never used; and commands in one process (the demo) share one open store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openCommandStore, withStoreSession } from '../src/cli/app.ts';
import { loadConfig } from '../src/config.ts';
import { migrationStatus } from '../src/db/migrate.ts';
import { isFreshDataDir, templateFile, templateFor, writeTemplate } from '../src/db/pglite-template.ts';
import { openStore } from '../src/db/store.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'audience-tpl-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the embedded database template', () => {
  const cache = path.join(tmp, 'cache');

  it('is made once; a fresh data dir starts from it migrated, and two copies are independent', { timeout: 120_000 }, async () => {
    const first = await writeTemplate(cache);
    expect(first.made).toBe(true);
    expect(first.file).toBe(templateFile(cache));
    expect((await writeTemplate(cache)).made).toBe(false);

    const a = path.join(tmp, 'a');
    expect(isFreshDataDir(a)).toBe(true);
    const blob = templateFor(a, cache);
    expect(blob).not.toBeNull();
    const store = await openStore({ dataDir: a, loadDataDir: blob! });
    try {
      const s = await migrationStatus(store.db);
      expect(s.pending).toEqual([]);
      expect(s.applied.length).toBeGreaterThan(10);
      await sql`insert into suppressions (kind, value, reason, source, evidence, first_seen, last_seen)
        values ('address', 'x@a.test', 'recipient_invalid', 'operator', '{}'::jsonb, now(), now())`.execute(store.db);
    } finally {
      await store.close();
    }
    // Now a database: never replaced by the template again.
    expect(isFreshDataDir(a)).toBe(false);
    expect(templateFor(a, cache)).toBeNull();

    const b = path.join(tmp, 'b');
    const other = await openStore({ dataDir: b, loadDataDir: templateFor(b, cache)! });
    try {
      const n = await sql<{ n: number }>`select count(*)::int as n from suppressions`.execute(other.db);
      expect(n.rows[0]!.n).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('a template made for other migrations or another PGlite is not used', () => {
    const file = templateFile(cache)!;
    expect(path.basename(file)).toMatch(/^pglite-[0-9a-f]{16}\.tar\.gz$/);
    expect(templateFor(path.join(tmp, 'c'), path.join(tmp, 'empty-cache'))).toBeNull();
  });
});

describe('a store session', () => {
  it('gives commands in one process one open store, closed when the session ends', { timeout: 120_000 }, async () => {
    const config = loadConfig({ env: { AUDIENCE_DATA_DIR: path.join(tmp, 'session') }, cwd: tmp });
    let kept: Awaited<ReturnType<typeof openCommandStore>>['store'] | null = null;
    await withStoreSession(async () => {
      const one = await openCommandStore(config, openStore);
      const two = await openCommandStore(config, openStore);
      expect(two.store).toBe(one.store);
      await one.release();
      // Released by a command, still open for the next one.
      expect((await sql<{ x: number }>`select 1 as x`.execute(two.store.db)).rows).toEqual([{ x: 1 }]);
      kept = two.store;
    });
    await expect(sql`select 1`.execute(kept!.db)).rejects.toThrow();
    // Outside a session each command has its own, closed by its release.
    const own = await openCommandStore(config, openStore);
    await own.release();
    await expect(sql`select 1`.execute(own.store.db)).rejects.toThrow();
  });
});
