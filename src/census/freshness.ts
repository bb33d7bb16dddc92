/**
 * Census freshness: an older file must not overwrite newer data (issue #14).
 *
 * A file's age is its data date: the newest MCS-150 or ADD date it holds, not after the run's day.
 * Not the file name (the Socrata export and the Company Census File carry no date in theirs) and
 * not its mtime (a copy or an unzip restamps it): FMCSA adds ~390 carriers and takes thousands of
 * MCS-150 filings a day, so the newest date of a full census is within days of its cut whatever
 * the file is called. A date after the run's day is a typo in the source and is left out, or one
 * row dated 2099 would make every later file look older.
 *
 * What is loaded is the newest data date in census_loads; before any load was recorded (a database
 * from before the table), the newest date in carriers.
 *
 * A file older than that by more than census.olderToleranceDays is refused (exit 2) unless
 * --allow-older: a partial extract's newest date only bounds its cut from below, so a gap of days
 * proves nothing, while last month's census is 28+ days behind. Any older file, let through or
 * within the tolerance, is merged carefully: a carrier's row is replaced only when the file's
 * MCS-150 date for it is newer than the stored one (merge.ts), so it adds carriers the database
 * lacks and never turns a filing back. A file at least as new as what is loaded is trusted row by
 * row, so FMCSA's own corrections of a date (downwards too) are taken.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { UsageError } from '../errors.ts';
import { addDays, daysBetween, localDate } from '../warmup/calendar.ts';

type Executor = Kysely<Database> | Transaction<Database>;

export interface FileDates {
  newestMcs150: string | null;
  newestAddDate: string | null;
  /** The later of the two: the file's age. Null when the file has no usable date. */
  dataDate: string | null;
}

export interface LoadedData {
  dataDate: string;
  /** Where it came from, for the message: a census_loads row, or the carriers loaded before the table. */
  file: string | null;
  runId: number | null;
}

/** The last day a census date may name: the run's day in the firm's zone, plus one for zones. */
export function latestPlausibleDay(now: Date, timeZone: string): string {
  return addDays(localDate(now, timeZone), 1);
}

/** Newest MCS-150 and ADD dates of `table`'s accepted rows (a typed scratch table, or carriers). */
export async function fileDates(db: Executor, table: string, notAfter: string, accepted = sql`reject is null`): Promise<FileDates> {
  const r = await sql<{ mcs150: string | null; added: string | null }>`
    select max(mcs150_date) filter (where mcs150_date <= ${notAfter}::date)::text as mcs150,
           max(add_date) filter (where add_date <= ${notAfter}::date)::text as added
      from ${sql.table(table)} where ${accepted}`.execute(db);
  const row = r.rows[0];
  return datesOf(row?.mcs150 ?? null, row?.added ?? null);
}

/** A file's dates from its typed table, and from the rows left out of it as unchanged (staging.ts). */
export function withLeftOut(typed: FileDates, leftOut: { newestMcs150: string | null; newestAddDate: string | null } | null): FileDates {
  if (!leftOut) return typed;
  const later = (a: string | null, b: string | null) => (a && b ? (a > b ? a : b) : (a ?? b));
  return datesOf(later(typed.newestMcs150, leftOut.newestMcs150), later(typed.newestAddDate, leftOut.newestAddDate));
}

export function datesOf(newestMcs150: string | null, newestAddDate: string | null): FileDates {
  const dataDate = newestMcs150 && newestAddDate ? (newestMcs150 > newestAddDate ? newestMcs150 : newestAddDate) : (newestMcs150 ?? newestAddDate);
  return { newestMcs150, newestAddDate, dataDate };
}

/** The newest data loaded so far, or null on an empty database. */
export async function loadedData(db: Executor, notAfter: string): Promise<LoadedData | null> {
  const last = await db
    .selectFrom('census_loads')
    .select(['data_date', 'file', 'run_id'])
    .where('data_date', 'is not', null)
    .orderBy('data_date', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (last?.data_date) return { dataDate: last.data_date, file: last.file, runId: last.run_id };
  const anyLoad = await db.selectFrom('census_loads').select('id').limit(1).executeTakeFirst();
  if (anyLoad) return null;
  // Carriers loaded before census_loads existed: their own dates say how recent they are.
  const d = await fileDates(db, 'carriers', notAfter, sql`true`);
  return d.dataDate ? { dataDate: d.dataDate, file: null, runId: null } : null;
}

export interface Freshness {
  /** Older than the data loaded at all: merged carefully (never turns a newer filing back). */
  older: boolean;
  /** Older by more than the tolerance: refused unless --allow-older. */
  tooOld: boolean;
}

/** How `file` compares with `loaded`; a file with no date cannot be judged older. */
export function freshness(file: FileDates, loaded: LoadedData | null, toleranceDays: number): Freshness {
  if (!loaded || !file.dataDate || file.dataDate >= loaded.dataDate) return { older: false, tooOld: false };
  return { older: true, tooOld: daysBetween(file.dataDate, loaded.dataDate) > toleranceDays };
}

export function olderFileError(name: string, file: FileDates, loaded: LoadedData, toleranceDays: number): UsageError {
  const from = loaded.file ? `${loaded.file}, run ${loaded.runId}` : 'the carriers already in the database';
  const gap = daysBetween(file.dataDate!, loaded.dataDate);
  return new UsageError(
    `${name} is older than the census already loaded: its newest MCS-150/ADD date is ${file.dataDate}, ${gap} days before the loaded data's ${loaded.dataDate} (${from}; census.olderToleranceDays ${toleranceDays}). ` +
      'Merging it would put older filings (e-mails, addresses, MCS-150 dates) back over newer ones, so nothing was merged. ' +
      'Ingest the newer file instead; or, to add the carriers only this file lists, re-run with --allow-older: ' +
      "a carrier whose stored MCS-150 date is as new or newer keeps its row, and the run's census_loads row says the file was older.",
  );
}

/** The --snapshot --allow-older refusal: an older file cannot say which carriers are gone now. */
export function olderSnapshotError(): UsageError {
  return new UsageError(
    '--snapshot cannot be combined with --allow-older: an older census does not list the carriers added since it was cut, so it cannot say which carriers left. Ingest the older file without --snapshot.',
  );
}

export interface LoadRecord {
  runId: number;
  file: string;
  format: string;
  content: { sha256: string; bytes: number };
  read: number;
  accepted: number;
  dates: FileDates;
  snapshot: boolean;
  allowedOlder: boolean;
  forcedSnapshot: boolean;
  now: Date;
}

/** The census_loads row of a merged file: in the merge's transaction, so it exists exactly when the data does. */
export async function recordLoad(trx: Transaction<Database>, r: LoadRecord): Promise<void> {
  await trx
    .insertInto('census_loads')
    .values({
      run_id: r.runId,
      file: r.file,
      format: r.format,
      sha256: r.content.sha256,
      bytes: r.content.bytes,
      rows_read: r.read,
      rows_accepted: r.accepted,
      newest_mcs150: r.dates.newestMcs150,
      newest_add_date: r.dates.newestAddDate,
      data_date: r.dates.dataDate,
      snapshot: r.snapshot,
      allowed_older: r.allowedOlder,
      forced_snapshot: r.forcedSnapshot,
      loaded_at: r.now,
    })
    .execute();
}
