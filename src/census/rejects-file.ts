/**
 * `--rejects FILE.csv`: the run's rejected rows (file, line, reason, raw) as UTF-8 CSV, read from
 * census_rejects page by page so a run with millions of rejects still writes in flat memory. The
 * file is meant for people: fields that a spreadsheet would run as formulas are neutralized
 * (peopleCsvField), control characters of the raw line are visible escapes (safe to `cat`), and it is written through safe-output (never over a file the run did not create).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { writeOutputFile } from '../files/safe-output.ts';
import { visibleControls } from '../text/control-chars.ts';
import { peopleCsvField } from '../text/csv.ts';

const PAGE = 10_000;

export async function writeRejectsCsv(db: Kysely<Database>, runId: number, target: string, force = false): Promise<number> {
  return writeOutputFile(target, { force, flag: '--rejects' }, async (out) => {
    let n = 0;
    let after = 0;
    await out.write('file,line,reason,raw\n');
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
      await out.write(rows.map((r) => [r.file, r.line_no, r.reason, visibleControls(r.raw)].map(peopleCsvField).join(',') + '\n').join(''));
      n += rows.length;
      after = rows[rows.length - 1]!.id;
    }
    return n;
  });
}
