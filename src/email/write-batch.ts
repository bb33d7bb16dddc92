/**
 * Stores a NormalizeBatch in one transaction with a fixed number of set-based statements (the
 * batch COPYed into scratch tables, then merges), whatever the batch size: addresses upserted,
 * static reasons replaced, carrier links replaced, carrier counts moved for every address whose
 * links changed, and the carriers' state rows recorded. Every statement writes only rows that
 * differ, so writing the same batch twice reports zero changes.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { BinaryRows } from '../db/copy-binary.ts';
import type { Database } from '../db/database.ts';
import type { Store } from '../db/store.ts';
import type { NormalizeBatch } from './batch.ts';
import { NORMALIZER_VERSION } from './version.ts';

export interface BatchCounts {
  addresses_new: number;
  addresses_rejudged: number;
  reasons_added: number;
  reasons_changed: number;
  reasons_removed: number;
  links_added: number;
  links_changed: number;
  links_removed: number;
  carrier_counts_changed: number;
  sources_recorded: number;
  sources_removed: number;
}

export function zeroCounts(): BatchCounts {
  return {
    addresses_new: 0,
    addresses_rejudged: 0,
    reasons_added: 0,
    reasons_changed: 0,
    reasons_removed: 0,
    links_added: 0,
    links_changed: 0,
    links_removed: 0,
    carrier_counts_changed: 0,
    sources_recorded: 0,
    sources_removed: 0,
  };
}

export function addCounts(a: BatchCounts, b: BatchCounts): BatchCounts {
  const out = { ...a };
  for (const k of Object.keys(b) as (keyof BatchCounts)[]) out[k] += b[k];
  return out;
}

/** Codes whose rows normalize owns in email_reasons (it deletes them when they no longer apply). */
export const STATIC_REASON_CODES = ['invalid_syntax', 'typo_domain'] as const;

type Trx = Transaction<Database>;

async function count(trx: Trx, query: ReturnType<typeof sql>): Promise<{ a: number; b: number }> {
  const r = await sql<{ a: number; b: number }>`${query}`.execute(trx);
  return { a: Number(r.rows[0]?.a ?? 0), b: Number(r.rows[0]?.b ?? 0) };
}

/** What a batch's options may ask for besides its counts. */
export interface BatchOptions {
  runId: number;
  now: Date;
  /**
   * Added to: how many more carriers list an address after the batch than before (a carrier's
   * links replaced, or removed), from the rows the link statements return, so a normalize that
   * knows the count before it need not count the link table again (stage.ts).
   */
  withAddress?: { delta: number };
  /**
   * The transaction's COPY (store.transactionWithCopy): the batch's rows go to its scratch tables
   * as binary COPY rows, not as array parameters, whose text pg builds element by element and the
   * server parses again (about 0.5 s of the client's time on a monthly refresh's 80k carriers,
   * while the server waited).
   */
  copy: Store['copy'];
  /** Asked by a normalize of its last page: what the page moves the e-mail totals by, added to its delta. */
  totals?: TotalsProbe;
}

/** The e-mail table's totals a normalize reports (stage.ts), but the carriers listing an address. */
export interface EmailTotals {
  addresses: number;
  valid: number;
  invalid: number;
  linked: number;
  shared: number;
}

/**
 * Asked of its last page by a normalize (stage.ts): the e-mail totals as another connection saw
 * them while the page was written, and what the page moved them by. Their sum is the totals after
 * it, with no count of the whole table after it (0.4-0.7 s at census scale, the last thing a monthly
 * refresh did; counted meanwhile, it costs no wait). `before` stays null where there is no other
 * connection (PGlite): the caller counts then.
 */
export interface TotalsProbe {
  /** Carriers at which an address counts as shared (config email.sharedAddressThreshold). */
  threshold: number;
  before: EmailTotals | null;
  delta: EmailTotals;
}

export const noTotals = (): EmailTotals => ({ addresses: 0, valid: 0, invalid: 0, linked: 0, shared: 0 });

export function addTotals(a: EmailTotals, b: EmailTotals): EmailTotals {
  return { addresses: a.addresses + b.addresses, valid: a.valid + b.valid, invalid: a.invalid + b.invalid, linked: a.linked + b.linked, shared: a.shared + b.shared };
}

