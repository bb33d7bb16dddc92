/**
 * The embedded database's first start, made cheap. Creating a PGlite data dir runs initdb inside
 * WebAssembly, then every migration: about 4 s and 900 MB of memory on a quiet 2-core machine,
 * paid by a new user's first command (`npm run demo` creates a fresh one every time). A migrated,
 * empty database is made once instead, at install (npm ci runs scripts/build.mjs, which runs
 * pglite-template-main.ts), and a fresh data dir starts as a copy of it (PGlite's loadDataDir).
 *
 * The template is keyed by the PGlite version and every migration's checksum: after an upgrade
 * that adds a migration, or a PGlite that writes another format, no template matches and the
 * database is created as before (then the migrations run as usual). It lives in
 * node_modules/.cache, which `npm ci` starts empty. Only a data dir that does not exist yet (no
 * PG_VERSION) is ever started from it; an existing database is never touched.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../paths.ts';
import { listMigrations } from './migrate.ts';

const CACHE_DIR = path.join(PACKAGE_ROOT, 'node_modules', '.cache', 'audience');

/** The template's file for this PGlite and this set of migrations, or null when PGlite's version cannot be read. */
export function templateFile(dir = CACHE_DIR): string | null {
  let version: string;
  try {
    version = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
  const h = createHash('sha256').update(`pglite ${version}\n`);
  for (const m of listMigrations()) h.update(`${m.file} ${m.checksum}\n`);
  return path.join(dir, `pglite-${h.digest('hex').slice(0, 16)}.tar.gz`);
}

/** Whether `dataDir` holds no database yet (PGlite writes PG_VERSION when it creates one). */
export function isFreshDataDir(dataDir: string): boolean {
  return !existsSync(path.join(dataDir, 'PG_VERSION'));
}

/** The template to start a fresh `dataDir` from, or null (an existing database, or no matching template). */
export function templateFor(dataDir: string, dir = CACHE_DIR): Blob | null {
  if (!isFreshDataDir(dataDir)) return null;
  const file = templateFile(dir);
  if (!file || !existsSync(file)) return null;
  return new Blob([readFileSync(file)]);
}

/** Makes the template (an in-memory database, migrated, dumped) unless it exists; returns its file. */
export async function writeTemplate(dir = CACHE_DIR): Promise<{ file: string; made: boolean }> {
  const file = templateFile(dir);
  if (!file) throw new Error('cannot read the version of @electric-sql/pglite: is it installed?');
  if (existsSync(file)) return { file, made: false };
  const [{ openStore }, { migrate }] = await Promise.all([import('./store.ts'), import('./migrate.ts')]);
  const store = await openStore({ dataDir: '', inMemory: true });
  try {
    await migrate(store);
    const dump = await store.dumpDataDir!();
    mkdirSync(dir, { recursive: true });
    // Written beside and renamed: a command starting meanwhile sees the whole template or none.
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, file);
  } finally {
    await store.close();
  }
  return { file, made: true };
}
