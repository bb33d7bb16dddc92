#!/usr/bin/env node
// Lint for sql/: names NNNN_lower_snake.sql numbered without gaps, and landed migrations never
// edited. sql/landed.sha256 lists the checksum of every migration that has landed; a migration
// whose content no longer matches fails this check (add a new migration instead).
// `node scripts/check-sql-migrations.mjs --record` appends the migrations not yet listed.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../sql');
const ledgerFile = path.join(dir, 'landed.sha256');
// schema.sql is the generated dump of what the migrations produce (scripts/dump-schema.mjs), not one.
const files = readdirSync(dir).filter((f) => f.endsWith('.sql') && f !== 'schema.sql').sort();
const problems = [];

files.forEach((f, i) => {
  const m = /^(\d{4})_[a-z0-9_]+\.sql$/.exec(f);
  if (!m) problems.push(`${f}: name must be NNNN_lower_snake.sql`);
  else if (Number(m[1]) !== i + 1) problems.push(`${f}: expected number ${String(i + 1).padStart(4, '0')} (no gaps, no duplicates)`);
});

const sum = (f) => createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex');
const landed = new Map(
  existsSync(ledgerFile)
    ? readFileSync(ledgerFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('#'))
        .map((l) => {
          const [hash, name] = l.trim().split(/\s+/);
          return [name, hash];
        })
    : [],
);
for (const [name, hash] of landed) {
  if (!files.includes(name)) problems.push(`${name}: a landed migration was deleted; restore it`);
  else if (sum(name) !== hash) problems.push(`${name}: a landed migration was edited; restore it and put the change in a new migration`);
}

if (process.argv.includes('--record') && !problems.length) {
  const lines = ['# sha256 of every landed migration (scripts/check-sql-migrations.mjs). Never edit a listed file.'];
  for (const f of files) lines.push(`${landed.get(f) ?? sum(f)}  ${f}`);
  writeFileSync(ledgerFile, lines.join('\n') + '\n');
}

if (problems.length) {
  console.error(problems.map((p) => `sql/${p}`).join('\n'));
  process.exit(1);
}
console.log(`sql/: ${files.length} migrations ok (${landed.size} landed and unchanged)`);
