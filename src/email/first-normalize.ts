/**
 * The first normalize: every carrier's e-mail field into EMPTY e-mail tables (emails,
 * carrier_emails, email_reasons, email_sources) with COPY, keys and indexes dropped before and
 * built after, the way the census first load fills carriers (src/census/first-load.ts).
 *
 * Why a path of its own: the incremental normalize (stage.ts) writes pages of 10,000 carriers with
 * upserts that compare each row with what is stored and keep every index up to date: about 180 s
 * for a 2.1M-row census, 17 times the `psql \copy` of the file. Into empty tables there is nothing
 * to compare with. The rows are exactly the ones the incremental path writes (test/email-first-
 * normalize.db.test.ts compares every row of the four tables); only the ids of emails differ,
 * since the incremental path draws one from the sequence for every address it meets again. Their
 * order agrees: ids follow the carriers' DOT order, then the position in the field.
 *
 * Where the rows come from, two ways:
 * - made during the census first load, in its byte pass (census-email-pass.ts): the load hands the
 *   normalize stage that follows it in the ingest job the spooled rows (PreparedRows), so nothing
 *   is read back and nothing normalized twice. Those rows are what was just committed to carriers;
 *   email_sources records the field each was made from, so a carrier changed since is found by the
 *   next normalize as any change is.
 * - otherwise read back: the carriers in DOT order with COPY ... TO (binary) on a connection of
 *   their own, normalized here, each carrier's links streaming into COPY carrier_emails meanwhile.
 * Either way distinct addresses get ids as first met (AddressIds); their rows, the static reasons
 * and the carriers' state rows wait in temporary files (flat memory) until the links are in, since
 * each emails row carries its carrier count, known only at the end.
 *
 * One transaction with the run's ledger row: a crash rolls back to empty e-mail tables and the
 * next run does it again (reading back); a run that finds any of the four tables non-empty returns
 * null and the incremental path does the work. On PostgreSQL, rows made during the census load are
 * mostly loaded before this stage starts, on a second connection (early-email-load.ts): the stage
 * then only adds the rows that name its run, in that same transaction, and commits it. Both do the
 * steps below (emptyForLoad, loadAddresses, loadStateRows) in the same order.
 */
import os from 'node:os';
import path from 'node:path';
import { sql, type Transaction } from 'kysely';
import type { StageContext } from '../context.ts';
import { dropForeignKeysUntilRestored, dropIndexesUntilRebuilt, setDefaultsUntilRestored, truncateForFreeze } from '../db/bulk-load.ts';
import type { Database } from '../db/database.ts';
import type { Store } from '../db/store.ts';
import type { RunHandle } from '../runs.ts';
import { EMAIL_ID_AT, FinishedPass, LINK_ID_AT, NormalizePass, REASON_ID_AT, remapIds } from './normalize-pass.ts';
import { Spool } from './row-spool.ts';

export { DotFieldReader } from './dot-field-reader.ts';
import { NORMALIZER_VERSION } from './version.ts';
import type { BatchCounts } from './write-batch.ts';

/** Children before parents for the keys, so each table's own keys can be dropped. */
const TABLES = ['carrier_emails', 'email_reasons', 'email_sources', 'emails'] as const;
type Table = (typeof TABLES)[number];
/** Carriers per COPY ... TO: bounds what PGlite holds at once (it answers with one blob). */
const PAGE = 250_000;

export interface FirstNormalizeResult {
  counts: BatchCounts;
  carriersNormalized: number;
  totals: { addresses: number; valid: number; invalid: number; linked: number; shared: number; carriersWithAddress: number };
}

export type Finish = (trx: Transaction<Database>, r: FirstNormalizeResult) => Promise<void>;

/** E-mail rows a census first load made in its byte pass, for the normalize stage after it. */
export interface PreparedRows {
  /** The ingest-census run whose first load made them. */
  censusRunId: number;
  rows: FinishedPass;
  /** Holds links, emails, reasons and sources, closed. */
  spool: Spool;
  /**
   * The load of these rows begun on a connection of its own while the census load finished
   * (PostgreSQL only; early-email-load.ts), waiting for the normalize run to finish it.
   */
  early?: EarlyLoad;
  /** Gives up the early load, if any, then removes the spool files (also done at exit if nobody takes them). */
  dispose(): Promise<void>;
}

