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
 * since the incremental path draws one from the sequence for every address it meets again.
 *
 * How: the carriers are read in DOT order with COPY ... TO (binary) on a connection of their own
 * and normalized here; each carrier's links stream into COPY carrier_emails meanwhile, on the
 * transaction's connection, so PostgreSQL reads, Node normalizes and PostgreSQL writes at once.
 * Distinct addresses get ids 1, 2, 3... as first met (AddressIds); their rows, the static reasons
 * and the carriers' state rows wait in temporary files (flat memory) until the links are in, since
 * each emails row carries its carrier count, known only at the end.
 *
 * One transaction with the run's ledger row: a crash rolls back to empty e-mail tables and the
 * next run does it again; a run that finds any of the four tables non-empty returns null and the
 * incremental path does the work.
 */
import { closeSync, createReadStream, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Transaction } from 'kysely';
import type { StageContext } from '../context.ts';
import { dropForeignKeysUntilRestored, dropIndexesUntilRebuilt, setDefaultsUntilRestored, truncateForFreeze } from '../db/bulk-load.ts';
import { BinaryRows } from '../db/copy-binary.ts';
import type { Database } from '../db/database.ts';
import type { Store } from '../db/store.ts';
import type { RunHandle } from '../runs.ts';
import { AddressIds } from './address-ids.ts';
import { normalizeField } from './normalize.ts';
import { NORMALIZER_VERSION } from './version.ts';
import { zeroCounts, type BatchCounts } from './write-batch.ts';

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
  const spool = new Spool(path.join(os.tmpdir(), `audience-normalize-${process.pid}-${run.id}`));
  try {
    return await store.transactionWithCopy(async (trx, copy) => {
      await sql`set local synchronous_commit = off`.execute(trx);
      if (!(await emailTablesEmpty(trx))) return null;
      const t0 = Date.now();
      ctx.out.info('normalize: the e-mail tables are empty: every carrier at once, with COPY');
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

      const pass = new NormalizePass(spool, ctx.config.email.sharedAddressThreshold);
      const progress = ctx.out.progress('normalize', await carrierCount(trx));
      let t = Date.now();
      const step = (what: string) => {
        const m = process.memoryUsage();
        ctx.out.debug(`normalize: ${what} in ${((Date.now() - t) / 1000).toFixed(1)} s (heap ${(m.heapUsed / 1e6).toFixed(0)} of ${(m.heapTotal / 1e6).toFixed(0)} MB, buffers ${(m.arrayBuffers / 1e6).toFixed(0)} MB, rss ${(m.rss / 1e6).toFixed(0)} MB)`);
        t = Date.now();
      };
      const links = await copy(
        { table: 'carrier_emails', columns: ['dot_number', 'email_id', 'position'], format: 'binary', encoding: 'UTF8', freeze: true },
        pass.links(store, (n) => progress.update(n)),
      );
      progress.stop();
      spool.close();
      pass.ids.release();
      step(`read and normalized ${pass.carriers} carriers, copied ${links} links`);
      await copy({ table: 'emails', columns: ['carrier_count', 'id', 'address', 'local_part', 'domain', 'valid'], format: 'binary', encoding: 'UTF8', freeze: true }, pass.emailRows());
      step(`copied ${pass.ids.size} addresses`);
      await copy({ table: 'email_reasons', columns: ['email_id', 'code', 'detail'], format: 'binary', encoding: 'UTF8', freeze: true }, rowChunks(spool.read('reasons')));
      await copy({ table: 'email_sources', columns: ['dot_number', 'email_raw'], format: 'binary', encoding: 'UTF8', freeze: true }, rowChunks(spool.read('sources')));
      step('copied the reasons and state rows');
      for (const restore of restoreDefaults) await restore();
      // The ids were given here: the identity continues after them.
      if (pass.ids.size) await sql`select setval(pg_get_serial_sequence('emails', 'id'), ${pass.ids.size}::bigint)`.execute(trx);
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
        `normalize: ${pass.carriers} carriers, ${pass.ids.size} addresses, ${links} links copied in ${((loaded - t0) / 1000).toFixed(1)} s; keys and indexes built in ${((Date.now() - loaded) / 1000).toFixed(1)} s`,
      );
      const result = pass.result(links);
      await finish(trx, result);
      return result;
    });
  } finally {
    spool.remove();
  }
}

