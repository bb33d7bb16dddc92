/**
 * Distinct addresses -> ids 1, 2, 3... in the order first seen, for the first normalize of a whole
 * census (first-normalize.ts). A JavaScript Map of 1.5M address strings costs well over 100 MB;
 * here each address is its UTF-8 bytes in an arena of blocks, found again through an
 * open-addressing table of ids (about 35 bytes an address in all), so the command stays within its memory budget at 4.4M
 * carriers. Exact: a slot is confirmed by comparing the bytes. `release()` gives it all back once
 * the ids are handed out.
 */
import { fnv1a } from '../text/fnv1a.ts';

/** Arena blocks of 4 MB: the arena grows by a block, never copying or doubling what it holds. */
const BLOCK_BITS = 22;
const BLOCK = 1 << BLOCK_BITS;

export class AddressIds {
  private blocks: Buffer[] = [Buffer.allocUnsafe(BLOCK)];
  /** Where the next address goes in the last block. */
  private used = 0;
  /** starts[id]: block << 22 | offset of address `id` (ids from 1); lens[id]: its length in bytes. */
  private starts: Int32Array<ArrayBuffer>;
  // An address is at most a 1,024-byte field after NFKC (at most 18 characters a character): < 64 KB.
  private lens: Uint16Array<ArrayBuffer>;
  /**
   * Open addressing, linear probing: 0 is empty, else an id. The table is the first `mask + 1`
   * entries of `slots`, which has room for the capacity given: growing rehashes into a longer
   * prefix of the same array (the positions are worked out again from the arena), so no table is
   * left behind as garbage. Left behind, they were 16 MB outside the heap that a thread with a
   * quiet heap (census-email-worker.ts) kept until its end.
   */
  private slots: Int32Array<ArrayBuffer>;
  private mask: number;
  private scratch = Buffer.allocUnsafe(4096);
  private n = 0;

  /**
   * `capacity`: ids to make room for at once (more are still taken). Typed arrays are zero pages
   * until written, so a generous guess costs address space, not memory, and spares the copies
   * (and the garbage awaiting a collection) of growing arrays.
   */
  constructor(capacity = 1 << 16) {
    this.starts = new Int32Array(capacity + 1);
    this.lens = new Uint16Array(capacity + 1);
    // Each growth places every id again (fnv1a over its bytes): from 128k slots to FMCSA_CENSUS1's
    // 4M that was 2.8M placements, a quarter of the table's time. Starting at room for an eighth
    // of the capacity leaves one growth there and none on the Company Census File (2.9M
    // addresses, capacity 17.7M), while never starting above the size either file ends at: the
    // slots touched early are ones the table would touch anyway, so the peak memory is the same.
    this.mask = Math.max(1 << 17, tableSize(capacity >>> 3)) - 1;
    this.slots = new Int32Array(Math.max(this.mask + 1, tableSize(capacity)));
  }

  /** Distinct addresses so far (the last id given). */
  get size(): number {
    return this.n;
  }

  /** The id of `address`: negative (minus the new id) when it is seen for the first time. */
  idOf(address: string): number {
    if (address.length * 3 > this.scratch.length) this.scratch = Buffer.allocUnsafe(address.length * 3);
    const scratch = this.scratch;
    const len = scratch.write(address, 0, 'utf8');
    const h = fnv1a(scratch, 0, len);
    const slots = this.slots;
    const mask = this.mask;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const id = slots[s]!;
      if (id === 0) break;
      if (this.lens[id] !== len) continue;
      const at = this.starts[id]!;
      const off = at & (BLOCK - 1);
      if (scratch.compare(this.blocks[at >>> BLOCK_BITS]!, off, off + len, 0, len) === 0) return id;
    }
    return -this.add(scratch, len, h);
  }

  private add(bytes: Buffer, len: number, h: number): number {
    if (len >= 1 << 16) throw new RangeError(`an address of ${len} bytes: longer than a census field can make`);
    const id = ++this.n;
    if (id + 1 >= this.starts.length) {
      this.starts = grow(this.starts);
      const lens = new Uint16Array(this.starts.length);
      lens.set(this.lens);
      this.lens = lens;
    }
    if (this.used + len > BLOCK) {
      this.blocks.push(Buffer.allocUnsafe(BLOCK));
      this.used = 0;
    }
    bytes.copy(this.blocks[this.blocks.length - 1]!, this.used, 0, len);
    this.starts[id] = ((this.blocks.length - 1) << BLOCK_BITS) | this.used;
    this.lens[id] = len;
    this.used += len;
    // At most 70% full: probes stay short.
    if (id * 10 > (this.mask + 1) * 7) this.rehash((this.mask + 1) * 2);
    else this.place(id, h);
    return id;
  }

  /** Frees the table (size stays readable); idOf may not be called after. */
  release(): void {
    this.blocks = [];
    this.starts = new Int32Array(0);
    this.lens = new Uint16Array(0);
    this.slots = new Int32Array(0);
  }

  private place(id: number, h: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let s = h & mask;
    while (slots[s] !== 0) s = (s + 1) & mask;
    slots[s] = id;
  }

  private rehash(size: number): void {
    // Beyond the capacity given (a compressed file's guess falls short): a longer array after all.
    if (size > this.slots.length) this.slots = new Int32Array(size);
    else this.slots.fill(0, 0, size);
    this.mask = size - 1;
    for (let id = 1; id <= this.n; id++) {
      const at = this.starts[id]!;
      const off = at & (BLOCK - 1);
      this.place(id, fnv1a(this.blocks[at >>> BLOCK_BITS]!, off, off + this.lens[id]!));
    }
  }
}

/** Slots for `capacity` addresses at most 70% full: a power of two. */
function tableSize(capacity: number): number {
  let size = 1;
  while (size * 7 < capacity * 10) size *= 2;
  return size;
}

/** Half longer, copied: when the capacity guessed at the start was too small. */
export function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const next = new Int32Array(Math.ceil(a.length * 1.5));
  next.set(a);
  return next;
}

