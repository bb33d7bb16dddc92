/**
 * A scrub killed after any of its checkpoints, then run again, stores exactly what one clean run
 * stores: the batches commit while the reader goes on (scrub.ts gives the event loop a turn per
 * chunk while a batch writes), so a kill can land with later batches cut and not yet written, and
 * the re-run must pick up at the last committed checkpoint with the linker state saved beside it.
 * Checked at every checkpoint of the demo log and of a real public log with bounces, deferrals and
 * expiries, on PostgreSQL and PGlite.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOutput } from '../src/cli/output.ts';
import { deepMerge, loadConfig, type ConfigOverrides } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { runBounceScrub } from '../src/maillog/stage.ts';
import type { ScrubOptions } from '../src/maillog/scrub.ts';
import { expandState, type LinkerStateV3 } from '../src/maillog/linker.ts';
import { describeWithSamples, REPO_ROOT, samplePath } from './helpers/samples.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const NOW = new Date('2026-11-28T00:00:00Z');
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'scrub-resume-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function scrub(s: TestStore, file: string, batchLines: number, opts: ScrubOptions = {}) {
  const overrides: ConfigOverrides = { maillog: { path: file, campaignClients: { '172.18.0.5': 'trucking' }, batchLines } };
  const config = loadConfig({ env: {}, cwd: dir, overrides: deepMerge<ConfigOverrides>({}, overrides) });
  const ctx: StageContext = { config, store: s, out: createOutput({ json: true, stdout: sink, stderr: sink }), now: () => NOW };
  return runBounceScrub(ctx, [], opts);
}

/** Everything the scrub stores, without ids and run ids (the file's line numbers stay: one file, read once). */
async function tables(db: Kysely<Database>) {
  const q = async (text: string) => (await sql.raw(text).execute(db)).rows;
  return {
    events: await q(`select ts, day, host, transport, qid, recipient, orig_to, domain, relay, relay_host, relay_provider, status, dsn, class, cause_class,
                       stage, reason, sender, client_ip, stream, own_domain, line_no from delivery_events order by line_no, recipient, status`),
    sent: await q(`select day, transport, stream, own_domain, sent from maillog_sent_counts order by 1, 2, 3, 4`),
    sentProviders: await q(`select day, provider, sent from maillog_sent_providers order by 1, 2`),
    sentDomains: await q(`select domain, max(last_ts) as last_ts from (select domain, last_ts from maillog_sent_domains
                            union all select domain, last_ts from maillog_sent_domain_log) x group by domain order by 1`),
    suppressions: await q(`select kind, value, reason, evidence - 'sampleEventId' as evidence, first_seen, last_seen, expires_at, lifted_at from suppressions order by kind, value`),
    holds: await q(`select scope, provider, domain, reason, evidence, starts_at, until, lifted_at from holds order by scope, provider, domain, reason`),
    health: await q(`select day, sent, deferred, bounced, expired, own_domain_sent, own_domain_failed, campaign_messages, dkim_signed, by_transport, by_class,
                       top_deferrals, top_bounces, stale from maillog_daily_health order by day`),
    streams: await q(`select day, stream, campaign_messages, dkim_signed from maillog_stream_daily order by day, stream`),
    files: await q(`select first_line_hash, byte_offset, lines from maillog_files order by 1`),
    linker: await q(`select state from maillog_linker_state`),
  };
}

/**
 * Kills a run after its checkpoint `k`, for every k of the clean run (or those of `o.only`), and
 * compares what the re-run leaves with the clean run's tables; `o.beforeRerun` may change the
 * killed run's database first (an upgrade between the two runs).
 */
async function killAtEveryCheckpoint(text: string, batchLines: number, o: { only?: number[]; beforeRerun?: (db: Kysely<Database>) => Promise<void> } = {}): Promise<number> {
  const file = path.join(dir, 'mail.log');
  writeFileSync(file, text);
  const clean = await createTestStore();
  let batches = 0;
  let expected: Awaited<ReturnType<typeof tables>>;
  try {
    await scrub(clean, file, batchLines, { afterBatch: (n) => void (batches = n) });
    expected = await tables(clean.db);
  } finally {
    await clean.close();
  }
  expect(batches).toBeGreaterThan(2);
  expect(expected.events.length).toBeGreaterThan(0);
  const kill = new Error('killed');
  for (let k = 1; k <= batches; k++) {
    if (o.only && !o.only.includes(k)) continue;
    const s = await createTestStore();
    try {
      await expect(scrub(s, file, batchLines, { afterBatch: (n) => { if (n === k) throw kill; } })).rejects.toBe(kill);
      const at = await s.db.selectFrom('maillog_files').select('lines').executeTakeFirstOrThrow();
      expect(at.lines).toBeGreaterThan(0);
      await o.beforeRerun?.(s.db);
      await scrub(s, file, batchLines);
      expect(await tables(s.db), `killed after checkpoint ${k} of ${batches}`).toEqual(expected);
    } finally {
      await s.close();
    }
  }
  return batches;
}

describe('a kill after any checkpoint, then a re-run', () => {
  it('on the demo log (one small batch per chunk) ends in the state of one clean run', async () => {
    const text = readFileSync(path.join(REPO_ROOT, 'data-samples/maillog/mail.log'), 'utf8');
    expect(await killAtEveryCheckpoint(text, 10)).toBeGreaterThan(3);
  }, 120_000);

  it('with the state the version before saved (v2: the same messages, uncompacted) ends in the state of one clean run', async () => {
    const text = readFileSync(path.join(REPO_ROOT, 'data-samples/maillog/mail.log'), 'utf8');
    let rewritten = 0;
    await killAtEveryCheckpoint(text, 10, {
      only: [2, 3],
      beforeRerun: async (db) => {
        const row = await db.selectFrom('maillog_linker_state').select('state').executeTakeFirstOrThrow();
        const saved = JSON.parse(row.state) as LinkerStateV3;
        expect(saved.version).toBe(3);
        const v2 = expandState(saved);
        expect(v2.messages.length).toBeGreaterThan(0);
        await db.updateTable('maillog_linker_state').set({ state: JSON.stringify(v2) }).execute();
        rewritten++;
      },
    });
    expect(rewritten).toBe(2);
  }, 120_000);
});

describeWithSamples('a kill after any checkpoint of a real log, then a re-run', () => {
  it('kdent-postfix_log_analysis (bounces, deferrals, rejects) ends in the state of one clean run', async () => {
    const text = readFileSync(samplePath('maillog/real/kdent-postfix_log_analysis.mail.log'), 'utf8');
    await killAtEveryCheckpoint(text, 400);
  }, 240_000);
});
