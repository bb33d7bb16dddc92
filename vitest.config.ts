import { defineConfig } from 'vitest/config';

/**
 * Three projects: `unit` (no database), and the database tests (*.db.test.ts) run twice — on the
 * real PostgreSQL when DATABASE_URL is set (CI sets it), and always on embedded PGlite, since that
 * is what users get by default. Each database test file gets its own fresh, migrated database.
 */
const dbTests = ['test/**/*.db.test.ts'];
const withPg = Boolean(process.env.DATABASE_URL);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // PGlite holds ~400 MB per test file; two cores here.
    maxWorkers: 2,
    projects: [
      { extends: true as const, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: dbTests, globalSetup: ['test/helpers/build-dist.ts'] } },
      ...(withPg
        ? [{ extends: true as const, test: { name: 'pg', include: dbTests, env: { AUDIENCE_TEST_BACKEND: 'pg' }, globalSetup: ['test/helpers/build-dist.ts', 'test/helpers/global-setup.ts'] } }]
        : []),
      { extends: true as const, test: { name: 'pglite', include: dbTests, env: { AUDIENCE_TEST_BACKEND: 'pglite' }, globalSetup: ['test/helpers/build-dist.ts', 'test/helpers/global-setup.ts'] } },
    ],
  },
});
