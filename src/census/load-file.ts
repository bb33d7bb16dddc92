/**
 * One census file from disk to a COPY: open it (plain, .gz, .zip), recognize its format by the
 * header, then stream its records through the scanner (and its writer) into the COPY given,
 * with a progress bar on a TTY. The staged merge and the first load both load this way.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { StageContext } from '../context.ts';
import { detectFormat, type DetectedFormat } from './formats.ts';
import { openCensusFile, readInput, splitHeader } from './input.ts';
import { CensusScanner, scanStream, type RecordWriter, type ScanOptions, type ScanStats } from './scanner.ts';

export interface OpenedCensus {
  file: string;
  /** What carriers.source_file and census_rejects.file record: the base name, which carries FMCSA's date. */
  name: string;
  detected: DetectedFormat;
  stream: Readable;
  rest: AsyncIterable<Buffer>;
  size: number;
  bytesRead(): number;
  /** sha256 and length of the census text read so far (inside a .gz or .zip): complete once the scan is. */
  content(): { sha256: string; bytes: number };
}

/** Opens a census file and recognizes its format by the header. */
export async function openDetected(file: string): Promise<OpenedCensus> {
  const name = path.basename(file);
  const { stream, entry, size, bytesRead } = await openCensusFile(file);
  const label = entry ? `${file} (${entry})` : file;
  // The census_loads record identifies a file by what it says, not by its packaging or name.
  const hash = createHash('sha256');
  let bytes = 0;
  const hashed = async function* () {
    for await (const chunk of readInput(stream, label)) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
  };
  const content = () => ({ sha256: hash.copy().digest('hex'), bytes });
  try {
    const { header, rest } = await splitHeader(hashed(), label);
    return { file, name, detected: detectFormat(header, label), stream, rest, size, bytesRead, content };
  } catch (e) {
    stream.destroy();
    throw e;
  }
}

/** openDetected, saying on stderr what was recognized. */
export async function openCensus(ctx: StageContext, file: string): Promise<OpenedCensus> {
  const opened = await openDetected(file);
  const { detected } = opened;
  ctx.out.info(`${opened.name}: ${detected.format.id}, ${detected.header.length} columns, ${detected.format.encoding}`);
  return opened;
}

/** What a caller of the scan may hook: where rejects go, and what else is done with each accepted row. */
export type ScanHooks = Pick<ScanOptions, 'onReject' | 'onAccepted'>;

/** The scanner for a file of this format, its records after the header line. */
export function scannerFor(detected: DetectedFormat, writer: RecordWriter, hooks: ScanHooks = {}): CensusScanner {
  return new CensusScanner({
    fieldCount: detected.header.length,
    dotIndex: detected.positions.dot_number!,
    encoding: detected.format.encoding,
    firstLine: 2,
    writer,
    ...(hooks.onReject ? { onReject: hooks.onReject } : {}),
    ...(hooks.onAccepted ? { onAccepted: hooks.onAccepted } : {}),
  });
}

/** Scans the opened file into `copy`; returns the scan's counts. */
export async function scanIntoCopy(
  ctx: StageContext,
  opened: OpenedCensus,
  writer: RecordWriter,
  copy: (chunks: AsyncIterable<Buffer>) => Promise<number>,
  hooks: ScanHooks = {},
): Promise<ScanStats> {
  const { detected, name } = opened;
  const scanner = scannerFor(detected, writer, hooks);
  const t0 = Date.now();
  const bar = opened.size ? ctx.out.progress(`loading ${name}`, opened.size) : null;
  const counted = async function* () {
    for await (const chunk of opened.rest) {
      bar?.update(opened.bytesRead());
      yield chunk;
    }
  };
  try {
    await copy(scanStream(counted(), scanner));
  } finally {
    bar?.stop();
    opened.stream.destroy();
  }
  const st = scanner.stats;
  ctx.out.info(`${name}: ${st.read} rows read, ${st.rejected} rejected, typed and loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return st;
}
