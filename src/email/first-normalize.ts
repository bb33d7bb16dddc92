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
 * null and the incremental path does the work.
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
/** Carriers per COPY ... TO: bounds what PGlite holds at once (it answers with one blob). */
const PAGE = 250_000;

export interface FirstNormalizeResult {
  counts: BatchCounts;
  carriersNormalized: number;
  totals: { addresses: number; valid: number; invalid: number; linked: number; shared: number; carriersWithAddress: number };
}

type Finish = (trx: Transaction<Database>, r: FirstNormalizeResult) => Promise<void>;

/** E-mail rows a census first load made in its byte pass, for the normalize stage after it. */
export interface PreparedRows {
  /** The ingest-census run whose first load made them. */
  censusRunId: number;
  rows: FinishedPass;
  /** Holds links, emails, reasons and sources, closed. */
  spool: Spool;
  /** Removes the spool files (also done at exit if nobody takes them). */
  dispose(): Promise<void>;
}

const prepared = new WeakMap<Store, PreparedRows>();

/** Hands the rows to the next first normalize on this store (the ingest job's next stage). */
export function offerPreparedRows(store: Store, rows: PreparedRows): void {
  void prepared.get(store)?.dispose();
  prepared.set(store, rows);
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
async function emailTablesEmpty(trx: Transaction<Database>): Promise<boolean> {
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
      const restoreKeys: (() => Promise<void>)[] = [];
      for (const t of TABLES) restoreKeys.push(await dropForeignKeysUntilRestored(trx, t));
      for (const t of TABLES) await truncateForFreeze(trx, t);
      const rebuild: (() => Promise<void>)[] = [];
      for (const t of TABLES) rebuild.push(await dropIndexesUntilRebuilt(trx, t));
      const now = ctx.now().toISOString();
      const restoreDefaults = [
        await setDefaultsUntilRestored(trx, 'emails', { normalizer_version: NORMALIZER_VERSION }),
        await setDefaultsUntilRestored(trx, 'email_reasons', { since: now }),
        await setDefaultsUntilRestored(trx, 'email_sources', { normalizer_version: NORMALIZER_VERSION, run_id: run.id, normalized_at: now }),
      ];

      let t = Date.now();
      const step = (what: string) => {
        const m = process.memoryUsage();
        ctx.out.debug(`normalize: ${what} in ${((Date.now() - t) / 1000).toFixed(1)} s (heap ${(m.heapUsed / 1e6).toFixed(0)} of ${(m.heapTotal / 1e6).toFixed(0)} MB, buffers ${(m.arrayBuffers / 1e6).toFixed(0)} MB, rss ${(m.rss / 1e6).toFixed(0)} MB)`);
        t = Date.now();
      };
      const linkTarget = { table: 'carrier_emails', columns: ['dot_number', 'email_id', 'position'], format: 'binary', encoding: 'UTF8', freeze: true } as const;
      let pass: FinishedPass;
      let links: number;
      let ids: Int32Array | null = null;
      if (ready) {
        pass = ready.rows;
        // Ids were given in the file's order: in DOT order unless the file is not sorted by DOT number.
        ids = await pass.idsInDotOrder(spool);
        if (ids) step('put the ids in DOT order');
        links = await copy(linkTarget, remapIds(spool.read('links'), ids, LINK_ID_AT));
        step(`copied ${links} links`);
      } else {
        const reading = new NormalizePass(spool, ctx.config.email.sharedAddressThreshold);
        const progress = ctx.out.progress('normalize', await carrierCount(trx));
        links = await copy(linkTarget, reading.readCarriers(store, PAGE, (n) => progress.update(n)));
        progress.stop();
        spool.close();
        pass = new FinishedPass(reading.finish());
        step(`read and normalized ${pass.tally.carriers} carriers, copied ${links} links`);
      }
      await copy({ table: 'emails', columns: ['carrier_count', 'id', 'address', 'local_part', 'domain', 'valid'], format: 'binary', encoding: 'UTF8', freeze: true }, remapIds(pass.emailRows(spool), ids, EMAIL_ID_AT));
      step(`copied ${pass.tally.addresses} addresses`);
      await copy({ table: 'email_reasons', columns: ['email_id', 'code', 'detail'], format: 'binary', encoding: 'UTF8', freeze: true }, remapIds(spool.read('reasons'), ids, REASON_ID_AT));
      await copy({ table: 'email_sources', columns: ['dot_number', 'email_raw'], format: 'binary', encoding: 'UTF8', freeze: true }, spool.read('sources'));
      step('copied the reasons and state rows');
      for (const restore of restoreDefaults) await restore();
      // The ids were given here: the identity continues after them.
      if (pass.tally.addresses) await sql`select setval(pg_get_serial_sequence('emails', 'id'), ${pass.tally.addresses}::bigint)`.execute(trx);
      const loaded = Date.now();
      if (store.kind === 'pg') await sql`set local maintenance_work_mem = '256MB'`.execute(trx);
      for (const [i, r] of rebuild.entries()) {
        await r();
        step(`built the indexes of ${TABLES[i]}`);
      }
      // Checking a foreign key is one hash join of the two tables: in memory, not in batches on disk.
      if (store.kind === 'pg') await sql`set local work_mem = '256MB'`.execute(trx);
      for (const r of restoreKeys.reverse()) await r();
      step('checked the foreign keys');
      ctx.out.info(
        `normalize: ${pass.tally.carriers} carriers, ${pass.tally.addresses} addresses, ${links} links copied in ${((loaded - t0) / 1000).toFixed(1)} s; keys and indexes built in ${((Date.now() - loaded) / 1000).toFixed(1)} s`,
      );
      const result = pass.result(links);
      await finish(trx, result);
      return result;
    });
  } finally {
    if (ready) await ready.dispose();
    else spool.remove();
  }
}

/** The carriers to read, for the progress bar (the planner has no estimate right after a first load). */
async function carrierCount(trx: Transaction<Database>): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::bigint as n from carriers`.execute(trx);
  return Number(r.rows[0]?.n ?? 0);
}
