import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMaillog } from '../bench/maillog-generator.ts';
import type { LogFile } from '../src/maillog/files.ts';
import { Linker } from '../src/maillog/linker.ts';
import { ParseWorker } from '../src/maillog/parse-worker.ts';
import { readChunks } from '../src/maillog/reader.ts';
import { TraditionalClock, ZoneClock } from '../src/maillog/timestamp.ts';

/**
 * The scrub parses in a worker thread and in the main thread, segment by segment. Chunks are
 * self-contained, so whoever parsed them, the linker must end in the very state an in-thread parse
 * gives: outcomes (line numbers included), sent counts, counters and open messages.
 */
const TZ = 'Europe/Berlin';
const linker = () =>
  new Linker({
    zone: new ZoneClock(TZ),
    campaignClients: new Map([['172.18.0.5', 'trucking']]),
    ownDomains: new Set(['firm-logistics.example']),
    maxOpen: 200_000,
    maxOpenAgeMs: 7 * 86_400_000,
  });

async function inThread(file: LogFile, chunkBytes: number) {
  const l = linker();
  l.beginFile(new TraditionalClock(new ZoneClock(TZ), statSync(file.path).mtime));
  const batches = [];
  let lineNo = 0;
  for await (const c of readChunks(file, 0, { chunkBytes })) {
    lineNo += l.feedChunk(c, lineNo + 1);
    batches.push(l.takeBatch());
  }
  return { batches, state: l.serialize(), lines: lineNo };
}

async function throughWorker(w: ParseWorker, file: LogFile, chunkBytes: number) {
  const l = linker();
  const batches = [];
  let lineNo = 0;
  const st = statSync(file.path);
  for await (const c of w.parse(file, 0, st.size, st.mtime, chunkBytes)) {
    lineNo += l.apply(c, lineNo + 1);
    batches.push(l.takeBatch());
  }
  return { batches, state: l.serialize(), lines: lineNo };
}

let dir: string;
let plain: LogFile;
let gz: LogFile;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'parse-worker-'));
  plain = { path: path.join(dir, 'mail.log'), gz: false, live: false };
  await generateMaillog(plain.path, { lines: 40_000 });
  gz = { path: path.join(dir, 'mail.log.2.gz'), gz: true, live: false };
  writeFileSync(gz.path, gzipSync(readFileSync(plain.path)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What a run adds up to, whatever the chunk boundaries: outcomes (with line numbers), sent counts, line counts and the open messages. */
function total(r: Awaited<ReturnType<typeof inThread>>) {
  const sent = new Map<string, number>();
  for (const b of r.batches) for (const x of b.sent) sent.set(`${x.day}|${x.transport}|${x.stream}|${x.ownDomain}`, (sent.get(`${x.day}|${x.transport}|${x.stream}|${x.ownDomain}`) ?? 0) + x.count);
  const counts = r.batches.map((b) => b.counts).reduce((a, c) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v + c[k as keyof typeof c]])) as typeof a);
  return { lines: r.lines, events: r.batches.flatMap((b) => b.events), sent, counts, state: r.state };
}

describe('parsing in a worker thread', () => {
  it('the main thread and the worker share a plain file by segments; the result is the in-thread one', async () => {
    const w = new ParseWorker({ timeZone: TZ });
    try {
      // Small chunks: many segments, and the worker starts while the main thread is in the file.
      const got = await throughWorker(w, plain, 4096);
      expect(w.parsedBy.main).toBeGreaterThan(0);
      expect(w.parsedBy.worker).toBeGreaterThan(0);
      const want = await inThread(plain, 4096);
      expect(got.lines).toBeGreaterThan(39_000);
      expect(total(got)).toEqual(total(want));
    } finally {
      await w.close();
    }
  });

  it('a worker that is ready takes its share from the start; chunk size changes nothing', async () => {
    const w = new ParseWorker({ timeZone: TZ });
    try {
      await w.whenReady();
      const got = await throughWorker(w, plain, 1 << 16);
      expect(w.parsedBy.worker).toBeGreaterThan(0);
      expect(total(got)).toEqual(total(await inThread(plain, 4096)));
    } finally {
      await w.close();
    }
  });

  it('a gzip rotation is parsed by the worker alone, and a second file follows in the same worker', async () => {
    const w = new ParseWorker({ timeZone: TZ });
    try {
      const a = await throughWorker(w, gz, 1 << 16);
      expect(w.parsedBy.main).toBe(0);
      const b = await throughWorker(w, plain, 1 << 16);
      expect(total(a)).toEqual(total(await inThread(gz, 1 << 16)));
      expect(total(b)).toEqual(total(await inThread(plain, 1 << 16)));
    } finally {
      await w.close();
    }
  });

  it('a file that cannot be read is an input error that names it', async () => {
    const w = new ParseWorker({ timeZone: TZ });
    const broken = { path: path.join(dir, 'broken.log.gz'), gz: true, live: false };
    const z = gzipSync(readFileSync(plain.path));
    writeFileSync(broken.path, z.subarray(0, z.length >> 1));
    try {
      await expect(throughWorker(w, broken, 1 << 16)).rejects.toThrow(/broken\.log\.gz.*truncated \.gz/);
    } finally {
      await w.close();
    }
  });
});