/** The carriers to read, for the progress bar (the planner has no estimate right after a first load). */
async function carrierCount(trx: Transaction<Database>): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::bigint as n from carriers`.execute(trx);
  return Number(r.rows[0]?.n ?? 0);
}

/** The walk over the carriers: what it wrote, and the rows of emails once every link is counted. */
class NormalizePass {
  readonly ids = new AddressIds();
  /** Carriers listing each address (by id). */
  private linkCounts = new Int32Array(1 << 16);
  carriers = 0;
  private carriersWithAddress = 0;
  private valid = 0;
  private reasons = 0;

  constructor(
    private readonly spool: Spool,
    private readonly sharedThreshold: number,
  ) {}

  /** The carrier_emails rows (binary COPY), read from carriers in DOT order, page by page. */
  async *links(store: Store, progress: (n: number) => void): AsyncGenerator<Uint8Array> {
    const rows = new BinaryRows();
    const reader = new DotFieldReader();
    for (let after = 0; ; ) {
      const before = this.carriers;
      let last = after;
      const query = `select dot_number, email_raw from carriers where dot_number > ${after} order by dot_number limit ${PAGE}`;
      for await (const chunk of store.copyTo(query)) {
        reader.push(chunk, (dot, raw, field) => {
          last = dot;
          this.carrier(rows, dot, raw, field);
        });
        if (rows.pending >= 1 << 20) yield* rows.take();
        progress(this.carriers);
      }
      reader.end();
      if (this.carriers - before < PAGE) break;
      after = last;
    }
    yield* rows.take();
  }

  private carrier(links: BinaryRows, dot: number, raw: string | null, sourceRow: Uint8Array): void {
    this.carriers++;
    // The state row is the row as read: (dot_number, email_raw) in the same binary layout.
    this.spool.sources.raw(sourceRow);
    const addresses = normalizeField(raw);
    if (addresses.length) this.carriersWithAddress++;
    for (let i = 0; i < addresses.length; i++) {
      const a = addresses[i]!;
      let id = this.ids.idOf(a.address);
      if (id < 0) {
        id = -id;
        const e = this.spool.emails;
        // carrier_count first, so the count can be filled in at a fixed offset of each row.
        e.row(6);
        e.int4(0);
        e.int8(id);
        e.text(a.address);
        e.text(a.local_part);
        e.text(a.domain);
        e.bool(a.valid);
        if (a.valid) this.valid++;
        // The static reasons, as write-batch.ts words them.
        if (a.problem !== null) this.reason(id, 'invalid_syntax', a.problem);
        if (a.typo !== null)
          this.reason(id, 'typo_domain', `${a.domain} is a known misspelling of ${a.typo}: did you mean ${a.local_part}@${a.typo}? (not corrected automatically)`);
        if (id >= this.linkCounts.length) {
          const next = new Int32Array(Math.ceil(this.linkCounts.length * 1.5));
          next.set(this.linkCounts);
          this.linkCounts = next;
        }
      }
      this.linkCounts[id]!++;
      links.row(3);
      links.int8(dot);
      links.int8(id);
      links.int4(i + 1);
    }
    this.spool.flush();
  }

  private reason(id: number, code: string, detail: string): void {
    const r = this.spool.reasons;
    r.row(3);
    r.int8(id);
    r.text(code);
    r.text(detail);
    this.reasons++;
  }

  /** The emails rows from their file, each with its carrier count (rows are in id order). */
  async *emailRows(): AsyncGenerator<Uint8Array> {
    let id = 0;
    for await (const chunk of rowChunks(this.spool.read('emails'))) {
      for (let p = 0; p < chunk.length; ) {
        id++;
        // int16 field count, int32 length 4, then the count.
        chunk.writeInt32BE(this.linkCounts[id]!, p + 6);
        p = rowEnd(chunk, p);
      }
      yield chunk;
    }
  }

  result(links: number): FirstNormalizeResult {
    const addresses = this.ids.size;
    let shared = 0;
    for (let id = 1; id <= addresses; id++) if (this.linkCounts[id]! >= this.sharedThreshold) shared++;
    return {
      counts: { ...zeroCounts(), addresses_new: addresses, reasons_added: this.reasons, links_added: links, sources_recorded: this.carriers },
      carriersNormalized: this.carriers,
      totals: { addresses, valid: this.valid, invalid: addresses - this.valid, linked: addresses, shared, carriersWithAddress: this.carriersWithAddress },
    };
  }
}

/**
 * Rows of a (bigint, text) query such as `select dot_number, email_raw` in COPY's binary format,
 * chunk by chunk: each row's DOT number, its text (null when NULL), and the row's bytes, which are
 * also a valid (dot_number, email_raw) row of email_sources.
 */
export class DotFieldReader {
  private carry: Buffer | null = null;
  private header = true;

  push(data: Uint8Array, onRow: (dot: number, raw: string | null, row: Uint8Array) => void): void {
    let buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.carry) buf = Buffer.concat([this.carry, buf]);
    this.carry = null;
    let p = 0;
    if (this.header) {
      // Signature (11), flags (4), header extension length (4) and the extension.
      if (buf.length < 19) {
        this.carry = buf;
        return;
      }
      p = 19 + buf.readInt32BE(15);
      this.header = false;
    }
    while (p + 2 <= buf.length) {
      const fields = buf.readInt16BE(p);
      if (fields === -1) {
        p += 2;
        break;
      }
      // int16 count, int32 8 + the bigint, int32 length (-1: NULL) + the text.
      if (p + 18 > buf.length) break;
      const len = buf.readInt32BE(p + 14);
      const end = p + 18 + Math.max(len, 0);
      if (end > buf.length) break;
      const dot = Number(buf.readBigInt64BE(p + 6));
      onRow(dot, len < 0 ? null : buf.toString('utf8', p + 18, end), buf.subarray(p, end));
      p = end;
    }
    if (p < buf.length) this.carry = Buffer.from(buf.subarray(p));
  }

  /** The end of one COPY: the next starts with its own header. */
  end(): void {
    this.carry = null;
    this.header = true;
  }
}

/** Where a binary row starting at `p` ends (the chunk holds whole rows). */
function rowEnd(buf: Buffer, p: number): number {
  const fields = buf.readInt16BE(p);
  p += 2;
  for (let f = 0; f < fields; f++) {
    const len = buf.readInt32BE(p);
    p += 4 + Math.max(len, 0);
  }
  return p;
}

/** Re-chunks a file of binary rows on row boundaries. */
async function* rowChunks(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let carry: Buffer | null = null;
  for await (const data of source) {
    const buf: Buffer = carry ? Buffer.concat([carry, data]) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let p = 0;
    for (;;) {
      if (p + 2 > buf.length) break;
      let q = p + 2;
      const fields = buf.readInt16BE(p);
      let whole = true;
      for (let f = 0; f < fields; f++) {
        if (q + 4 > buf.length) {
          whole = false;
          break;
        }
        q += 4 + Math.max(buf.readInt32BE(q), 0);
      }
      if (!whole || q > buf.length) break;
      p = q;
    }
    if (p > 0) yield buf.subarray(0, p);
    carry = p < buf.length ? Buffer.from(buf.subarray(p)) : null;
  }
  if (carry?.length) yield carry;
}

/** Temporary files of binary rows (emails, reasons, sources), written as they fill and read back whole. */
class Spool {
  readonly emails = new BinaryRows();
  readonly reasons = new BinaryRows();
  readonly sources = new BinaryRows();
  private fds: Record<'emails' | 'reasons' | 'sources', number> | null = null;

  constructor(private readonly base: string) {}

  private file(name: string): string {
    return `${this.base}-${name}.bin`;
  }

  private open(): Record<'emails' | 'reasons' | 'sources', number> {
    this.fds ??= { emails: openSync(this.file('emails'), 'w'), reasons: openSync(this.file('reasons'), 'w'), sources: openSync(this.file('sources'), 'w') };
    return this.fds;
  }

  /** Writes out what is buffered once it is big enough to be worth a write. */
  flush(force = false): void {
    for (const name of ['emails', 'reasons', 'sources'] as const) {
      const rows = this[name];
      if (!force && rows.pending < 1 << 20) continue;
      const fd = this.open()[name];
      for (const c of rows.take()) writeSync(fd, c);
    }
  }

  close(): void {
    this.flush(true);
    if (!this.fds) return;
    for (const fd of Object.values(this.fds)) closeSync(fd);
    this.fds = null;
  }

  read(name: 'emails' | 'reasons' | 'sources'): AsyncIterable<Uint8Array> {
    return createReadStream(this.file(name), { highWaterMark: 1 << 20 });
  }

  remove(): void {
    try {
      this.close();
    } finally {
      for (const name of ['emails', 'reasons', 'sources']) rmSync(this.file(name), { force: true });
    }
  }
}
