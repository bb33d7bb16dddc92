/**
 * Opens a census file as a stream of bytes, whatever its packaging: plain, gzip, or the zip FMCSA
 * ships (one .txt inside, next to a README). Nothing is read into memory whole.
 *
 * Whatever goes wrong while reading the bytes (a .gz or .zip cut short by a download, corrupt
 * data, permissions) is an InputError naming the file: readInput wraps the stream, so the error
 * reaches the ingest through the scanner and the COPY unchanged, and nothing is merged.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
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

/** Why `file` cannot be opened as a census file, as the InputError to throw, or null. */
function notAFile(file: string): InputError | null {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new InputError(`${file}: no such file. Check the path you passed to \`audience ingest census\`.`);
    return readError(file, e);
  }
  if (st.isDirectory()) {
    let inside: string[] = [];
    try {
      inside = readdirSync(file).filter((n) => /\.(txt|csv|gz|zip)$/i.test(n)).slice(0, 3);
    } catch {
      // An unreadable folder: the message below still says what to pass.
    }
    return new InputError(`${file} is a directory: pass the census file itself${inside.length ? `, e.g. ${inside.map((n) => path.join(file, n)).join(' or ')}` : ' (FMCSA_CENSUS1_*.txt, .gz or .zip)'}.`);
  }
  if (!st.isFile()) return new InputError(`${file} is not a regular file (a pipe or device): save the census to a file and pass that.`);
  return null;
}

/** The InputError of a census file whose bytes cannot be read. */
export function readError(label: string, e: unknown): InputError {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? '';
  if (code === 'EACCES' || code === 'EPERM') return new InputError(`${label} cannot be read (permission denied): run audience as a user who may read it, or copy it somewhere readable.`, { cause: e });
  if (code === 'Z_BUF_ERROR') return new InputError(`${label} ends before its compressed data does (${err.message}): the file is cut short, e.g. an interrupted download. Download it again; nothing was loaded.`, { cause: e });
  if (code.startsWith('Z_')) return new InputError(`${label} holds damaged compressed data (${err.message}): download it again, or pass the uncompressed file; nothing was loaded.`, { cause: e });
  return new InputError(`cannot read ${label} (${err.message}). A .gz or .zip may be damaged or cut short: download it again; nothing was loaded.`, { cause: e });
}

/** The stream's bytes, with any read error turned into readError's InputError. */
export async function* readInput(stream: Readable, label: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw readError(label, e);
  }
}

export async function openCensusFile(file: string): Promise<OpenedInput> {
  const refused = notAFile(file);
  if (refused) throw refused;
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
  const stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s)))).catch((e: unknown) => {
    zip.close();
    throw readError(`${file} (${entry.fileName})`, e);
  });
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
