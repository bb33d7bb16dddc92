/**
 * sql/schema.sql is the schema the migrations produce (scripts/dump-schema.mjs), checked in for
 * reading: a migration that lands without regenerating it fails here, with the command to run.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('sql/schema.sql', () => {
  it('is what the migrations in sql/ produce', () => {
    const r = spawnSync(process.execPath, ['scripts/dump-schema.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' });
    // On a difference the script says: run node scripts/dump-schema.mjs.
    expect(r.stderr.trim(), r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 180_000);
});
