import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBounceScrub } from '../src/maillog/stage.ts';
import { runCensusIngest } from '../pipelines/ingest.ts';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import { BinaryRows } from '../src/db/copy-binary.ts';
import { InputError } from '../src/errors.ts';
import { hostileText } from './helpers/hostile-bytes.ts';
import { REPO_ROOT } from './helpers/samples.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

/**
 * The fuzz properties of issue #18 through the database, on both backends: damaged census and
 * mail.log files are loaded without a crash (an InputError only for a file that is not a log),
 * every line is accounted for in the run's counts, the scrub's checkpoint covers the file, and a
 * re-run of the same file changes nothing. Few runs: each is a real ingest or scrub.
 */
const RUNS = { numRuns: 4 };
const NOW = new Date('2026-11-28T00:00:00Z');
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

let store: TestStore;
let dir: string;
let n = 0;
beforeAll(async () => {
  store = await createTestStore();
  dir = mkdtempSync(path.join(os.tmpdir(), 'fuzz-rerun-'));
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function ctx(): StageContext {
  const config = loadConfig({ env: {}, cwd: dir, overrides: { maillog: { path: path.join(dir, 'mail.log') } } });
  return { config, store, out: createOutput({ json: true, stdout: sink, stderr: sink }), now: () => NOW };
}

const q = async (text: string) => (await sql.raw(text).execute(store.db)).rows;

describe('scrub-bounces on damaged logs', () => {
  const sample = readFileSync(path.join(REPO_ROOT, 'data-samples/maillog/mail.log'));
  const lines = sample.toString('utf8').split('\n').filter(Boolean).map((l) => Buffer.from(l, 'utf8'));
  const state = async () => ({
    events: await q(`select count(*)::int as n, md5(coalesce(string_agg(recipient || reason, ',' order by id), '')) as h from delivery_events`),
    suppressions: await q(`select kind, value, reason from suppressions order by 1, 2`),
    files: await q(`select first_line_hash, byte_offset, lines from maillog_files order by id`),
    sent: await q(`select day, transport, sent from maillog_sent_counts order by 1, 2`),
  });

  it('no crash; every line counted; the checkpoint at the end of what is readable; a re-run changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText(lines, { maxLines: 30 }), fc.constantFrom('plain', 'gz', 'cut-gz'), fc.double({ min: 0.2, max: 1, noNaN: true }), async (body, kind, cut) => {
        // A first line of its own: every generated file is a new file to the checkpoints.
        const text = Buffer.concat([Buffer.from(`# fuzz file ${n++}\n`), body]);
        const file = path.join(dir, `f${n}.log${kind === 'plain' ? '' : '.gz'}`);
        let readable = text;
        if (kind === 'plain') writeFileSync(file, text);
        else {
          const z = gzipSync(text);
          const bytes = kind === 'gz' ? z : z.subarray(0, Math.floor(cut * z.length));
          writeFileSync(file, bytes);
          readable = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
        }
        // One plain file given alone is the live log: its unterminated last line waits.
        const live = kind === 'plain';
        const partial = readable.length > 0 && readable[readable.length - 1] !== 0x0a;
        const expected = readable.filter((c) => c === 0x0a).length + (partial && !live ? 1 : 0);
        const before = await state();
        let s;
        try {
          s = await runBounceScrub(ctx(), [file]);
        } catch (e) {
          // Only a file none of whose lines is a syslog line may be refused, and then nothing of it is kept.
          expect(e).toBeInstanceOf(InputError);
          expect((e as Error).message).toMatch(/does not look like a mail log/);
          expect((await state()).events).toEqual(before.events);
          return;
        }
        if (readable.indexOf(0x0a) < 0 && kind !== 'plain') return; // cut before the first line ended: damaged, skipped
        expect(s.newLines).toBe(expected);
        expect(s.skippedLines).toBe(Object.values(s.skipped).reduce((a, b) => a + b, 0));
        expect(s.skipped.comment).toBeGreaterThanOrEqual(1);
        const run = await store.db.selectFrom('runs').select('counts').where('id', '=', s.runId).executeTakeFirstOrThrow();
        expect(run.counts).toMatchObject({ newLines: expected, skipped: s.skipped });
        expect(s.files[0]!.toOffset).toBe(live && partial ? readable.lastIndexOf(0x0a) + 1 : readable.length);
        const after = await state();
        const again = await runBounceScrub(ctx(), [file]);
        expect(again.newLines).toBe(0);
        expect(await state()).toEqual(after);
      }),
      RUNS,
    );
  }, 240_000);
});

