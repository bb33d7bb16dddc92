/**
 * A DOT number on several good lines of one file: the last line wins (a file appended with
 * corrections says the newest thing last), and each earlier line becomes a reject,
 * `duplicate_dot_number: superseded by line N`, with its raw text.
 *
 * The scanner only learns a DOT number is repeated when it meets the second line, long after the
 * first line's bytes are gone, and keeping every line's raw text in the typed table would double
 * what COPY carries. Duplicates are rare, so the file is read a second time for just those lines.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { decodeCp1252 } from '../text/cp1252.ts';
import { openDetected, scannerFor } from './load-file.ts';
import { MAX_RAW_BYTES } from './scan-bytes.ts';
import { scanStream, type RecordWriter } from './scanner.ts';

export interface Superseded {
  line: number;
  /** The line that wins. */
  lastLine: number;
  /** The superseded line as it is in the file. */
  raw: string;
}

export const supersededReason = (s: Superseded) => `duplicate_dot_number: superseded by line ${s.lastLine}`;

/**
 * The good lines of `dups` that a later line of the same DOT number supersedes, in `table`
 * (the typed scratch table, or carriers during a first load), with their raw text.
 */
export async function supersededLines(
  db: Kysely<Database> | Transaction<Database>,
  o: { table: 'carriers' | string; file: string; dups: Iterable<number> },
): Promise<Superseded[]> {
  const dups = [...o.dups];
  if (!dups.length) return [];
  const line = sql.ref(o.table === 'carriers' ? 'source_line' : 'line_no');
  const good = o.table === 'carriers' ? sql`true` : sql`t.reject is null`;
  const r = await sql<{ line_no: number; last_line: number }>`
    select line_no, last_line from (
      select t.${line} as line_no, max(t.${line}) over (partition by t.dot_number) as last_line
        from ${sql.table(o.table)} t
       where ${good} and t.dot_number = any(${dups}::bigint[])
    ) x where line_no < last_line order by line_no`.execute(db);
  if (!r.rows.length) return [];
  const raw = await rawLines(o.file, new Set(r.rows.map((x) => x.line_no)));
  return r.rows.map((x) => ({ line: x.line_no, lastLine: x.last_line, raw: raw.get(x.line_no) ?? '' }));
}

/** Marks superseded lines as rejects in the typed scratch table. */
export async function supersedeInTyped(db: Kysely<Database>, typed: string, list: Superseded[]): Promise<void> {
  if (!list.length) return;
  await sql`
    update ${sql.table(typed)} t
       set reject = u.reason, raw = u.raw
      from unnest(${list.map((x) => x.line)}::bigint[], ${list.map(supersededReason)}::text[], ${list.map((x) => x.raw)}::text[]) u(line_no, reason, raw)
     where t.line_no = u.line_no`.execute(db);
}

/** The raw text of the given records (by first physical line), read again from the file. */
async function rawLines(file: string, wanted: Set<number>): Promise<Map<number, string>> {
  const { detected, rest, stream } = await openDetected(file);
  const { encoding } = detected.format;
  const last = detected.header.length - 1;
  const found = new Map<number, string>();
  const capture: RecordWriter = {
    valueColumns: 0,
    overhead: 0,
    reject: null,
    write(buf, starts, ends, _out, pos, line) {
      if (wanted.has(line)) {
        const bytes = buf.subarray(starts[0]!, Math.min(ends[last]!, starts[0]! + MAX_RAW_BYTES));
        found.set(line, encoding === 'WIN1252' ? decodeCp1252(bytes) : bytes.toString('utf8'));
      }
      return pos;
    },
  };
  try {
    for await (const _ of scanStream(rest, scannerFor(detected, capture))) if (found.size === wanted.size) break;
  } finally {
    stream.destroy();
  }
  return found;
}
