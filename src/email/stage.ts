/**
 * The normalize stage: carriers.email_raw -> emails, carrier_emails, email_reasons, incrementally.
 *
 * Input: carriers whose email_raw differs from the one recorded in email_sources, or that were
 * normalized by an older NORMALIZER_VERSION; carriers that disappeared (both found by one full
 * join at the start, or, after a monthly refresh, named by its merge: changed-carriers.ts); stored
 * addresses judged by an older version. Idempotency key: (dot_number,
 * email_raw, normalizer version). Into empty e-mail tables everything goes at once with COPY
 * (first-normalize.ts). Otherwise the carriers found are read in pages (dot_number order),
 * normalized in JS, and each page is written
 * by a fixed number of set-based statements in its own transaction together with its state rows,
 * so a crash loses at most one page and a re-run resumes where the data says, not where a
 * checkpoint says. Running it twice changes nothing.
 */
import { sql } from 'kysely';
import { z } from 'zod';
import type { StageContext } from '../context.ts';
import { camelKey, camelRenames, runStage, type Envelope, type Stage } from '../stage.ts';
import { finishRun, type RunHandle } from '../runs.ts';
import { batchFromCarriers, emptyBatch, type CarrierField } from './batch.ts';
import type { Store } from '../db/store.ts';
import { takeChangedCarriers } from './changed-carriers.ts';
import { DotFieldReader, normalizeIntoEmptyTables } from './first-normalize.ts';
import { normalizeAddress } from './normalize.ts';
import { NORMALIZER_VERSION } from './version.ts';
import { addCounts, addTotals, countEmailTotals, noTotals, writePage, zeroCounts, type BatchCounts, type TotalsProbe } from './write-batch.ts';

export interface NormalizeOptions {
  /** Carriers per page (one transaction each). */
  batchSize?: number;
  /** Re-normalize every carrier, not only the changed ones (results are the same; for audits). */
  full?: boolean;
  /**
   * Walk page by page even into empty e-mail tables, where COPY would do (first-normalize.ts):
   * the tests hold the two paths to the same rows.
   */
  pagesOnly?: boolean;
}

const normalizeOptions = z.object({
  batchSize: z.number().int().positive().optional(),
  full: z.boolean().optional(),
  pagesOnly: z.boolean().optional(),
});