/** What the normalize stage does with an early load (early-email-load.ts). */
export interface EarlyLoad {
  /**
   * Finishes the load as `run` (its state rows and `finish` in the same transaction) and commits;
   * undefined when it was given up before (the rows are then still in the spool to load again).
   */
  complete(ctx: StageContext, run: RunHandle, finish: Finish): Promise<FirstNormalizeResult | null | undefined>;
}

const prepared = new WeakMap<Store, PreparedRows>();

/** Hands the rows to the next first normalize on this store (the ingest job's next stage). */
export function offerPreparedRows(store: Store, rows: PreparedRows): void {
  void prepared.get(store)?.dispose();
  prepared.set(store, rows);
}

/**
 * Drops rows offered by an earlier ingest on this store (a job stopped between its stages): a new
 * ingest makes them stale, and their early load must not keep the e-mail tables locked meanwhile.
 */
export async function withdrawPreparedRows(store: Store): Promise<void> {
  const rows = prepared.get(store);
  prepared.delete(store);
  await rows?.dispose();
}

/**
 * The rows offered on this store, once, when they still describe carriers: no ingest ran after the
 * one that made them (in a process running several commands, a job stopped between its stages
 * leaves its offer behind). The caller disposes of them.
 */
export async function takePreparedRows(store: Store): Promise<PreparedRows | null> {
  const rows = prepared.get(store) ?? null;
  prepared.delete(store);
  if (!rows) return null;
  const r = await sql<{ later: boolean }>`
    select exists (select 1 from runs where stage = 'ingest-census' and id > ${rows.censusRunId}) as later`.execute(store.db);
  if (!r.rows[0]?.later) return rows;
  await rows.dispose();
  return null;
}

/** True when none of the tables normalize writes holds a row. */
export async function emailTablesEmpty(trx: Transaction<Database>): Promise<boolean> {
  const r = await sql<{ empty: boolean }>`
    select not exists (select 1 from emails) and not exists (select 1 from carrier_emails)
       and not exists (select 1 from email_reasons) and not exists (select 1 from email_sources) as empty`.execute(trx);
  return Boolean(r.rows[0]?.empty);
}

/**
 * Normalizes every carrier into the empty e-mail tables in one transaction, `finish` (the run's
 * ledger row) inside it; null, writing nothing, when an e-mail table is not empty.
 */
export async function normalizeIntoEmptyTables(ctx: StageContext, run: RunHandle, finish: Finish): Promise<FirstNormalizeResult | null> {
  const store = ctx.store;
  const ready = await takePreparedRows(store);
  try {
    // Begun on a connection of its own while the census load finished (early-email-load.ts):
    // only the state rows and the ledger row are left. Undefined when it was given up; the same
    // rows are then loaded here.
    const early = ready?.early ? await ready.early.complete(ctx, run, finish) : undefined;
    if (early !== undefined) return early;
    return await copyIntoEmptyTables(ctx, run, finish, ready);
  } finally {
    await ready?.dispose();
  }
}

async function copyIntoEmptyTables(ctx: StageContext, run: RunHandle, finish: Finish, ready: PreparedRows | null): Promise<FirstNormalizeResult | null> {
  const store = ctx.store;
  const spool = ready?.spool ?? new Spool(path.join(os.tmpdir(), `audience-normalize-${process.pid}-${run.id}`), ['emails', 'reasons', 'sources']);
  try {
    return await store.transactionWithCopy(async (trx, copy) => {
      await sql`set local synchronous_commit = off`.execute(trx);
      if (!(await emailTablesEmpty(trx))) return null;
      const t0 = Date.now();
      ctx.out.info(
        ready
          ? 'normalize: the e-mail tables are empty: the rows made while the census loaded, with COPY'
          : 'normalize: the e-mail tables are empty: every carrier at once, with COPY',
      );
      const tables = await emptyForLoad(trx);
      const step = stepTimer(ctx);
      let rows: LoadedRows;
      if (ready) rows = await copyPreparedLinks(copy, ready.rows, spool, step);
      else {
        const reading = new NormalizePass(spool, ctx.config.email.sharedAddressThreshold);
        const progress = ctx.out.progress('normalize', await carrierCount(trx));
        const links = await copy(LINKS, reading.readCarriers(store, PAGE, (n) => progress.update(n)));
        progress.stop();
        spool.close();
        rows = { pass: new FinishedPass(reading.finish()), spool, ids: null, links };
        step(`read and normalized ${rows.pass.tally.carriers} carriers, copied ${links} links`);
      }
      const loaded = await loadAddresses(trx, copy, store.kind, tables, rows, step);
      const result = await loadStateRows(ctx, trx, copy, tables, rows, run, step);
      ctx.out.info(
        `normalize: ${rows.pass.tally.carriers} carriers, ${rows.pass.tally.addresses} addresses, ${rows.links} links copied in ${((loaded - t0) / 1000).toFixed(1)} s; keys and indexes built in ${((Date.now() - loaded) / 1000).toFixed(1)} s`,
      );
      await finish(trx, result);
      return result;
    });
  } finally {
    if (!ready) spool.remove();
  }
}

