/**
 * Streams a mail log from a byte offset (of the uncompressed text) in chunks of whole lines, each
 * chunk with the offset just after it: the checkpoint can only ever point at a line boundary.
 * Gzip files are decompressed and the first `from` bytes discarded (they are immutable once
 * compressed, so the offset stays valid). A live file's incomplete last line is left for the next
 * run; a rotated file's is read (nothing will ever complete it).
 */
import { isAscii } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.ts';
import type { LogFile } from './files.ts';

export interface LineChunk {
  /** Bytes holding whole lines in [start, end): `end` is the index of the chunk's last newline. */
  buf: Buffer;
  start: number;
  end: number;
  /** Whether buf[start, end) is pure ASCII (then a line decodes as latin1, a straight copy). */
  ascii: boolean;
  /** Byte offset in the file just after this chunk's last line. */
  endOffset: number;
}

const NL = 0x0a;

/** The lines of a chunk as strings (tests and small tools; the scrub feeds bytes to the linker). */
export function chunkLines(c: LineChunk): string[] {
  return c.buf.toString(c.ascii ? 'latin1' : 'utf8', c.start, c.end).split('\n');
}

/**
 * Lines are handed over as bytes, not strings: the parser (parse.ts) decodes only the lines it keeps, and a
 * bulk log is mostly lines it does not (connect/disconnect, TLS, cleanup). The file is never
 * copied whole: a plain file is read into two buffers taking turns (readPlain), a gzip file is
 * streamed through the decompressor. A chunk is valid until the next is asked for (the parser
 * copies what it keeps).
 */
export async function* readChunks(file: LogFile, from: number, opts: { chunkBytes?: number } = {}): AsyncGenerator<LineChunk> {
  const hwm = opts.chunkBytes ?? 1 << 20;
  yield* file.gz ? readGzip(file, from, hwm) : readPlain(file, from, hwm);
}

/** A gzip file from `from` bytes of its text: the bytes before are decompressed and skipped (a rotated .gz never changes). */
async function* readGzip(file: LogFile, from: number, hwm: number): AsyncGenerator<LineChunk> {
  const raw = createReadStream(file.path, { highWaterMark: hwm });
  const stream = raw.pipe(createGunzip({ chunkSize: hwm }));
  let skip = from;
  let offset = from;
  let carry: Buffer | null = null;
  try {
    for await (const piece of stream as AsyncIterable<Buffer>) {
      let buf = piece;
      if (skip > 0) {
        if (buf.length <= skip) {
          skip -= buf.length;
          continue;
        }
        buf = buf.subarray(skip);
        skip = 0;
      }
      let begin = 0;
      if (carry) {
        const first = buf.indexOf(NL);
        if (first < 0) {
          carry = Buffer.concat([carry, buf]);
          continue;
        }
        const joined = Buffer.concat([carry, buf.subarray(0, first + 1)]);
        carry = null;
        offset += joined.length;
        yield { buf: joined, start: 0, end: joined.length - 1, ascii: isAscii(joined), endOffset: offset };
        begin = first + 1;
      }
      const nl = buf.lastIndexOf(NL);
      if (nl < begin) {
        if (begin < buf.length) carry = Buffer.from(buf.subarray(begin));
        continue;
      }
      if (nl + 1 < buf.length) carry = Buffer.from(buf.subarray(nl + 1));
      offset += nl + 1 - begin;
      yield { buf, start: begin, end: nl, ascii: isAscii(buf.subarray(begin, nl)), endOffset: offset };
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read ${file.path} at byte ${offset}: ${(e as Error).message}. A truncated .gz is unusable: restore it or leave it out.`, { cause: e });
  } finally {
    raw.destroy();
  }
  if (skip > 0) return; // shorter than the checkpoint: nothing new (the caller detects shrinking files)
  if (carry && carry.length && !file.live) {
    offset += carry.length;
    yield { buf: carry, start: 0, end: carry.length, ascii: isAscii(carry), endOffset: offset };
  }
}

/**
 * A plain file from `from`: each chunk is a buffer's whole lines. Two buffers take turns: while
 * the caller parses one, the next read (a thread-pool round trip) is already filling the other,
 * which starts with the partial line the first ended with. Parsing and reading overlap instead of
 * alternating.
 */
async function* readPlain(file: LogFile, from: number, chunkBytes: number): AsyncGenerator<LineChunk> {
  let offset = from;
  let fh: FileHandle;
  try {
    fh = await open(file.path, 'r');
  } catch (e) {
    throw new InputError(`cannot read ${file.path}: ${(e as Error).message}`, { cause: e });
  }
  const read = (into: Buffer, at: number, pos: number): Promise<number> =>
    fh.read(into, at, into.length - at, pos).then(
      (r) => r.bytesRead,
      (e: Error) => {
        throw new InputError(`cannot read ${file.path} at byte ${pos}: ${e.message}`, { cause: e });
      },
    );
  let pending: Promise<number> | null = null;
  try {
    let buf = Buffer.allocUnsafeSlow(chunkBytes);
    let other = Buffer.allocUnsafeSlow(chunkBytes);
    let held = 0;
    let pos = from;
    pending = read(buf, 0, pos);
    for (;;) {
      const n = await pending;
      pending = null;
      if (n === 0) break;
      pos += n;
      const total = held + n;
      const nl = buf.lastIndexOf(NL, total - 1);
      if (nl < 0) {
        // No line ends in the buffer: a line longer than it, grow both (the carry must fit with room to read more).
        held = total;
        if (held === buf.length) {
          const bigger = Buffer.allocUnsafeSlow(buf.length * 2);
          buf.copy(bigger, 0, 0, held);
          buf = bigger;
          other = Buffer.allocUnsafeSlow(buf.length);
        }
        pending = read(buf, held, pos);
        continue;
      }
      const carry = total - nl - 1;
      buf.copy(other, 0, nl + 1, total);
      pending = read(other, carry, pos);
      // Handled here so a caller that stops early leaves no unhandled rejection.
      pending.catch(() => {});
      offset += nl + 1;
      yield { buf, start: 0, end: nl, ascii: isAscii(buf.subarray(0, nl)), endOffset: offset };
      [buf, other] = [other, buf];
      held = carry;
    }
    if (held > 0 && !file.live) {
      offset += held;
      yield { buf, start: 0, end: held, ascii: isAscii(buf.subarray(0, held)), endOffset: offset };
    }
  } finally {
    // A read still in flight (the caller stopped early) must end before the file is closed.
    await pending?.catch(() => {});
    await fh.close();
  }
}