/** The e-mail totals as a statement on `db` sees the table. */
export async function countEmailTotals(db: Kysely<Database>, threshold: number): Promise<EmailTotals> {
  const r = await sql<EmailTotals>`
    select count(*)::int as addresses, count(*) filter (where valid)::int as valid, count(*) filter (where not valid)::int as invalid,
           count(*) filter (where carrier_count > 0)::int as linked, count(*) filter (where carrier_count >= ${threshold}::int)::int as shared
    from emails`.execute(db);
  return r.rows[0]!;
}

export async function writeBatch(trx: Trx, batch: NormalizeBatch, opts: BatchOptions): Promise<BatchCounts> {
  const c = zeroCounts();
  // Every statement below joins one page (at most a few thousand rows) to the big tables by key.
  // During a first load the tables' statistics lag far behind (autovacuum cannot keep up with
  // 2M rows in minutes) and the planner then hashes or merges whole tables on every page. Index
  // nested loops are the right plan for each of these statements, so the batch asks for them,
  // and gives the settings back before returning (explain runs the rules in the same transaction).
  // JIT compilation would cost more than any of these statements. Not given back after a failure:
  // the transaction is aborted then (its rollback restores them), and a statement sent to it would
  // fail too, its error hiding the one that says what went wrong.
  await sql`set local enable_hashjoin = off`.execute(trx);
  await sql`set local enable_mergejoin = off`.execute(trx);
  await sql`set local jit = off`.execute(trx);
  await writeBatchStatements(trx, batch, opts, c);
  await sql`set local enable_hashjoin = default`.execute(trx);
  await sql`set local enable_mergejoin = default`.execute(trx);
  await sql`set local jit = default`.execute(trx);
  return c;
}