/** The four tables, emptied for COPY ... FREEZE, their keys and indexes dropped until restored. */
export interface EmptiedTables {
  restoreKeys: Map<Table, () => Promise<void>>;
  rebuild: Map<Table, () => Promise<void>>;
  restoreEmailsDefaults: () => Promise<void>;
}

/** A first normalize's rows on their way in: the pass, its spool, the ids in DOT order (null: as given) and the links copied. */
export interface LoadedRows {
  pass: FinishedPass;
  spool: Spool;
  ids: Int32Array | null;
  links: number;
}

export type Step = (what: string) => void;

type Copy = Store['copy'];

const LINKS = { table: 'carrier_emails', columns: ['dot_number', 'email_id', 'position'], format: 'binary', encoding: 'UTF8', freeze: true } as const;

/** Drops the keys, empties the tables for FREEZE and drops their indexes: see bulk-load.ts. */
export async function emptyForLoad(trx: Transaction<Database>): Promise<EmptiedTables> {
  const restoreKeys = new Map<Table, () => Promise<void>>();
  const rebuild = new Map<Table, () => Promise<void>>();
  for (const t of TABLES) restoreKeys.set(t, await dropForeignKeysUntilRestored(trx, t));
  for (const t of TABLES) await truncateForFreeze(trx, t);
  for (const t of TABLES) rebuild.set(t, await dropIndexesUntilRebuilt(trx, t));
  const restoreEmailsDefaults = await setDefaultsUntilRestored(trx, 'emails', { normalizer_version: NORMALIZER_VERSION });
  return { restoreKeys, rebuild, restoreEmailsDefaults };
}

/** The links of rows a census first load made (ids put in DOT order when the file was not). */
export async function copyPreparedLinks(copy: Copy, pass: FinishedPass, spool: Spool, step: Step): Promise<LoadedRows> {
  // Ids were given in the file's order: in DOT order unless the file is not sorted by DOT number.
  const ids = await pass.idsInDotOrder(spool);
  if (ids) step('put the ids in DOT order');
  const links = await copy(LINKS, remapIds(spool.read('links'), ids, LINK_ID_AT));
  step(`copied ${links} links`);
  return { pass, spool, ids, links };
}

/**
 * emails after carrier_emails (copied by then): their rows, then both tables' indexes and the
 * links' key to emails. Returns when the rows were in (the log tells loading from indexing).
 */
export async function loadAddresses(trx: Transaction<Database>, copy: Copy, kind: Store['kind'], tables: EmptiedTables, rows: LoadedRows, step: Step): Promise<number> {
  const { pass, spool, ids } = rows;
  await copy({ table: 'emails', columns: ['carrier_count', 'id', 'address', 'local_part', 'domain', 'valid'], format: 'binary', encoding: 'UTF8', freeze: true }, remapIds(pass.emailRows(spool), ids, EMAIL_ID_AT));
  step(`copied ${pass.tally.addresses} addresses`);
  await tables.restoreEmailsDefaults();
  const loaded = Date.now();
  // A bigger sort budget for the index builds, on a server only: with PGlite the memory is ours.
  if (kind === 'pg') await sql`set local maintenance_work_mem = '256MB'`.execute(trx);
  for (const t of ['carrier_emails', 'emails'] as const) {
    await tables.rebuild.get(t)!();
    step(`built the indexes of ${t}`);
  }
  await checkedByMerge(trx, tables.restoreKeys.get('carrier_emails')!);
  step('checked the key of carrier_emails');
  return loaded;
}

