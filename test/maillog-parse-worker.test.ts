import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
 * The scrub parses in a worker thread (and in the main thread until the worker is ready). Chunks
 * are self-contained, so whoever parsed them, the linker must end in the very state an in-thread
 * parse gives: outcomes, sent counts, counters, open messages, batch by batch.
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
  for await (const c of w.parse(file, 0, 1, statSync(file.path).mtime, chunkBytes)) {
    lineNo += l.apply(c);
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

describe('parsing in a worker thread', () => {
  it('a worker that is ready parses the whole file, with the results of an in-thread parse', async () => {
    const w = new ParseWorker({ timeZone: TZ });
    try {
      await w.whenReady();
      const got = await throughWorker(w, plain, 1 << 16);
      expect(w.parsedBy).toEqual({ main: 0, worker: got.batches.length });
      const want = await inThread(plain, 1 << 16);
      expect(got.lines).toBeGreaterThan(39_000);
      expect(got).toEqual(want);
    } finally {
      await w.close();
    }
  });

  it('the main thread parses until the worker is ready, then hands the rest of the file over', async () => {
    const w = new ParseWorker({ timeZone: TZ });
    try {
      // Small chunks: the worker becomes ready while the main thread is still in the file.
      const got = await throughWorker(w, plain, 4096);
      expect(w.parsedBy.main).toBeGreaterThan(0);
      expect(w.parsedBy.worker).toBeGreaterThan(0);
      const want = await inThread(plain, 4096);
      expect(got.state).toEqual(want.state);
      // The hand-over may cut one chunk differently (the worker reopens the file at a line boundary): compare the sums.
      const sum = (r: typeof got) => ({
        events: r.batches.flatMap((b) => b.events),
        sent: r.batches.flatMap((b) => b.sent).reduce((n, s) => n + s.count, 0),
        counts: r.batches.map((b) => b.counts).reduce((a, c) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v + c[k as keyof typeof c]])) as typeof a),
      });
      expect(sum(got)).toEqual(sum(want));
    } finally {
      await w.close();
    }
  });

  it('gzip rotations and a second file in the same worker', async () => {
    const w = new ParseWorker({ timeZone: TZ });
    try {
      await w.whenReady();
      const a = await throughWorker(w, gz, 1 << 16);
      const b = await throughWorker(w, plain, 1 << 16);
      expect(a.state).toEqual((await inThread(gz, 1 << 16)).state);
      expect(b.batches.flatMap((x) => x.events)).toEqual((await inThread(plain, 1 << 16)).batches.flatMap((x) => x.events));
    } finally {
      await w.close();
    }
  });

  it('a damaged .gz is read up to the damage, and the worker reports it by name', async () => {
    const damage: string[] = [];
    const w = new ParseWorker({ timeZone: TZ }, { onDamage: (m) => damage.push(m) });
    const broken = { path: path.join(dir, 'broken.log.gz'), gz: true, live: false };
    const text = readFileSync(plain.path);
    const z = gzipSync(text);
    writeFileSync(broken.path, z.subarray(0, z.length >> 1));
    try {
      await w.whenReady();
      const r = await throughWorker(w, broken, 1 << 16);
      const whole = text.toString('latin1').split('\n').length - 1;
      expect(r.lines).toBeGreaterThan(whole / 4);
      expect(r.lines).toBeLessThan(whole);
      expect(damage).toEqual([expect.stringMatching(/broken\.log\.gz is damaged after \d+ bytes of text/)]);
    } finally {
      await w.close();
    }
  });

  it('a file that cannot be read is an input error that names it', async () => {
    const w = new ParseWorker({ timeZone: TZ });
    // A directory passes stat (the caller's) but not read(2).
    const folder = { path: path.join(dir, 'folder.log'), gz: false, live: false };
    mkdirSync(folder.path);
    try {
      await w.whenReady();
      await expect(throughWorker(w, folder, 1 << 16)).rejects.toThrow(/cannot read .*folder\.log/);
    } finally {
      await w.close();
    }
  });
});