async function writeBatchStatements(trx: Trx, batch: NormalizeBatch, opts: BatchOptions, c: BatchCounts): Promise<BatchCounts> {
  // Links per address in this batch: a new address's carrier count is exactly that, so it is
  // written with the row and needs no update afterwards (most rows of a first run).
  const linksPer = new Map<string, number>();
  for (const l of batch.links) linksPer.set(l.address, (linksPer.get(l.address) ?? 0) + 1);
  await sql`drop table if exists pg_temp.nb_addr, pg_temp.nb_addr_id, pg_temp.nb_link, pg_temp.nb_link_id, pg_temp.nb_carrier, pg_temp.nb_reason`.execute(trx);
  await loadBatchTables(trx, batch, linksPer, opts.copy);
  // Temp tables have no statistics until analyzed: with row counts the planner drives each join
  // from the page and probes the big tables by index.
  await sql`analyze pg_temp.nb_addr, pg_temp.nb_link`.execute(trx);

  // Addresses: new ones inserted; existing ones re-judged only when the verdict differs. Not one
  // INSERT ... ON CONFLICT DO UPDATE ... WHERE: that locks every existing row it meets even when its
  // WHERE leaves the row alone, and a lock is a write (the row's xmax set, its page dirtied and
  // logged, a full-page image after a checkpoint). DO NOTHING takes no lock; the join that gives
  // every address its id says which existing ones to re-judge (none, unless the normalizer changed).
  const inserted = await sql<{ id: number; valid: boolean; carrier_count: number }>`
    insert into emails (address, local_part, domain, valid, normalizer_version, carrier_count)
    select address, local_part, domain, valid, ${NORMALIZER_VERSION}::int, links from pg_temp.nb_addr
    on conflict (address) do nothing
    returning id, valid, carrier_count`.execute(trx);
  const insertedIds = new Set(inserted.rows.map((r) => Number(r.id)));
  c.addresses_new = insertedIds.size;
  const moves = opts.totals?.delta ?? noTotals();
  for (const r of inserted.rows) {
    moves.addresses++;
    moves[r.valid ? 'valid' : 'invalid']++;
    moves.linked += r.carrier_count > 0 ? 1 : 0;
    moves.shared += r.carrier_count >= (opts.totals?.threshold ?? Infinity) ? 1 : 0;
  }

  // Static reasons of these addresses: exactly the ones the normalizer found, `since` kept from the first run.
  await sql`create temp table nb_addr_id on commit drop as
    select a.*, e.id as email_id, e.valid as was_valid,
           (e.local_part, e.domain, e.valid, e.normalizer_version) is distinct from (a.local_part, a.domain, a.valid, ${NORMALIZER_VERSION}::int) as rejudge
      from pg_temp.nb_addr a join emails e on e.address = a.address`.execute(trx);
  const rejudged = await count(
    trx,
    sql`with u as (
      update emails e
         set local_part = a.local_part, domain = a.domain, valid = a.valid, normalizer_version = ${NORMALIZER_VERSION}::int
        from pg_temp.nb_addr_id a
       where a.rejudge and e.id = a.email_id
      returning a.valid::int - a.was_valid::int as turned_valid)
    select count(*) as a, coalesce(sum(turned_valid), 0) as b from u`,
  );
  c.addresses_rejudged = rejudged.a;
  moves.valid += rejudged.b;
  moves.invalid -= rejudged.b;
  await sql`create index on pg_temp.nb_addr_id (email_id)`.execute(trx);
  await sql`analyze pg_temp.nb_addr_id`.execute(trx);
  await sql`create temp table nb_link_id on commit drop as
    select l.dot_number, e.id as email_id, l.position from pg_temp.nb_link l join emails e on e.address = l.address`.execute(trx);
  await sql`create index on pg_temp.nb_link_id (dot_number, email_id)`.execute(trx);
  await sql`analyze pg_temp.nb_link_id`.execute(trx);

  await sql`create temp table nb_reason on commit drop as
    select a.email_id, r.code, r.detail
    from pg_temp.nb_addr_id a
    cross join lateral (values
      ('invalid_syntax', a.problem),
      ('typo_domain', case when a.typo is not null then
         a.domain || ' is a known misspelling of ' || a.typo || ': did you mean ' || a.local_part || '@' || a.typo || '? (not corrected automatically)' end)
    ) as r(code, detail)
    where r.detail is not null`.execute(trx);
  await sql`create index on pg_temp.nb_reason (email_id, code)`.execute(trx);
  await sql`analyze pg_temp.nb_reason`.execute(trx);
  const removedReasons = await count(
    trx,
    sql`with d as (
      delete from email_reasons er using pg_temp.nb_addr_id a
      where er.email_id = a.email_id and er.code in (${sql.join([...STATIC_REASON_CODES])})
        and not exists (select 1 from pg_temp.nb_reason r where r.email_id = er.email_id and r.code = er.code)
      returning 1)
    select count(*) as a, 0 as b from d`,
  );
  c.reasons_removed = removedReasons.a;
  const reasons = await count(
    trx,
    sql`with up as (
      insert into email_reasons (email_id, code, detail, since)
      select email_id, code, detail, ${opts.now}::timestamptz from pg_temp.nb_reason
      on conflict (email_id, code) do update set detail = excluded.detail where email_reasons.detail is distinct from excluded.detail
      returning (xmax = 0) as inserted)
    select count(*) filter (where inserted) as a, count(*) filter (where not inserted) as b from up`,
  );
  c.reasons_added = reasons.a;
  c.reasons_changed = reasons.b;

  // Links of these carriers replaced. Each address's count moves by the links this batch added and
  // removed, in the same transaction: the count stays exact without recounting an address's links
  // (an address listed by thousands of carriers was counted again on every page that touched it).
  // The page's carriers (nb_carrier, removed ones included) drive the delete, each probing the
  // key's index. A sequential scan of the link table is switched off: a page of 10,000 DOT numbers
  // in `any(...)` was costed above one, and every page read all 1.6M links (0.3-0.45 s a page on a
  // monthly refresh of 80k carriers). With `any(...)` of a refresh's one page of 80k the planner
  // then walked the whole email_id index instead, filtering each link by the array (0.6-1.1 s,
  // every link page read). Joined, the one relation left to scan is nb_carrier: the only plan is
  // a loop over the page's carriers (0.45-0.6 s for those 80k).
  await sql`set local enable_seqscan = off`.execute(trx);
  const removedLinks = await sql<{ dot_number: number; email_id: number }>`
    delete from carrier_emails ce using pg_temp.nb_carrier c
    where ce.dot_number = c.dot_number
      and not exists (select 1 from pg_temp.nb_link_id l where l.dot_number = ce.dot_number and l.email_id = ce.email_id)
    returning ce.dot_number, ce.email_id`.execute(trx);
  await sql`set local enable_seqscan = default`.execute(trx);
  c.links_removed = removedLinks.rows.length;
  const upsertedLinks = await sql<{ dot_number: number; email_id: number; inserted: boolean }>`
    insert into carrier_emails (dot_number, email_id, position)
    select dot_number, email_id, position from pg_temp.nb_link_id
    on conflict (dot_number, email_id) do update set position = excluded.position where carrier_emails.position <> excluded.position
    returning dot_number, email_id, (xmax = 0) as inserted`.execute(trx);
  const delta = new Map<number, number>();
  for (const r of removedLinks.rows) delta.set(Number(r.email_id), (delta.get(Number(r.email_id)) ?? 0) - 1);
  let added = 0;
  for (const r of upsertedLinks.rows) {
    if (!r.inserted) continue;
    added++;
    delta.set(Number(r.email_id), (delta.get(Number(r.email_id)) ?? 0) + 1);
  }
  c.links_added = added;
  c.links_changed = upsertedLinks.rows.length - added;
  if (opts.withAddress) opts.withAddress.delta += withAddressDelta(batch, removedLinks.rows, upsertedLinks.rows);
  // Addresses inserted by this batch were written with their count (their links are all new).
  const moved = [...delta].filter(([id, n]) => n !== 0 && !insertedIds.has(id));
  const threshold = opts.totals?.threshold ?? null;
  const counts = await sql<{ changed: number; linked: number; shared: number }>`
    with u as (
      update emails e set carrier_count = e.carrier_count + n.n
      from unnest(${moved.map(([id]) => id)}::bigint[], ${moved.map(([, n]) => n)}::int[]) as n(id, n)
      where e.id = n.id
      returning e.carrier_count as now, e.carrier_count - n.n as was)
    select count(*)::int as changed, coalesce(sum((now > 0)::int - (was > 0)::int), 0)::int as linked,
           coalesce(sum((now >= ${threshold}::int)::int - (was >= ${threshold}::int)::int), 0)::int as shared
      from u`.execute(trx);
  c.carrier_counts_changed = counts.rows[0]!.changed;
  moves.linked += counts.rows[0]!.linked;
  moves.shared += counts.rows[0]!.shared;

  // State: the field each carrier was normalized from, in the same transaction as its links.
  const sources = await count(
    trx,
    sql`with up as (
      insert into email_sources (dot_number, email_raw, normalizer_version, run_id, normalized_at)
      select dot_number, email_raw, ${NORMALIZER_VERSION}::int, ${opts.runId}::bigint, ${opts.now}::timestamptz
      from pg_temp.nb_carrier where not removed
      on conflict (dot_number) do update
        set email_raw = excluded.email_raw, normalizer_version = excluded.normalizer_version, run_id = excluded.run_id, normalized_at = excluded.normalized_at
        where (email_sources.email_raw, email_sources.normalizer_version) is distinct from (excluded.email_raw, excluded.normalizer_version)
      returning 1),
    d as (delete from email_sources s where s.dot_number = any(${batch.removed}::bigint[]) returning 1)
    select (select count(*) from up) as a, (select count(*) from d) as b`,
  );
  c.sources_recorded = sources.a;
  c.sources_removed = sources.b;
  return c;
}

