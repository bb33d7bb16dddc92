/**
 * The normalize stage: carriers.email_raw -> emails, carrier_emails, email_reasons, incrementally.
 *
 * Input: carriers whose email_raw differs from the one recorded in email_sources (anti-join), or
 * that were normalized by an older NORMALIZER_VERSION; carriers that disappeared; stored addresses
 * judged by an older version. Idempotency key: (dot_number, email_raw, normalizer version).
 * Carriers are read in keyset pages (dot_number order), normalized in JS, and each page is written
 * by a fixed number of set-based statements in its own transaction together with its state rows,
 * so a crash loses at most one page and a re-run resumes where the data says, not where a
 * checkpoint says. Running it twice changes nothing.
 */
import { sql } from 'kysely';
import type { StageContext } from '../context.ts';
import type { RunHandle } from '../runs.ts';
import { batchFromCarriers, emptyBatch, type CarrierField } from './batch.ts';
import { normalizeAddress } from './normalize.ts';
import { NORMALIZER_VERSION } from './version.ts';
import { addCounts, writeBatch, zeroCounts, type BatchCounts } from './write-batch.ts';

export interface NormalizeOptions {
  /** Carriers per page (one transaction each). */
  batchSize?: number;
  /** Re-normalize every carrier, not only the changed ones (results are the same; for audits). */
  full?: boolean;
}

export interface NormalizeSummary extends BatchCounts {
  [key: string]: unknown;
  command: 'normalize';
  run_id: number;
  normalizer_version: number;
  carriers_normalized: number;
  carriers_removed: number;
  addresses_rejudged_by_version: number;
  /** Sum of every row written: 0 means the run changed nothing. */
  changes: number;
  totals: { addresses: number; valid: number; invalid: number; linked: number; shared: number; carriers_with_address: number };
  seconds: number;
}

const DEFAULT_BATCH = 10_000;

export async function runNormalize(ctx: StageContext, run: RunHandle, opts: NormalizeOptions = {}): Promise<NormalizeSummary> {
  const db = ctx.store.db;
  const started = Date.now();
  const size = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
  const full = Boolean(opts.full);
  const write = (batch: ReturnType<typeof emptyBatch>) => db.transaction().execute((trx) => writeBatch(trx, batch, { runId: run.id, now: ctx.now() }));
  let counts = zeroCounts();

  const changedWhere = sql`(${full} or s.dot_number is null or s.email_raw is distinct from c.email_raw or s.normalizer_version <> ${NORMALIZER_VERSION}::int)`;
  const todo = await sql<{ n: number }>`select count(*)::int as n from carriers c left join email_sources s on s.dot_number = c.dot_number where ${changedWhere}`.execute(db);
  const total = todo.rows[0]?.n ?? 0;
  if (total) ctx.out.info(`normalize: ${total} carrier(s) to normalize`);
  const progress = ctx.out.progress('normalize', total);
  let carriersNormalized = 0;
  let after = 0;
  for (;;) {
    const page = await db.transaction().execute(async (trx) => {
      // Walk carriers in key order and probe email_sources by key, stopping at `size` changed
      // carriers: one pass over the table in total. Left to itself the planner hashes every
      // remaining row on every page (quadratic over a 2M-carrier first load).
      await sql`set local enable_hashjoin = off`.execute(trx);
      await sql`set local enable_mergejoin = off`.execute(trx);
      await sql`set local enable_sort = off`.execute(trx);
      return sql<CarrierField>`
        select c.dot_number, c.email_raw from carriers c left join email_sources s on s.dot_number = c.dot_number
        where c.dot_number > ${after}::bigint and ${changedWhere}
        order by c.dot_number limit ${size}::int`.execute(trx);
    });
    if (!page.rows.length) break;
    counts = addCounts(counts, await write(batchFromCarriers(page.rows)));
    carriersNormalized += page.rows.length;
    after = page.rows[page.rows.length - 1]!.dot_number;
    progress.update(carriersNormalized);
  }
  progress.stop();

  // Carriers gone from the table (never expected, ingest only deactivates): unlink them.
  let carriersRemoved = 0;
  for (after = 0; ; ) {
    const gone = await sql<{ dot_number: number }>`
      select s.dot_number from email_sources s
      where s.dot_number > ${after}::bigint and not exists (select 1 from carriers c where c.dot_number = s.dot_number)
      order by s.dot_number limit ${size}::int`.execute(db);
    if (!gone.rows.length) break;
    counts = addCounts(counts, await write({ ...emptyBatch(), removed: gone.rows.map((r) => r.dot_number) }));
    carriersRemoved += gone.rows.length;
    after = gone.rows[gone.rows.length - 1]!.dot_number;
  }

  // Addresses no carrier re-normalized this run but judged by an older normalizer (e.g. no longer
  // listed by anyone): re-judge them under their stored address, so explain never shows a stale verdict.
  let rejudged = 0;
  for (let afterId = 0; ; ) {
    const old = await sql<{ id: number; address: string }>`
      select id, address from emails where normalizer_version <> ${NORMALIZER_VERSION}::int and id > ${afterId}::bigint
      order by id limit ${size}::int`.execute(db);
    if (!old.rows.length) break;
    const addresses = old.rows.map((r) => ({ ...normalizeAddress(r.address), address: r.address }));
    counts = addCounts(counts, await write({ ...emptyBatch(), addresses }));
    rejudged += old.rows.length;
    afterId = old.rows[old.rows.length - 1]!.id;
  }

  const threshold = ctx.config.email.sharedAddressThreshold;
  const t = await sql<NormalizeSummary['totals']>`
    select count(*)::int as addresses, count(*) filter (where valid)::int as valid, count(*) filter (where not valid)::int as invalid,
           count(*) filter (where carrier_count > 0)::int as linked, count(*) filter (where carrier_count >= ${threshold}::int)::int as shared,
           (select count(distinct dot_number)::int from carrier_emails) as carriers_with_address
    from emails`.execute(db);
  const changes = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    command: 'normalize',
    run_id: run.id,
    normalizer_version: NORMALIZER_VERSION,
    carriers_normalized: carriersNormalized,
    carriers_removed: carriersRemoved,
    addresses_rejudged_by_version: rejudged,
    ...counts,
    changes,
    totals: t.rows[0]!,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}
