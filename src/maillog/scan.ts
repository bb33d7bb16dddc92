/**
 * Reads whole files through a linker without a database: for conformance tests against the
 * sample corpus and for the parse-only figure of the benchmark. The scrub itself (scrub.ts) reads
 * the same chunks but commits them in batches with their checkpoints.
 */
import { statSync } from 'node:fs';
import type { LogFile } from './files.ts';
import { emptyCounts, Linker, type LineCounts, type LinkerOptions, type DeliveryEvent } from './linker.ts';
import { readChunks } from './reader.ts';
import { TraditionalClock, yearReference, ZoneClock } from './timestamp.ts';

export interface ScanResult {
  counts: LineCounts;
  events: DeliveryEvent[];
  openMessages: number;
}

export async function scanFiles(
  files: readonly LogFile[],
  opts: Partial<Omit<LinkerOptions, 'zone'>> & {
    timeZone?: string;
    keepEvents?: boolean;
    /** The run's clock: bounds the year of traditional timestamps (default: each file's mtime alone). */
    now?: Date;
  } = {},
): Promise<ScanResult> {
  const zone = new ZoneClock(opts.timeZone ?? 'UTC');
  const linker = new Linker({
    zone,
    campaignClients: opts.campaignClients ?? new Map(),
    ownDomains: opts.ownDomains ?? new Set(),
    maxOpen: opts.maxOpen ?? 200_000,
    maxOpenAgeMs: opts.maxOpenAgeMs ?? 7 * 86_400_000,
  });
  const counts = emptyCounts();
  const events: DeliveryEvent[] = [];
  for (const file of files) {
    const mtime = statSync(file.path).mtime;
    linker.beginFile(new TraditionalClock(zone, yearReference(mtime, opts.now ?? mtime)));
    let lineNo = 0;
    for await (const chunk of readChunks(file, 0)) {
      lineNo += linker.feedChunk(chunk, lineNo + 1);
      const b = linker.takeBatch();
      for (const k of Object.keys(counts) as (keyof LineCounts)[]) counts[k] += b.counts[k];
      if (opts.keepEvents) events.push(...b.events);
    }
  }
  return { counts, events, openMessages: linker.openMessages };
}
