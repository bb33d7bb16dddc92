/**
 * Temporary files of COPY binary rows (copy-binary.ts), one per table the first normalize loads:
 * rows are written as they are made, in flat memory, and read back whole, re-chunked on row
 * boundaries, once the table's turn to be COPied comes (first-normalize.ts).
 */
import { closeSync, createReadStream, existsSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BinaryRows } from '../db/copy-binary.ts';

export type SpoolName = 'emails' | 'reasons' | 'sources' | 'links';

/** Bytes buffered per file before a write: below BinaryRows' chunk size, so its buffer is reused (drain). */
const WRITE_BYTES = 1 << 19;

export class Spool {
  private readonly rows = new Map<SpoolName, BinaryRows>();
  private readonly fds = new Map<SpoolName, number>();

  constructor(
    private readonly base: string,
    names: readonly SpoolName[],
  ) {
    for (const n of names) this.rows.set(n, new BinaryRows());
  }

  has(name: SpoolName): boolean {
    return this.rows.has(name);
  }

  /** Where the rows of `name` are written. */
  get(name: SpoolName): BinaryRows {
    const rows = this.rows.get(name);
    if (!rows) throw new RangeError(`no spool file ${name}`);
    return rows;
  }

  private file(name: SpoolName): string {
    return `${this.base}-${name}.bin`;
  }

  /**
   * Writes out what is buffered once it is big enough to be worth a write. A file is made by its
   * first write (none for a table without rows: read() takes a missing file as empty), so a Spool
   * that only reads and removes what a worker thread wrote (census-email-pass.ts) never truncates it.
   */
  flush(force = false): void {
    for (const [name, rows] of this.rows) {
      if (rows.pending === 0 || (!force && rows.pending < WRITE_BYTES)) continue;
      let fd = this.fds.get(name);
      if (fd === undefined) this.fds.set(name, (fd = openSync(this.file(name), 'w')));
      rows.drain((c) => writeSync(fd, c));
    }
  }

  /** Every row written out and the files closed: they may be read now. */
  close(): void {
    this.flush(true);
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  /** The rows of `name` in chunks of whole rows. */
  read(name: SpoolName): AsyncIterable<Buffer> {
    const file = this.file(name);
    return existsSync(file) ? rowChunks(createReadStream(file, { highWaterMark: 1 << 20 })) : rowChunks((async function* () {})());
  }

  remove(): void {
    try {
      this.close();
    } finally {
      for (const name of this.rows.keys()) rmSync(this.file(name), { force: true });
    }
  }
}

/** Where a binary row starting at `p` ends (the chunk holds whole rows). */
export function rowEnd(buf: Buffer, p: number): number {
  const fields = buf.readInt16BE(p);
  p += 2;
  for (let f = 0; f < fields; f++) {
    const len = buf.readInt32BE(p);
    p += 4 + Math.max(len, 0);
  }
  return p;
}

/** Re-chunks a stream of binary rows on row boundaries. */
export async function* rowChunks(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
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

/**
 * Removes the temporary files named `${prefix}${pid}-...` of processes that are gone: a run killed
 * (SIGKILL, a crash) cannot remove its own, and a census spool is hundreds of MB. A file of a
 * live process, this one included, is left alone.
 */
export function removeOrphanTempFiles(prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    rmSync(path.join(os.tmpdir(), name), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
