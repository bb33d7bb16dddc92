/**
 * Migrates one template database per test run, so each test file can start from a fresh copy in
 * about a second instead of migrating (PostgreSQL: CREATE DATABASE ... TEMPLATE; PGlite: a dumped
 * data dir loaded in memory).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/db/migrate.ts';
import { writeTemplate } from '../../src/db/pglite-template.ts';
import { openStore } from '../../src/db/store.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgTemplate: string;
    pgliteTemplate: string;
    testRunId: string;
  }
}

export default async function setup(project: TestProject) {
  const backend = project.config.env?.AUDIENCE_TEST_BACKEND;
  const runId = `${process.pid}_${randomBytes(3).toString('hex')}`;
  project.provide('testRunId', runId);

  if (backend === 'pg') {
    const url = process.env.DATABASE_URL!;
    const template = `audience_tpl_${runId}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${template}`);
    const store = await openStore({ url: withDatabase(url, template), dataDir: '' });
    await migrate(store);
    await store.close();
    project.provide('pgTemplate', template);
    return async () => {
      // Drop this run's template and any per-file database left by a crashed worker.
      const left = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1 or datname = $2`, [`audience_t_${runId}_%`, template]);
      for (const { datname } of left.rows) await admin.query(`drop database if exists ${datname} with (force)`).catch(() => {});
      await admin.end();
    };
  }

  // The product's own template (src/db/pglite-template.ts), made for this run in a folder of its own.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'audience-tpl-'));
  const { file } = await writeTemplate(dir);
  project.provide('pgliteTemplate', file);
  return () => rmSync(dir, { recursive: true, force: true });
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}
