/**
 * A plain log split into segments of about `bytes` bytes at line boundaries, so that two threads
 * can parse different parts of one file (parse-worker.ts). Segment k covers the lines from the
 * boundary at `from + k * bytes` to the next one, where the boundary at a position is just after
 * the first newline at or after the byte before it, looking no further than the size the run saw:
 * whoever computes a boundary, reader of the segment before it or of the one after it, finds the
 * same byte, even if the file grows meanwhile. A segment with no boundary after it (the last, or
 * one that ends in the incomplete line at the end) reads to the end of the file as it is then (a
 * live file's incomplete last line still waits, reader.ts); one with no boundary before it is empty.
 * A gzip file cannot be entered in the middle: it is one segment.
 */
import { open } from 'node:fs/promises';
import type { LogFile } from './files.ts';
import { readChunks, type LineChunk } from './reader.ts';

export interface SegmentPlan {
  file: LogFile;
  /** Where reading starts (the checkpoint; a line boundary). */
  from: number;
  /** The size the run saw: boundaries are looked for before it. */
  size: number;
  bytes: number;
  count: number;
}

/** `size`: the file's size when the run looked at it (plain files); segments past it would be empty. */
export function planSegments(file: LogFile, from: number, size: number, bytes: number): SegmentPlan {
  const count = file.gz ? 1 : size > from ? Math.ceil((size - from) / bytes) : 0;
  return { file, from, size, bytes, count };
}

/** The line boundary at `pos`: just after the first newline at or after byte pos - 1 and before `size`, or null. */
async function boundary(path: string, pos: number, size: number): Promise<number | null> {
  const fh = await open(path, 'r');
  try {
    // Lines are short: one small read almost always finds the newline.
    const buf = Buffer.allocUnsafe(4096);
    for (let at = pos - 1; at < size; at += buf.length) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - at), at);
      if (bytesRead === 0) return null;
      const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
      if (nl >= 0) return at + nl + 1;
    }
    return null;
  } finally {
    await fh.close();
  }
}

/** The chunks of whole lines of segment k. */
export async function* segmentChunks(plan: SegmentPlan, k: number, chunkBytes: number): AsyncGenerator<LineChunk> {
  if (plan.file.gz) {
    yield* readChunks(plan.file, plan.from, { chunkBytes });
    return;
  }
  const start = k === 0 ? plan.from : await boundary(plan.file.path, plan.from + k * plan.bytes, plan.size);
  if (start === null) return;
  const end = k === plan.count - 1 ? null : await boundary(plan.file.path, plan.from + (k + 1) * plan.bytes, plan.size);
  yield* readChunks(plan.file, start, { chunkBytes, ...(end === null ? {} : { end }) });
}
