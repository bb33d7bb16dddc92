/**
 * Distinct addresses -> ids 1, 2, 3... in the order first seen, for the first normalize of a whole
 * census (first-normalize.ts). A JavaScript Map of 1.5M address strings costs well over 100 MB;
 * here each address is its UTF-8 bytes in one arena, found again through an open-addressing table
 * of ids (about 40 bytes an address in all), so the command stays within its memory budget at 4.4M
 * carriers. Exact: a slot is confirmed by comparing the bytes. `release()` gives it all back once
 * the ids are handed out.
 */
export class AddressIds {
  private arena = Buffer.allocUnsafe(1 << 22);
  private used = 0;
  /** starts[id] .. starts[id + 1]: the bytes of address `id` in the arena (ids from 1). */
  private starts = new Int32Array(1 << 16);
  /** Open addressing, linear probing: 0 is empty, else an id. */
  private slots = new Int32Array(1 << 17);
  private scratch = Buffer.allocUnsafe(4096);
  private n = 0;

  /** Distinct addresses so far (the last id given). */
  get size(): number {
    return this.n;
  }

  /** The id of `address`: negative (minus the new id) when it is seen for the first time. */
  idOf(address: string): number {
    if (address.length * 3 > this.scratch.length) this.scratch = Buffer.allocUnsafe(address.length * 3);
    const scratch = this.scratch;
    const len = scratch.write(address, 0, 'utf8');
    const h = hash(scratch, 0, len);
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const id = slots[s]!;
      if (id === 0) break;
      const start = this.starts[id]!;
      if (this.starts[id + 1]! - start === len && scratch.compare(this.arena, start, start + len, 0, len) === 0) return id;
    }
    return -this.add(scratch, len, h);
  }

  private add(bytes: Buffer, len: number, h: number): number {
    const id = ++this.n;
    if (id + 2 > this.starts.length) this.starts = grow(this.starts);
    if (this.used + len > this.arena.length) {
      // By half, not double: the arena is most of the memory, and the copy is rare.
      const next = Buffer.allocUnsafe(Math.max(Math.ceil(this.arena.length * 1.5), this.used + len));
      this.arena.copy(next, 0, 0, this.used);
      this.arena = next;
    }
    bytes.copy(this.arena, this.used, 0, len);
    this.starts[id] = this.used;
    this.used += len;
    this.starts[id + 1] = this.used;
    // At most 70% full: probes stay short.
    if (id * 10 > this.slots.length * 7) this.rehash(this.slots.length * 2);
    else this.place(id, h);
    return id;
  }

  /** Frees the table (size stays readable); idOf may not be called after. */
  release(): void {
    this.arena = Buffer.alloc(0);
    this.starts = new Int32Array(0);
    this.slots = new Int32Array(0);
  }

  private place(id: number, h: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let s = h & mask;
    while (slots[s] !== 0) s = (s + 1) & mask;
    slots[s] = id;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let id = 1; id <= this.n; id++) this.place(id, hash(this.arena, this.starts[id]!, this.starts[id + 1]!));
  }
}

/** FNV-1a over bytes [s, e). */
function hash(buf: Buffer, s: number, e: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h;
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const next = new Int32Array(Math.ceil(a.length * 1.5));
  next.set(a);
  return next;
}
