/**
 * `--rejects FILE.csv`: the run's rejected rows (file, line, reason, raw) as UTF-8 CSV, read from
 * census_rejects page by page so a run with millions of rejects still writes in flat memory.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { InputError } from '../errors.ts';

const PAGE = 10_000;

const csv = (v: string | number) => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export async function writeRejectsCsv(db: Kysely<Database>, runId: number, target: string): Promise<number> {
  const out = createWriteStream(target);
  const failed = once(out, 'error').then(([e]) => {
    throw new InputError(`cannot write the rejects file ${target}: ${(e as Error).message}. Pass a writable path to --rejects.`);
  });
  failed.catch(() => {});
  const write = async (text: string) => {
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
  };
  let n = 0;
  let after = 0;
  try {
    await write('file,line,reason,raw\n');
    for (;;) {
      const rows = await db
        .selectFrom('census_rejects')
        .select(['id', 'file', 'line_no', 'reason', 'raw'])
        .where('run_id', '=', runId)
        .where('id', '>', after)
        .orderBy('id')
        .limit(PAGE)
        .execute();
      if (!rows.length) break;
      await write(rows.map((r) => [r.file, r.line_no, r.reason, r.raw].map(csv).join(',') + '\n').join(''));
      n += rows.length;
      after = rows[rows.length - 1]!.id;
    }
  } finally {
    out.end();
  }
  await Promise.race([once(out, 'finish'), failed]);
  return n;
}