/**
 * Writes a batch in a transaction of its own and commits it. Asked for the totals (TotalsProbe), on
 * PostgreSQL it counts them meanwhile on another connection: awaited before the commit, the count
 * never sees the page. PGlite has one session, where the count would see the page half-written.
 */
export async function writePage(store: Store, batch: NormalizeBatch, opts: Omit<BatchOptions, 'copy'>): Promise<BatchCounts> {
  return store.transactionWithCopy(async (trx, copy) => {
    await relaxedCommit(trx);
    const probe = store.kind === 'pg' ? opts.totals : undefined;
    const before = probe ? countEmailTotals(store.db, probe.threshold) : null;
    // Awaited before the commit, below; meanwhile not an unhandled rejection.
    before?.catch(() => {});
    const c = await writeBatch(trx, batch, { ...opts, copy });
    if (probe && before) probe.before = await before;
    return c;
  });
}

/**
 * A page's commit lost in a server crash is harmless: its state rows go with its links, and the
 * run's ledger row, committed after every page and waiting for its flush, flushes the pages' too.
 */
const relaxedCommit = (trx: Trx) => sql`set local synchronous_commit = off`.execute(trx);

/**
 * Carriers of the batch that list an address after it, less those that did before. After: the
 * batch's links are exactly each carrier's (none for one removed). Before: a carrier had a link
 * the batch deleted, or one of its links in the batch was there already (not inserted).
 */
