/**
 * The monthly refresh's hand-off to the normalize that follows it in the ingest job (issue #15):
 * the census merge names the carriers it updated or inserted whose e-mail field now differs from
 * the one normalized (email_sources), so the normalize need not find them again by a full join of
 * carriers and email_sources (3-5 s on 2.1M carriers, for 80k changed).
 *
 * The list is complete only if nothing else was left to normalize before the merge. The ledger
 * says so (certified below): the last normalize before the merge finished whole, by this
 * normalizer version, after the census run before it had committed, and before the merge began.
 * A normalize run that finishes whole re-judges every address of an older version and leaves no
 * carrier whose field differs from its email_sources row; only a census run changes a carrier's
 * field (carriers has no other writer), and it commits its ledger row with its rows. When the
 * ledger cannot say so (a normalize failed or was skipped with --no-normalize, a run overlapped,
 * the clock went back), the normalize finds its carriers by the full join as before. Either way
 * the carriers normalized, and so every row written, are the same (test/census-refresh.db.test.ts).
 */
import { sql } from 'kysely';
import type { Store } from '../db/store.ts';
import { batchFromCarriers, type CarrierField, type NormalizeBatch } from './batch.ts';
import { NORMALIZER_VERSION } from './version.ts';

export interface ChangedCarriers {
  /** The ingest-census run whose merge found them. */
  censusRunId: number;
  /**
   * Their fields as the merge wrote them, in DOT order: the normalize need not read them back
   * (on a refresh that read was ~50k carrier pages, each dirtied again by its hint bits).
   */
  carriers: CarrierField[];
  /**
   * Their write batch (batchFromCarriers of them all), when the ingest made it while the server
   * was busy with the rest of its transaction (whileServerWorks): the normalize need not make it.
   */
  batch?: NormalizeBatch;
}

const offers = new WeakMap<Store, ChangedCarriers>();

/**
 * True for the carrier row `c` (as just written) when its e-mail field is not the one it was
 * normalized from, or was normalized by another version, or never: the census merge's RETURNING
 * asks it of each carrier it updates or inserts, probing email_sources by key.
 */
export function fieldToNormalize(c: string) {
  return sql`not exists (select 1 from email_sources s where s.dot_number = ${sql.ref(`${c}.dot_number`)}
    and s.email_raw is not distinct from ${sql.ref(`${c}.email_raw`)} and s.normalizer_version = ${NORMALIZER_VERSION}::int)`;
}

/**
 * Awaits `work` (a statement of the census transaction, the --snapshot deactivation) after making
 * the batch of `changed` meanwhile: the client would otherwise wait on the server for the one and
 * the server on the client for the other (0.3-0.5 s of JavaScript for a month's 80k carriers).
 * One turn of the event loop first, so the statement is on its way before the loop is held.
 */
export async function whileServerWorks<T>(work: Promise<T>, changed: ChangedCarriers | null): Promise<T> {
  if (changed && !changed.batch) {
    // Its failure is the caller's, below; meanwhile it must not count as an unhandled rejection.
    work.catch(() => {});
    await new Promise<void>((resolve) => setImmediate(resolve));
    changed.batch = batchFromCarriers(changed.carriers);
  }
  return work;
}

/** Hands the list to the next normalize on this store (the ingest job's next stage). */
export function offerChangedCarriers(store: Store, changed: ChangedCarriers): void {
  offers.set(store, changed);
}

/**
 * The offered list, once, when the ledger certifies it complete (see the top); else null. With it,
 * the carriers listing an address as that whole normalize counted them (its summary's totals, null
 * when it has none): only normalize writes carrier_emails, so the count holds until this one.
 */
export async function takeChangedCarriers(store: Store): Promise<(ChangedCarriers & { carriersWithAddress: number | null }) | null> {
  const offer = offers.get(store) ?? null;
  offers.delete(store);
  if (!offer) return null;
  const c = await certified(store, offer.censusRunId);
  return c.ok ? { ...offer, carriersWithAddress: c.carriersWithAddress } : null;
}

/**
 * Whether the census run's merge was the only change since a whole normalize: the run committed
 * and no census run came after it; the normalize run just before it (of any status) finished ok
 * with this normalizer version, started after the census run before it finished, and finished
 * before it started. Run ids give the order whatever the clock says; the times, that runs of the
 * two stages (which take different locks) did not overlap.
 */
async function certified(store: Store, censusRunId: number): Promise<{ ok: boolean; carriersWithAddress: number | null }> {
  const r = await sql<{ ok: boolean; with_address: number | null }>`
    with census as (select id, status, started_at from runs where id = ${censusRunId}::bigint and stage = 'ingest-census'),
    norm as (select id, status, started_at, finished_at, counts from runs
              where stage = 'normalize' and id < ${censusRunId}::bigint order by id desc limit 1),
    prev as (select id, finished_at from runs
              where stage = 'ingest-census' and status = 'ok' and id < ${censusRunId}::bigint order by id desc limit 1)
    select coalesce((
      select c.status = 'ok'
         and not exists (select 1 from runs l where l.stage = 'ingest-census' and l.id > c.id)
         and n.status = 'ok' and (n.counts ->> 'normalizerVersion')::int = ${NORMALIZER_VERSION}::int
         and n.finished_at <= c.started_at
         and (p.id is null or (p.id < n.id and p.finished_at <= n.started_at))
        from census c cross join norm n left join prev p on true), false) as ok,
      (select (counts -> 'totals' ->> 'carriersWithAddress')::int from norm) as with_address`.execute(store.db);
  const w = r.rows[0]?.with_address;
  return { ok: Boolean(r.rows[0]?.ok), carriersWithAddress: w === null || w === undefined ? null : Number(w) };
}
