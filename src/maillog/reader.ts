/**
 * Streams a mail log from a byte offset (of the uncompressed text) in chunks of whole lines, each
 * chunk with the offset just after it: the checkpoint can only ever point at a line boundary.
 * Gzip files are decompressed and the first `from` bytes discarded (they are immutable once
 * compressed, so the offset stays valid). A live file's incomplete last line is left for the next
 * run; a rotated file's is read (nothing will ever complete it).
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.ts';
import type { LogFile } from './files.ts';

export interface LineChunk {
  lines: string[];
  /** Byte offset just after the last line of this chunk. */
  endOffset: number;
}

const NL = 0x0a;

export async function* readChunks(file: LogFile, from: number, opts: { chunkBytes?: number } = {}): AsyncGenerator<LineChunk> {
  const hwm = opts.chunkBytes ?? 1 << 20;
  const raw = createReadStream(file.path, { highWaterMark: hwm, ...(file.gz ? {} : { start: from }) });
  const stream = file.gz ? raw.pipe(createGunzip({ chunkSize: hwm })) : raw;
  let skip = file.gz ? from : 0;
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
      const nl = buf.lastIndexOf(NL);
      if (nl < 0) {
        carry = carry ? Buffer.concat([carry, buf]) : Buffer.from(buf);
        continue;
      }
      let text: string;
      let carried = 0;
      if (carry) {
        carried = carry.length;
        // Decode the carried part on its own unless it ends inside a UTF-8 sequence (copying a
        // whole chunk just to prepend a line fragment costs more than the parse).
        text = carry[carry.length - 1]! < 0x80 ? carry.toString('utf8') + buf.toString('utf8', 0, nl) : Buffer.concat([carry, buf.subarray(0, nl)]).toString('utf8');
        carry = null;
      } else text = buf.toString('utf8', 0, nl);
      if (nl + 1 < buf.length) carry = Buffer.from(buf.subarray(nl + 1));
      offset += carried + nl + 1;
      yield { lines: text.split('\n'), endOffset: offset };
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
    yield { lines: [carry.toString('utf8')], endOffset: offset };
  }
}