function withAddressDelta(batch: NormalizeBatch, removed: { dot_number: number }[], upserted: { dot_number: number; inserted: boolean }[]): number {
  const linksAfter = new Map<number, number>();
  for (const l of batch.links) linksAfter.set(l.dot_number, (linksAfter.get(l.dot_number) ?? 0) + 1);
  const hadLink = new Set<number>();
  for (const r of removed) hadLink.add(Number(r.dot_number));
  const inserted = new Map<number, number>();
  for (const r of upserted) if (r.inserted) inserted.set(Number(r.dot_number), (inserted.get(Number(r.dot_number)) ?? 0) + 1);
  for (const [dot, n] of linksAfter) if (n > (inserted.get(dot) ?? 0)) hadLink.add(dot);
  let delta = 0;
  for (const c of batch.carriers) delta += (linksAfter.has(c.dot_number) ? 1 : 0) - (hadLink.has(c.dot_number) ? 1 : 0);
  for (const dot of batch.removed) delta -= hadLink.has(dot) ? 1 : 0;
  return delta;
}

/** The scratch tables a batch's statements read, as the batch gives them (see BatchOptions.copy). */
const SCRATCH = {
  nb_addr: ['address text', 'local_part text', 'domain text', 'valid boolean', 'problem text', 'typo text', 'links int'],
  nb_link: ['dot_number bigint', 'address text', 'position int'],
  nb_carrier: ['dot_number bigint', 'email_raw text', 'removed boolean'],
} as const;

/** The batch into nb_addr (each address with its links in the batch), nb_link and nb_carrier. */
async function loadBatchTables(trx: Trx, batch: NormalizeBatch, linksPer: Map<string, number>, copy: Store['copy']): Promise<void> {
  for (const [table, columns] of Object.entries(SCRATCH)) await sql.raw(`create temp table ${table} (${columns.join(', ')}) on commit drop`).execute(trx);
  const addr = new BinaryRows();
  for (const a of batch.addresses) {
    addr.row(7);
    addr.text(a.address);
    addr.text(a.local_part);
    addr.text(a.domain);
    addr.bool(a.valid);
    addr.text(a.problem);
    addr.text(a.typo);
    addr.int4(linksPer.get(a.address) ?? 0);
  }
  const links = new BinaryRows();
  for (const l of batch.links) {
    links.row(3);
    links.int8(l.dot_number);
    links.text(l.address);
    links.int4(l.position);
  }
  const carriers = new BinaryRows();
  for (const c of batch.carriers) {
    carriers.row(3);
    carriers.int8(c.dot_number);
    carriers.text(c.email_raw);
    carriers.bool(false);
  }
  for (const dot of batch.removed) {
    carriers.row(3);
    carriers.int8(dot);
    carriers.null();
    carriers.bool(true);
  }
  for (const [table, rows] of [['nb_addr', addr], ['nb_link', links], ['nb_carrier', carriers]] as const) {
    if (!rows.count) continue;
    const columns = SCRATCH[table].map((c) => c.split(' ')[0]!);
    await copy({ table: `pg_temp.${table}`, columns, format: 'binary', encoding: 'UTF8' }, rows.chunks());
  }
}