describe('ingest census of damaged files', () => {
  const sample = readFileSync(path.join(REPO_ROOT, 'data-samples/census/FMCSA_CENSUS1_2026Nov.txt'));
  const [header, ...rows] = sample.toString('latin1').split(/\r?\n/).filter(Boolean).map((l) => Buffer.from(l, 'latin1'));

  it('no crash; read = accepted + rejected, each reject with a reason; a re-run changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText(rows, { maxLines: 25 }), async (body) => {
        const file = path.join(dir, `census-${n++}.txt`);
        writeFileSync(file, Buffer.concat([header!, Buffer.from('\r\n'), body]));
        // Random files of random vintages into one database: freshness is not what this property is about.
        const opts = { files: [file], snapshot: false, maxRejectRate: 1, normalize: false, allowOlder: true };
        const first = await runCensusIngest(ctx(), opts);
        expect(first.read).toBe(first.accepted + first.rejected);
        const rejects = async (run: number) => q(`select line_no, reason from census_rejects where run_id = ${run} order by line_no`);
        const r1 = await rejects(first.run);
        expect(r1).toHaveLength(first.rejected);
        for (const r of r1) expect((r as { reason: string }).reason).toMatch(/^[a-z_]+: ./);
        const carriers = await q(`select md5(coalesce(string_agg(c::text, '|' order by dot_number), '')) as h from (select dot_number, legal_name, email_raw, status, source_line from carriers) c`);
        const second = await runCensusIngest(ctx(), opts);
        expect(second).toMatchObject({ read: first.read, accepted: first.accepted, rejected: first.rejected, inserted: 0, updated: 0 });
        expect(await rejects(second.run)).toEqual(r1);
        expect(await q(`select md5(coalesce(string_agg(c::text, '|' order by dot_number), '')) as h from (select dot_number, legal_name, email_raw, status, source_line from carriers) c`)).toEqual(carriers);
      }),
      RUNS,
    );
  }, 240_000);
});

describe('binary COPY of text', () => {
  it('takes any string: a NUL and a lone surrogate are stored as U+FFFD, everything else as it is', async () => {
    // Any UTF-16 unit, NUL and half surrogates included (a JavaScript string can hold them; text cannot).
    const unit = fc.oneof(fc.constantFrom('\0', '\ud800', '\udfff', '\u00ff', '\u009b', '\u202e'), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit, maxLength: 40 }), { minLength: 1, maxLength: 200 }), async (values) => {
        const rows = new BinaryRows();
        values.forEach((v, i) => {
          rows.row(2);
          rows.int8(i);
          rows.text(v);
        });
        const back = await store.transactionWithCopy(async (trx, copy) => {
          await sql`create temp table copied (i bigint, v text) on commit drop`.execute(trx);
          await copy({ table: 'copied', columns: ['i', 'v'], format: 'binary', encoding: 'UTF8' }, rows.chunks());
          return (await sql<{ v: string }>`select v from copied order by i`.execute(trx)).rows.map((r) => r.v);
        });
        // What UTF-8 can say of each value (lone surrogates become U+FFFD), with NUL as U+FFFD.
        expect(back).toEqual(values.map((v) => Buffer.from(v, 'utf8').toString('utf8').replaceAll('\0', '\ufffd')));
      }),
      { numRuns: 5 },
    );
  });
});