/**
 * The rows that name the run or its time (email_reasons.since, email_sources' run and time), their
 * indexes and email_reasons' key; the identity set past the ids given. Returns the run's counts.
 */
export async function loadStateRows(
  ctx: StageContext,
  trx: Transaction<Database>,
  copy: Copy,
  tables: EmptiedTables,
  rows: LoadedRows,
  run: RunHandle,
  step: Step,
): Promise<FirstNormalizeResult> {
  const { pass, spool, ids } = rows;
  const now = ctx.now().toISOString();
  const restoreDefaults = [
    await setDefaultsUntilRestored(trx, 'email_reasons', { since: now }),
    await setDefaultsUntilRestored(trx, 'email_sources', { normalizer_version: NORMALIZER_VERSION, run_id: run.id, normalized_at: now }),
  ];
  await copy({ table: 'email_reasons', columns: ['email_id', 'code', 'detail'], format: 'binary', encoding: 'UTF8', freeze: true }, remapIds(spool.read('reasons'), ids, REASON_ID_AT));
  await copy({ table: 'email_sources', columns: ['dot_number', 'email_raw'], format: 'binary', encoding: 'UTF8', freeze: true }, spool.read('sources'));
  step('copied the reasons and state rows');
  for (const restore of restoreDefaults) await restore();
  // The ids were given here: the identity continues after them.
  if (pass.tally.addresses) await sql`select setval(pg_get_serial_sequence('emails', 'id'), ${pass.tally.addresses}::bigint)`.execute(trx);
  if (ctx.store.kind === 'pg') await sql`set local maintenance_work_mem = '256MB'`.execute(trx);
  for (const t of ['email_reasons', 'email_sources'] as const) {
    await tables.rebuild.get(t)!();
    step(`built the indexes of ${t}`);
  }
  await checkedByMerge(trx, tables.restoreKeys.get('email_reasons')!);
  // email_sources and emails hold no key to another table; restored all the same, should one be added.
  await tables.restoreKeys.get('email_sources')!();
  await tables.restoreKeys.get('emails')!();
  step('checked the keys of email_reasons');
  return pass.result(rows.links);
}

/**
 * Adds a key back with its check (one anti-join of the two tables) planned as a merge of the two
 * indexes just built (the referencing column leads an index of each table here), not as the hash
 * join the planner picks without statistics: 0.5 s instead of 2.1-3.4 s for carrier_emails on
 * FMCSA_CENSUS1, measured in the same transaction shape. Only the plan differs, not what is checked.
 */
async function checkedByMerge(trx: Transaction<Database>, restore: () => Promise<void>): Promise<void> {
  const was = await sql<{ v: string }>`select current_setting('enable_hashjoin') as v`.execute(trx);
  await sql`select set_config('enable_hashjoin', 'off', true)`.execute(trx);
  await restore();
  await sql`select set_config('enable_hashjoin', ${was.rows[0]?.v ?? 'on'}, true)`.execute(trx);
}

/** Logs (-v) what each step took, with the memory in use. */
export function stepTimer(ctx: StageContext): Step {
  let t = Date.now();
  return (what) => {
    const m = process.memoryUsage();
    ctx.out.debug(`normalize: ${what} in ${((Date.now() - t) / 1000).toFixed(1)} s (heap ${(m.heapUsed / 1e6).toFixed(0)} of ${(m.heapTotal / 1e6).toFixed(0)} MB, buffers ${(m.arrayBuffers / 1e6).toFixed(0)} MB, rss ${(m.rss / 1e6).toFixed(0)} MB)`);
    t = Date.now();
  };
}

/** The carriers to read, for the progress bar (the planner has no estimate right after a first load). */
async function carrierCount(trx: Transaction<Database>): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::bigint as n from carriers`.execute(trx);
  return Number(r.rows[0]?.n ?? 0);
}
