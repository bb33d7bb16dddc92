/**
 * The census first load's e-mail thread (src/email/census-email-pass.ts, census-email-worker.ts)
 * against NormalizePass run in this thread on the same fields as PostgreSQL stores them in
 * carriers.email_raw: the same spooled bytes (links, emails, reasons, sources) and the same tally,
 * with batches of a few rows and one batch on its way at a time, so that rows cross many batches
 * and the loading thread waits for the thread. A thread that fails (its spool cannot be written)
 * neither hangs the load nor hands over rows. The whole ingest with the thread is compared with
 * the incremental path in test/email-census-pass.db.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FORMATS, type DetectedFormat } from '../src/census/formats.ts';
import { CensusEmailPass } from '../src/email/census-email-pass.ts';
import { NormalizePass, type PassTally } from '../src/email/normalize-pass.ts';
import { Spool, type SpoolName } from '../src/email/row-spool.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'census-email-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A census1 row's e-mail field as in the file (bytes), and what carriers.email_raw holds for it. */
const FIELDS: [Buffer, string | null][] = [
  [Buffer.from('info@acme-trucking.com'), 'info@acme-trucking.com'],
  [Buffer.from('"Dispatch@Acme-Trucking.COM"'), 'Dispatch@Acme-Trucking.COM'],
  [Buffer.from(''), null],
  [Buffer.from('""'), null],
  [Buffer.from('"a@b.com; c@d.com , a@b.com"'), 'a@b.com; c@d.com , a@b.com'],
  [Buffer.from('"say ""hi""@x.com"'), 'say "hi"@x.com'],
  // Windows-1252: é (0xE9) and an em dash (0x97).
  [Buffer.from([0x6a, 0x6f, 0x73, 0xe9, 0x40, 0x63, 0x61, 0x66, 0xe9, 0x2e, 0x63, 0x6f, 0x6d]), 'josé@café.com'],
  [Buffer.from([0x22, 0x78, 0x97, 0x79, 0x40, 0x7a, 0x2e, 0x63, 0x6f, 0x6d, 0x22]), 'x\u2014y@z.com'],
  [Buffer.from('no-at-sign.example.com'), 'no-at-sign.example.com'],
  [Buffer.from('owner@gmial.com'), 'owner@gmial.com'],
  [Buffer.from(`"${'long'.repeat(200)}@example.com"`), `${'long'.repeat(200)}@example.com`],
  [Buffer.from('INFO@ACME-TRUCKING.COM'), 'INFO@ACME-TRUCKING.COM'],
];

const DETECTED = { format: FORMATS.fmcsa_census1, header: ['DOT_NUMBER', 'EMAIL_ADDRESS'], positions: { dot_number: 0, email_raw: 1 } } as unknown as DetectedFormat;

/** `n` rows cycling through FIELDS; DOT numbers ascending, or scrambled. */
function rows(n: number, ascending: boolean): { dot: number; field: Buffer; raw: string | null }[] {
  return Array.from({ length: n }, (_, i) => {
    const [field, raw] = FIELDS[(i * 7) % FIELDS.length]!;
    return { dot: ascending ? 1000 + i : 1000 + ((i * 7919) % n), field, raw };
  });
}

const NAMES: SpoolName[] = ['links', 'emails', 'reasons', 'sources'];

async function files(spool: Spool): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const name of NAMES) {
    const chunks: Buffer[] = [];
    for await (const c of spool.read(name)) chunks.push(Buffer.from(c));
    out[name] = Buffer.concat(chunks);
  }
  return out;
}

/** The tally's counts up to the last address (the array has room for more). */
const comparable = (t: PassTally) => ({ ...t, linkCounts: Array.from(t.linkCounts.subarray(0, t.addresses + 1)) });

describe('the e-mail thread makes what NormalizePass makes in this thread', () => {
  for (const ascending of [true, false]) {
    it(`the same spool and tally over many small batches, DOT numbers ${ascending ? 'ascending' : 'scrambled'}`, async () => {
      const input = rows(2500, ascending);
      const pass = await CensusEmailPass.start(DETECTED, 2, ascending ? 1 : 2, 1 << 20, { batchRows: 7, maxInFlight: 1, spoolDir: dir });
      try {
        for (const r of input) {
          const dot = Buffer.from(`${r.dot},`);
          const buf = Buffer.concat([dot, r.field]);
          pass.onAccepted(r.dot, buf, Int32Array.of(0, dot.length), Int32Array.of(dot.length - 1, buf.length));
        }
        const finished = await pass.finished();
        expect(pass.failure).toBeNull();
        expect(finished).not.toBeNull();

        const reference = new Spool(path.join(dir, `reference-${ascending}`), NAMES);
        const here = new NormalizePass(reference, 2);
        for (const r of input) here.carrier(r.dot, r.raw);
        reference.close();
        const tally = here.finish();
        expect(comparable(finished!.tally)).toEqual(comparable(tally));
        expect(tally.ascending).toBe(ascending);
        expect(tally.addresses).toBeGreaterThan(5);
        expect(await files(pass.spool)).toEqual(await files(reference));
        reference.remove();
      } finally {
        await pass.dispose();
      }
    });
  }

  it('a thread that fails neither hangs the load nor hands over its rows', async () => {
    const pass = await CensusEmailPass.start(DETECTED, 2, 3, 1 << 20, { batchRows: 3, maxInFlight: 1, spoolDir: path.join(dir, 'no-such-folder') });
    try {
      // Enough rows for the spool to write (and fail) before the end.
      for (const r of rows(20_000, true)) {
        const buf = Buffer.concat([Buffer.from(`${r.dot},`), r.field]);
        const comma = buf.indexOf(0x2c);
        pass.onAccepted(r.dot, buf, Int32Array.of(0, comma + 1), Int32Array.of(comma, buf.length));
      }
      expect(await pass.finished()).toBeNull();
      expect(pass.failure).toMatch(/ENOENT/);
    } finally {
      await pass.dispose();
    }
  });
});