type CamelCounts = { [K in keyof BatchCounts as CamelKey<K>]: number };
type CamelKey<K extends string> = K extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelKey<T>>}` : K;

export type NormalizeSummary = CamelCounts & {
  command: 'normalize';
  normalizerVersion: number;
  carriersNormalized: number;
  carriersRemoved: number;
  addressesRejudgedByVersion: number;
  /** Sum of every row written: 0 means the run changed nothing. */
  changes: number;
  totals: { addresses: number; valid: number; invalid: number; linked: number; shared: number; carriersWithAddress: number };
};

/** The snake_case keys of the summary before the stage contract, kept beside the new ones for one release. */
const NORMALIZE_OLD_KEYS = [
  'run_id',
  'normalizer_version',
  'carriers_normalized',
  'carriers_removed',
  'addresses_rejudged_by_version',
  ...(Object.keys(zeroCounts()) as (keyof BatchCounts)[]),
  'totals.carriers_with_address',
];
export type NormalizeOldKeys = { [K in keyof BatchCounts]: number } & {
  run_id: number;
  normalizer_version: number;
  carriers_normalized: number;
  carriers_removed: number;
  addresses_rejudged_by_version: number;
};
export type NormalizeEnvelope = Envelope<NormalizeSummary, NormalizeOldKeys>;

export const normalizeStage: Stage<NormalizeOptions, NormalizeSummary, NormalizeOptions, NormalizeOldKeys> = {
  name: 'normalize',
  options: normalizeOptions,
  migrations: 'apply',
  ledger: true,
  args: (o) => ({ full: Boolean(o.full), batchSize: o.batchSize ?? null }),
  run: (ctx, run, o) => runNormalize(ctx, run!, o),
  render: (s) =>
    [
      `normalized ${s.carriersNormalized} carrier(s) in ${s.seconds}s (run ${s.runId}): ${s.changes} row change(s)`,
      `  addresses: +${s.addressesNew} new, ${s.addressesRejudged} re-judged; links: +${s.linksAdded} -${s.linksRemoved}; reasons: +${s.reasonsAdded} -${s.reasonsRemoved}`,
      `  totals: ${s.totals.addresses} addresses (${s.totals.valid} valid, ${s.totals.invalid} invalid), ${s.totals.shared} shared, ${s.totals.carriersWithAddress} carriers with an address`,
    ].join('\n'),
  renames: camelRenames(NORMALIZE_OLD_KEYS),
};

/** Normalizes every carrier whose e-mail field changed since the last run, as one `normalize` run. */
export function normalizeEmails(ctx: StageContext, opts: NormalizeOptions = {}): Promise<NormalizeEnvelope> {
  return runStage(ctx, normalizeStage, opts);
}

const DEFAULT_BATCH = 10_000;
/**
 * Pages of a list the census merge handed over (changed-carriers.ts): its fields are in memory
 * already, and each page pays a fixed cost (temp tables made, analyzed and indexed, a dozen
 * statements, a commit), 0.15-0.2 s on a monthly refresh's 80k carriers in pages of 10,000. One
 * page holds a month's change; a larger change is still written in bounded transactions.
 */
const HANDED_BATCH = 100_000;

export async function runNormalize(ctx: StageContext, run: RunHandle, opts: NormalizeOptions = {}): Promise<NormalizeSummary> {
  // Empty e-mail tables (the first normalize after a first census load): all of it with COPY.
  // Nothing can be gone or judged by an older version then, so the steps after the walk have nothing to do.
  let first: NormalizeSummary | null = null;
  const loaded = !opts.pagesOnly && (await normalizeIntoEmptyTables(ctx, run, async (trx, r) => {
    first = summaryOf(r.counts, { carriersNormalized: r.carriersNormalized, carriersRemoved: 0, rejudged: 0 }, r.totals);
    await finishRun(trx, run, 'ok', first, null);
  }));
  if (loaded && first) return first;
  return runIncremental(ctx, run, opts);
}

function summaryOf(
  counts: BatchCounts,
  o: { carriersNormalized: number; carriersRemoved: number; rejudged: number },
  totals: NormalizeSummary['totals'],
): NormalizeSummary {
  return {
    command: 'normalize',
    normalizerVersion: NORMALIZER_VERSION,
    carriersNormalized: o.carriersNormalized,
    carriersRemoved: o.carriersRemoved,
    addressesRejudgedByVersion: o.rejudged,
    ...(Object.fromEntries(Object.entries(counts).map(([k, v]) => [camelKey(k), v])) as CamelCounts),
    changes: Object.values(counts).reduce((a, b) => a + b, 0),
    totals,
  };
}

/**
 * The carriers to normalize (field or normalizer version changed, or never normalized) and the ones
 * gone from carriers, in DOT order: one hash join of the two tables, read with COPY. It replaced a
 * count, a walk probing email_sources for every carrier and an anti-join: 8.4 s for a run with
 * nothing to do on 2.1M carriers, most of a monthly refresh's normalize.
 */
async function carriersToNormalize(store: Store, full: boolean): Promise<{ changed: number[]; gone: number[] }> {
  const changed: number[] = [];
  const gone: number[] = [];
  const reader = new DotFieldReader();
  const query = `
    select coalesce(c.dot_number, s.dot_number), case when c.dot_number is null then 'gone' end
      from carriers c full join email_sources s on s.dot_number = c.dot_number
     where ${full} or c.dot_number is null or s.dot_number is null or s.email_raw is distinct from c.email_raw or s.normalizer_version <> ${NORMALIZER_VERSION}
     order by 1`;
  // Two whole tables hashed: in memory rather than in 32 batches spilled to disk, and without JIT
  // compilation, which cost more than it saved (7.4 s -> 5.8 s on 2.1M carriers, on a loaded machine).
  for await (const chunk of store.copyTo(query, { jit: 'off', work_mem: '256MB' })) reader.push(chunk, (dot, mark) => (mark === null ? changed : gone).push(dot));
  return { changed, gone };
}

/** The e-mail fields of these carriers, in DOT order. */
async function fieldsOf(db: Store['db'], dots: number[]): Promise<CarrierField[]> {
  // Probed by key: `= any(array)` is an index scan of the primary key whatever the statistics say.
  const r = await sql<CarrierField>`
    select dot_number, email_raw from carriers where dot_number = any(${dots}::bigint[]) order by dot_number`.execute(db);
  return r.rows;
}

/** Normalizes the carriers whose field (or the normalizer) changed, page by page (see the top). */
async function runIncremental(ctx: StageContext, run: RunHandle, opts: NormalizeOptions): Promise<NormalizeSummary> {
  const db = ctx.store.db;
  const full = Boolean(opts.full);
  const withAddress = { delta: 0 };
  const write = (batch: ReturnType<typeof emptyBatch>, totals?: TotalsProbe) => writePage(ctx.store, batch, { runId: run.id, now: ctx.now(), withAddress, totals });
  let counts = zeroCounts();

  let t0 = Date.now();
  const lap = (what: string) => {
    ctx.out.debug(`normalize: ${what} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    t0 = Date.now();
  };
  // After a refresh the census merge has named the carriers whose field changed (changed-carriers.ts).
  const handed = full ? null : await takeChangedCarriers(ctx.store);
  const size = Math.max(1, opts.batchSize ?? (handed ? HANDED_BATCH : DEFAULT_BATCH));
  const found = handed ? null : await carriersToNormalize(ctx.store, full);
  const total = handed ? handed.carriers.length : found!.changed.length;
  const gone = found?.gone ?? [];
  lap(handed ? `took the ${total} carrier(s) the census run ${handed.censusRunId} changed` : 'found the carriers to normalize');
  if (total) ctx.out.info(`normalize: ${total} carrier(s) to normalize`);
  const threshold = ctx.config.email.sharedAddressThreshold;
  let probe: TotalsProbe | undefined;
  const progress = ctx.out.progress('normalize', total);
  let carriersNormalized = 0;
  for (let i = 0; i < total; i += size) {
    const page = handed ? handed.carriers.slice(i, i + size) : await fieldsOf(db, found!.changed.slice(i, i + size));
    // The ingest may have made the batch of the whole list already (whileServerWorks).
    const batch = handed?.batch && page.length === total ? handed.batch : batchFromCarriers(page);
    // After a handed list no step follows the last page: it says what the totals became.
    const last = handed && i + size >= total ? (probe = { threshold, before: null, delta: noTotals() }) : undefined;
    if (page.length) counts = addCounts(counts, await write(batch, last));
    carriersNormalized += page.length;
    progress.update(carriersNormalized);
  }
  progress.stop();
  lap(`normalized ${carriersNormalized} carrier(s)`);

  // Carriers gone from the table (never expected, ingest only deactivates): unlink them.
  for (let i = 0; i < gone.length; i += size) counts = addCounts(counts, await write({ ...emptyBatch(), removed: gone.slice(i, i + size) }));
  const carriersRemoved = gone.length;

  // Addresses no carrier re-normalized this run but judged by an older normalizer (e.g. no longer
  // listed by anyone): re-judge them under their stored address, so explain never shows a stale verdict.
  // Not after a handed list: it is certified only when the last normalize was whole, by this version.
  let rejudged = 0;
  for (let afterId = 0; !handed; ) {
    const old = await sql<{ id: number; address: string }>`
      select id, address from emails where normalizer_version <> ${NORMALIZER_VERSION}::int and id > ${afterId}::bigint
      order by id limit ${size}::int`.execute(db);
    if (!old.rows.length) break;
    const addresses = old.rows.map((r) => ({ ...normalizeAddress(r.address), address: r.address }));
    counts = addCounts(counts, await write({ ...emptyBatch(), addresses }));
    rejudged += old.rows.length;
    afterId = old.rows[old.rows.length - 1]!.id;
  }

  lap('re-judged the addresses of older normalizers');
  // After a handed list, the carriers listing an address are the whole normalize's count before
  // it moved by this run's link changes: counting the link table again read and sorted all of it.
  const withAddressBefore = handed?.carriersWithAddress ?? null;
  const emailTotals = probe?.before ? addTotals(probe.before, probe.delta) : await countEmailTotals(db, threshold);
  const carriersWithAddress =
    withAddressBefore === null
      ? (await sql<{ n: number }>`select count(distinct dot_number)::int as n from carrier_emails`.execute(db)).rows[0]!.n
      : withAddressBefore + withAddress.delta;
  const t = { ...emailTotals, carriersWithAddress };
  lap('counted the totals');
  return summaryOf(counts, { carriersNormalized, carriersRemoved, rejudged }, t);
}
