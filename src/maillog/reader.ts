/**
 * Streams a mail log from a byte offset (of the uncompressed text) in chunks of whole lines, each
 * chunk with the offset just after it: the checkpoint can only ever point at a line boundary.
 * Gzip files are decompressed and the first `from` bytes discarded (they are immutable once
 * compressed, so the offset stays valid). A live file's incomplete last line is left for the next
 * run; a rotated file's is read (nothing will ever complete it).
 *
 * Any bytes are read: memory stays bounded whatever the file holds. A line longer than
 * MAX_LINE_BYTES is handed over as its first MAX_LINE_BYTES + 1 bytes (the parser skips it as
 * `tooLong`) with the offset after its real end, the rest never held. A damaged gzip file (cut
 * short by a full disk, or corrupt) is read up to the damage and reported through `onDamage`:
 * one broken rotation must not stop every nightly scrub until logrotate removes it.
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

/**
 * Longest line parsed. Postfix's own records are a few hundred bytes (a long bounce reply a few
 * KB; rsyslog's default message limit is 8 KB): 64 KiB is far above any real line, and bounds what
 * one line costs to hold, decode and store.
 */
export const MAX_LINE_BYTES = 64 * 1024;

export interface ReadOptions {
  chunkBytes?: number;
  /** Called when a gzip file turns out damaged after `from`: what was before the damage was read. */
  onDamage?: (message: string) => void;
}

/** Whether a stream error is the decompressor's (bad or cut-short data), not the file system's. */
function isZlibError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return code.startsWith('Z_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED';
}

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
export async function* readChunks(file: LogFile, from: number, opts: ReadOptions = {}): AsyncGenerator<LineChunk> {
  const hwm = opts.chunkBytes ?? 1 << 20;
  yield* file.gz ? readGzip(file, from, hwm, opts.onDamage) : readPlain(file, from, hwm);
}

/** A line too long to hold: its first MAX_LINE_BYTES + 1 bytes, and its length so far. */
interface LongLine {
  head: Buffer;
  length: number;
}

function startLong(bytes: Buffer): LongLine {
  return { head: Buffer.from(bytes.subarray(0, MAX_LINE_BYTES + 1)), length: bytes.length };
}

/** The chunk of a long line once its end is known: its head, as one line. */
function longChunk(l: LongLine, endOffset: number): LineChunk {
  return { buf: l.head, start: 0, end: l.head.length, ascii: isAscii(l.head), endOffset };
}

/** A gzip file from `from` bytes of its text: the bytes before are decompressed and skipped (a rotated .gz never changes). */
async function* readGzip(file: LogFile, from: number, hwm: number, onDamage?: (message: string) => void): AsyncGenerator<LineChunk> {
  const raw = createReadStream(file.path, { highWaterMark: hwm });
  const stream = raw.pipe(createGunzip({ chunkSize: hwm }));
  // pipe() does not forward the file's own errors (EACCES, EIO): they end the decompressor too.
  raw.on('error', (e) => stream.destroy(e));
  let skip = from;
  let offset = from;
  let carry: Buffer | null = null;
  let long: LongLine | null = null;
  let damaged = false;
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
      if (long) {
        const first = buf.indexOf(NL);
        if (first < 0) {
          long.length += buf.length;
          continue;
        }
        offset += long.length + first + 1;
        yield longChunk(long, offset);
        long = null;
        begin = first + 1;
      } else if (carry) {
        const first = buf.indexOf(NL);
        if (first < 0) {
          carry = Buffer.concat([carry, buf]);
          if (carry.length > MAX_LINE_BYTES) {
            long = startLong(carry);
            carry = null;
          }
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
        if (begin < buf.length) {
          carry = Buffer.from(buf.subarray(begin));
          if (carry.length > MAX_LINE_BYTES) {
            long = startLong(carry);
            carry = null;
          }
        }
        continue;
      }
      if (nl + 1 < buf.length) carry = Buffer.from(buf.subarray(nl + 1));
      offset += nl + 1 - begin;
      yield { buf, start: begin, end: nl, ascii: isAscii(buf.subarray(begin, nl)), endOffset: offset };
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (!isZlibError(e)) throw new InputError(`cannot read ${file.path} at byte ${offset}: ${(e as Error).message}. Check that this user may read it.`, { cause: e });
    // Damaged compressed data: what came before it is read (it is the file's text), then the file ends here.
    damaged = true;
    if (offset > from || carry || long) onDamage?.(`${file.path} is damaged after ${offset + (carry?.length ?? long?.length ?? 0)} bytes of text (${(e as Error).message}): the lines before the damage were read; restore the file from a copy if the rest matters.`);
  } finally {
    raw.destroy();
  }
  if (skip > 0) return; // shorter than the checkpoint: nothing new (the caller detects shrinking files)
  // A rotated or damaged file's last line, even without its line break: nothing will complete it.
  if (file.live && !damaged) return;
  if (long) yield longChunk(long, offset + long.length);
  else if (carry && carry.length) yield { buf: carry, start: 0, end: carry.length, ascii: isAscii(carry), endOffset: offset + carry.length };
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
    let long: LongLine | null = null;
    pending = read(buf, 0, pos);
    for (;;) {
      const n = await pending;
      pending = null;
      if (n === 0) break;
      pos += n;
      let total: number;
      if (long) {
        // Reading past a line too long to hold (see MAX_LINE_BYTES): only its length is kept.
        const first = buf.subarray(0, n).indexOf(NL);
        if (first < 0) {
          long.length += n;
          pending = read(buf, 0, pos);
          continue;
        }
        offset += long.length + first + 1;
        const done = long;
        long = null;
        // The bytes after the line start the next one (Buffer.copy moves overlapping bytes correctly).
        total = n - first - 1;
        buf.copy(buf, 0, first + 1, n);
        yield longChunk(done, offset);
        if (total === 0) {
          held = 0;
          pending = read(buf, 0, pos);
          continue;
        }
      } else total = held + n;
      const nl = buf.lastIndexOf(NL, total - 1);
      if (nl < 0) {
        if (total > MAX_LINE_BYTES) {
          long = startLong(buf.subarray(0, total));
          held = 0;
          pending = read(buf, 0, pos);
          continue;
        }
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
    if (!file.live) {
      if (long) yield longChunk(long, offset + long.length);
      else if (held > 0) yield { buf, start: 0, end: held, ascii: isAscii(buf.subarray(0, held)), endOffset: offset + held };
    }
  } finally {
    // A read still in flight (the caller stopped early) must end before the file is closed.
    await pending?.catch(() => {});
    await fh.close();
  }
}
