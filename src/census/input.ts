/**
 * Opens a census file as a stream of bytes, whatever its packaging: plain, gzip, or the zip FMCSA
 * ships (one .txt inside, next to a README). Nothing is read into memory whole.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import yauzl from 'yauzl';
import { InputError } from '../errors.ts';

const READ_CHUNK = 1 << 20;

export interface OpenedInput {
  stream: Readable;
  /** Name of the census file inside a zip, for messages. */
  entry?: string;
  /** Bytes of the file on disk, and how many were read so far (for a progress bar); 0 when unknown. */
  size: number;
  bytesRead(): number;
}

export async function openCensusFile(file: string): Promise<OpenedInput> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new InputError(`${file}: no such file. Check the path you passed to \`audience ingest census\`.`);
  const lower = file.toLowerCase();
  if (lower.endsWith('.zip')) return openZip(file);
  const raw = createReadStream(file, { highWaterMark: READ_CHUNK });
  const progress = { size: statSync(file).size, bytesRead: () => raw.bytesRead };
  if (lower.endsWith('.gz')) {
    const gunzip = createGunzip({ chunkSize: READ_CHUNK });
    raw.on('error', (e) => gunzip.destroy(e));
    return { stream: raw.pipe(gunzip), ...progress };
  }
  return { stream: raw, ...progress };
}

/** The census text file inside an FMCSA zip: the one .txt or .csv entry that is not a README. */
async function openZip(file: string): Promise<OpenedInput> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false }, (err, z) => (err ? reject(err) : resolve(z))),
  ).catch((e: Error) => {
    throw new InputError(`${file}: not a readable zip archive (${e.message}). Download it again, or unzip it and pass the .txt file.`);
  });
  const entries: yauzl.Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  const candidates = entries.filter((e) => !e.fileName.endsWith('/') && /\.(txt|csv)$/i.test(e.fileName) && !/readme/i.test(path.basename(e.fileName)));
  if (candidates.length !== 1) {
    zip.close();
    throw new InputError(
      `${file}: expected one census .txt/.csv inside the zip, found ${candidates.length} (${entries.map((e) => e.fileName).join(', ') || 'empty archive'}). Unzip it and pass the census file itself.`,
    );
  }
  const entry = candidates[0]!;
  const stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))));
  stream.on('close', () => zip.close());
  return { stream, entry: entry.fileName, size: 0, bytesRead: () => 0 };
}

/**
 * Splits the first line (the header) off a byte stream. `rest` yields the bytes after it, so the
 * scanner starts on line 2.
 */
export async function splitHeader(source: AsyncIterable<Buffer>, file: string): Promise<{ header: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await it.next();
    if (next.done) {
      if (size === 0) throw new InputError(`${file} is empty. Pass a census file with a header line.`);
      const all = Buffer.concat(parts);
      return { header: trimCr(all), rest: (async function* () {})() };
    }
    const chunk = next.value;
    const lf = chunk.indexOf(0x0a);
    if (lf < 0) {
      parts.push(chunk);
      size += chunk.length;
      if (size > 1 << 20) throw new InputError(`${file}: no line break in the first megabyte, so no header line. Pass an FMCSA census file.`);
      continue;
    }
    parts.push(chunk.subarray(0, lf));
    const header = trimCr(Buffer.concat(parts));
    const leftover = chunk.subarray(lf + 1);
    const rest = (async function* () {
      if (leftover.length) yield leftover;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield n.value;
      }
    })();
    return { header, rest };
  }
}

function trimCr(b: Buffer): Buffer {
  return b.length && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b;
}
