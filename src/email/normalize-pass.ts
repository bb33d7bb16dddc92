/**
 * One walk over every carrier's e-mail field for the first normalize (first-normalize.ts), fed
 * either by the census first load's byte pass (census-email-pass.ts) or by reading carriers back:
 * each carrier's links, its state row, and each address the first time it is met (its emails row
 * and static reasons), as COPY binary rows. Links and state rows go to the spool as they are made
 * (or, reading back, the links straight into their COPY); the emails rows get their carrier count
 * when they are read back from the spool, once every link is counted.
 *
 * Ids are given in the order addresses are met. The incremental path meets them in DOT order
 * (then field order); a census file is not always sorted by DOT number, so when the carriers did
 * not come in ascending order, FinishedPass.idsInDotOrder() works out the ids that order gives and
 * remapIds() rewrites them in the rows on their way to COPY.
 */
import { BinaryRows } from '../db/copy-binary.ts';
import type { Store } from '../db/store.ts';
import { AddressIds, grow } from './address-ids.ts';
import { DotFieldReader } from './dot-field-reader.ts';
import type { FirstNormalizeResult } from './first-normalize.ts';
import { normalizeField } from './normalize.ts';
import { rowEnd, type Spool } from './row-spool.ts';
import { zeroCounts } from './write-batch.ts';

/** Offsets of the bigint id in a row of carrier_emails (dot_number, email_id, position), emails (carrier_count, id, ...) and email_reasons (email_id, ...). */
export const LINK_ID_AT = 18;
export const EMAIL_ID_AT = 14;
export const REASON_ID_AT = 6;
/** A link row: three fixed-size fields (int8, int8, int4). */
const LINK_ROW = 34;
/** Positions in a field are below this (an e-mail field is at most 1,024 bytes): DOT order key = dot * POS + position. */
const POS = 1024;
/** DOT numbers below this keep the order key exact in a double. */
export const MAX_ORDERED_DOT = 2 ** 43;

export class NormalizePass {
  private readonly ids: AddressIds;
  /** carrier_emails rows: spooled when the spool has a links file, else taken by readCarriers. */
  private readonly links: BinaryRows;
  /** Carriers listing each address (by id). */
  private linkCounts: Int32Array<ArrayBuffer>;
  carriers = 0;
  private carriersWithAddress = 0;
  private valid = 0;
  private reasons = 0;
  /** Whether every carrier came after one with a lower DOT number: then ids are in DOT order already. */
  private ascending = true;
  private lastDot = 0;

  constructor(
    private readonly spool: Spool,
    private readonly sharedThreshold: number,
    /** Addresses to make room for at once (AddressIds): a guess, more are still taken. */
    capacity = 1 << 16,
  ) {
    this.ids = new AddressIds(capacity);
    this.linkCounts = new Int32Array(capacity + 1);
    this.links = spool.has('links') ? spool.get('links') : new BinaryRows();
  }

  /** The carrier_emails rows (binary COPY), read from carriers in DOT order, `page` carriers a COPY. */
  async *readCarriers(store: Store, page: number, progress: (n: number) => void): AsyncGenerator<Uint8Array> {
    const reader = new DotFieldReader();
    for (let after = 0; ; ) {
      const before = this.carriers;
      let last = after;
      const query = `select dot_number, email_raw from carriers where dot_number > ${after} order by dot_number limit ${page}`;
      for await (const chunk of store.copyTo(query)) {
        reader.push(chunk, (dot, raw, field) => {
          last = dot;
          this.carrier(dot, raw, field);
        });
        if (this.links.pending >= 1 << 20) yield* this.links.take();
        progress(this.carriers);
      }
      reader.end();
      if (this.carriers - before < page) break;
      after = last;
    }
    yield* this.links.take();
  }

  /**
   * One carrier: its links, its state row (`sourceRow`, the (dot_number, email_raw) row as read
   * back, or written here from `raw`), and the addresses met for the first time.
   */
  carrier(dot: number, raw: string | null, sourceRow?: Uint8Array): void {
    this.carriers++;
    if (dot <= this.lastDot) this.ascending = false;
    this.lastDot = dot;
    const sources = this.spool.get('sources');
    if (sourceRow) sources.raw(sourceRow);
    else {
      sources.row(2);
      sources.int8(dot);
      sources.text(raw);
    }
    const addresses = normalizeField(raw);
    if (addresses.length) this.carriersWithAddress++;
    const links = this.links;
    for (let i = 0; i < addresses.length; i++) {
      const a = addresses[i]!;
      let id = this.ids.idOf(a.address);
      if (id < 0) {
        id = -id;
        const e = this.spool.get('emails');
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
        if (id >= this.linkCounts.length) this.linkCounts = grow(this.linkCounts);
      }
      this.linkCounts[id]!++;
      links.row(3);
      links.int8(dot);
      links.int8(id);
      links.int4(i + 1);
    }
    // Whether a file's buffer is worth a write: asked every 256 carriers, not for each.
    if ((this.carriers & 255) === 0) this.spool.flush();
  }

  private reason(id: number, code: string, detail: string): void {
    const r = this.spool.get('reasons');
    r.row(3);
    r.int8(id);
    r.text(code);
    r.text(detail);
    this.reasons++;
  }

  /**
   * Every carrier is in: what the rows still need (the carrier counts, whether ids are in DOT
   * order, the totals), with the address table given back. Plain data, so a worker thread that ran
   * the pass can hand it over (census-email-pass.ts).
   */
  finish(): PassTally {
    this.ids.release();
    return {
      carriers: this.carriers,
      addresses: this.ids.size,
      carriersWithAddress: this.carriersWithAddress,
      valid: this.valid,
      reasons: this.reasons,
      ascending: this.ascending,
      linkCounts: this.linkCounts,
      sharedThreshold: this.sharedThreshold,
    };
  }
}

/** What a finished NormalizePass knows (NormalizePass.finish), as plain data. */
export interface PassTally {
  carriers: number;
  addresses: number;
  carriersWithAddress: number;
  valid: number;
  reasons: number;
  /** Whether every carrier came after one with a lower DOT number: then ids are in DOT order already. */
  ascending: boolean;
  /** Carriers listing each address (by id). */
  linkCounts: Int32Array<ArrayBuffer>;
  sharedThreshold: number;
}

/** The rows of a finished pass, read back from its spool on their way to COPY (first-normalize.ts). */
export class FinishedPass {
  constructor(readonly tally: PassTally) {}

  /**
   * New ids by DOT order (new[id as given]), from the spooled links, or null when the carriers
   * came in ascending DOT order (the ids given are those already). An address's place is its
   * first link in DOT order: the carrier with the lowest DOT number listing it, then its position.
   */
  async idsInDotOrder(spool: Spool): Promise<Int32Array | null> {
    if (this.tally.ascending) return null;
    const n = this.tally.addresses;
    const first = new Float64Array(n + 1).fill(Infinity);
    for await (const chunk of spool.read('links')) {
      for (let p = 0; p + LINK_ROW <= chunk.length; p += LINK_ROW) {
        const dot = chunk.readUInt32BE(p + 6) * 2 ** 32 + chunk.readUInt32BE(p + 10);
        const id = chunk.readInt32BE(p + LINK_ID_AT + 4);
        const key = dot * POS + chunk.readInt32BE(p + 30);
        if (key < first[id]!) first[id] = key;
      }
    }
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i + 1;
    order.sort((a, b) => first[a]! - first[b]!);
    const ids = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) ids[order[i]!] = i + 1;
    return ids;
  }

  /** The emails rows from their file, each with its carrier count (rows are in the order ids were given). */
  async *emailRows(spool: Spool): AsyncGenerator<Buffer> {
    const counts = this.tally.linkCounts;
    let id = 0;
    for await (const chunk of spool.read('emails')) {
      for (let p = 0; p < chunk.length; ) {
        id++;
        // int16 field count, int32 length 4, then the count.
        chunk.writeInt32BE(counts[id]!, p + 6);
        p = rowEnd(chunk, p);
      }
      yield chunk;
    }
  }

  result(links: number): FirstNormalizeResult {
    const t = this.tally;
    const addresses = t.addresses;
    let shared = 0;
    for (let id = 1; id <= addresses; id++) if (t.linkCounts[id]! >= t.sharedThreshold) shared++;
    return {
      counts: { ...zeroCounts(), addresses_new: addresses, reasons_added: t.reasons, links_added: links, sources_recorded: t.carriers },
      carriersNormalized: t.carriers,
      totals: { addresses, valid: t.valid, invalid: addresses - t.valid, linked: addresses, shared, carriersWithAddress: t.carriersWithAddress },
    };
  }
}

/** Rows (whole-row chunks) with the bigint id at `at` replaced by ids[id]; as they are when `ids` is null. */
export async function* remapIds(rows: AsyncIterable<Buffer>, ids: Int32Array | null, at: number): AsyncGenerator<Buffer> {
  if (!ids) return yield* rows;
  for await (const chunk of rows) {
    for (let p = 0; p < chunk.length; p = rowEnd(chunk, p)) {
      // Ids stay below 2^31: the high word is 0.
      chunk.writeInt32BE(ids[chunk.readInt32BE(p + at + 4)]!, p + at + 4);
    }
    yield chunk;
  }
}
