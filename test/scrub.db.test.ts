import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBounceScrub } from '../src/maillog/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import { deepMerge, loadConfig, type ConfigOverrides } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import type { ScrubOptions } from '../src/maillog/scrub.ts';
import { foldSentDomains } from '../src/maillog/write-batch.ts';
import { REPO_ROOT } from './helpers/samples.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

const SAMPLE = path.join(REPO_ROOT, 'data-samples/maillog/mail.log');
const SAMPLE_LINES = readFileSync(SAMPLE, 'utf8').split('\n').slice(0, -1);
const NOW = new Date('2026-11-28T00:00:00Z');

let store: TestStore;
let dir: string;
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

beforeEach(async () => {
  store = await createTestStore();
  dir = mkdtempSync(path.join(os.tmpdir(), 'scrub-'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function ctxFor(s: TestStore, overrides: ConfigOverrides = {}): StageContext {
  const config = loadConfig({ env: {}, cwd: dir, overrides: deepMerge<ConfigOverrides>({ maillog: { path: path.join(dir, 'mail.log'), campaignClients: { '172.18.0.5': 'trucking' } } }, overrides) });
  return { config, store: s, out: createOutput({ json: true, stdout: sink, stderr: sink }), now: () => NOW };
}

const scrub = (files: string[] = [], overrides: ConfigOverrides = {}, opts: ScrubOptions = {}, s: TestStore = store) => runBounceScrub(ctxFor(s, overrides), files, opts);

/** Everything the scrub decides, without ids, run ids, line numbers and file ids (which depend on how the log was split). */
async function state(s: TestStore = store) {
  const q = async (text: string) => (await sql.raw(text).execute(s.db)).rows;
  return {
    events: await q(`select ts, day, host, transport, qid, recipient, orig_to, domain, relay, relay_provider, status, dsn, class, cause_class, stage, reason, sender, client_ip, stream, own_domain
                     from delivery_events order by ts, qid, recipient, status`),
    sent: await q(`select day, transport, stream, own_domain, sent from maillog_sent_counts order by 1, 2, 3, 4`),
    sentProviders: await q(`select day, provider, sent from maillog_sent_providers order by 1, 2`),
    // The last success per domain, whether folded yet or still in the log (the next run folds it).
    sentDomains: await q(`select domain, max(last_ts) as last_ts from (select domain, last_ts from maillog_sent_domains
                            union all select domain, last_ts from maillog_sent_domain_log) x group by domain order by 1`),
    suppressions: await q(`select kind, value, reason, evidence - 'sampleEventId' as evidence, first_seen, last_seen, expires_at, lifted_at from suppressions order by kind, value`),
    holds: await q(`select scope, provider, reason, evidence, starts_at, until, lifted_at from holds order by scope, provider, reason`),
    health: await q(`select day, sent, deferred, bounced, expired, own_domain_sent, own_domain_failed, campaign_messages, dkim_signed, by_transport, by_class, top_deferrals, top_bounces, stale
                     from maillog_daily_health order by day`),
    streams: await q(`select day, stream, campaign_messages, dkim_signed from maillog_stream_daily order by day, stream`),
  };
}

/** The state of one clean run over the whole sample, on a fresh database. */
async function cleanState() {
  const fresh = await createTestStore();
  try {
    const file = path.join(dir, 'clean.log');
    writeFileSync(file, SAMPLE_LINES.map((l) => l + '\n').join(''));
    await scrub([file], {}, {}, fresh);
    return await state(fresh);
  } finally {
    await fresh.close();
  }
}

const part = (from: number, to?: number) => SAMPLE_LINES.slice(from, to).map((l) => l + '\n').join('');

describe('scrub-bounces on the demo mail.log', () => {
  it('suppresses the unknown recipient and the failing domain, holds google, reports own mail apart; --json keys', async () => {
    const s = await scrub([SAMPLE]);
    expect(Object.keys(s)).toEqual(
      expect.arrayContaining(['command', 'files', 'linesRead', 'newLines', 'skippedLines', 'deliveries', 'byClass', 'suppressed', 'holds', 'dkim']),
    );
    expect(s).toMatchObject({
      command: 'scrub-bounces',
      linesRead: SAMPLE_LINES.length,
      newLines: SAMPLE_LINES.length,
      skippedLines: SAMPLE_LINES.filter((l) => l.startsWith('#')).length,
      deliveries: { sent: 16, deferred: 4, bounced: 4, expired: 1 },
      suppressed: { addresses: 1, domains: 1 },
      dkim: { campaignMessages: 21, signed: 21, coverage: 1, byStream: { trucking: { campaignMessages: 21, signed: 21, coverage: 1 } } },
      ownDomain: { bounced: 1 },
    });
    // The client 172.18.0.5 is mapped to `trucking`: its messages are counted per stream too, on the day each was injected.
    const streams = await store.db.selectFrom('maillog_stream_daily').selectAll().orderBy('day').execute();
    expect(streams.map((r) => [r.stream, r.campaign_messages, r.dkim_signed])).toEqual([
      ['trucking', 19, 19],
      ['trucking', 2, 2],
    ]);
    expect(s.byClass).toMatchObject({ recipient_invalid: 1, reputation_block: 1, mailbox_full: 1 });
    // The 16 successes outside the firm's domain by the provider whose relay accepted them: what
    // the report's delivery rate per provider is drawn from.
    const { sentProviders } = await state();
    expect(sentProviders).toEqual([
      { day: '2026-11-25', provider: 'google', sent: 7 },
      { day: '2026-11-25', provider: 'microsoft365', sent: 3 },
      { day: '2026-11-25', provider: 'other', sent: 5 },
      { day: '2026-11-25', provider: 'outlook_consumer', sent: 1 },
    ]);
    expect(s.holds).toEqual([{ scope: 'provider', provider: 'google', domain: null, mxHost: null, reason: 'reputation_block', until: expect.stringMatching(/^2026-11-29T/) }]);
    const supp = await store.db.selectFrom('suppressions').select(['kind', 'value', 'reason', 'evidence', 'source']).orderBy('kind').execute();
    expect(supp).toEqual([
      expect.objectContaining({ kind: 'address', value: 'old.dispatch@blue-ox-hauling.test', reason: 'recipient_invalid', source: 'scrub' }),
      expect.objectContaining({ kind: 'domain', value: 'sunset-haulers.test', reason: 'domain_failures' }),
    ]);
    expect(supp[0]!.evidence).toMatchObject({ class: 'recipient_invalid', count: 1, dsn: '5.1.1', sample: expect.stringContaining('NoSuchUser') });
    expect(supp[1]!.evidence).toMatchObject({ recipients: 3 });
    // Deferrals, sender-side blocks and the firm's own bounce never suppress.
    const values = supp.map((r) => r.value);
    expect(values).not.toContain('hello@blue-ox-hauling.test');
    expect(values).not.toContain('route66@roadrunner-freight.test');
    expect(values.some((v) => v.includes('firm-logistics'))).toBe(false);
    const health = await store.db.selectFrom('maillog_daily_health').selectAll().orderBy('day').execute();
    expect(health[0]).toMatchObject({ day: '2026-11-25', own_domain_failed: 1, campaign_messages: 19, dkim_signed: 19, stale: false });
    expect(health[0]!.top_bounces.length).toBeGreaterThan(0);
  });

  it('a run with no sender-side signal inside the hold window raises no hold, and still lifts a provider hold on other left by an earlier version', async () => {
    await sql`insert into holds (scope, provider, reason, detail, evidence, starts_at, until)
      values ('provider', 'other', 'reputation_block', 'from before holds by scope', '{}'::jsonb, ${new Date('2026-11-27T00:00:00Z')}::timestamptz, ${new Date('2026-12-01T00:00:00Z')}::timestamptz)`.execute(store.db);
    // The sample's reputation block (2026-11-25) is outside a one-day window at NOW (2026-11-28).
    const s = await scrub([SAMPLE], { maillog: { holdDays: 1 } });
    expect(s.holds).toEqual([]);
    const rows = await store.db.selectFrom('holds').select(['scope', 'provider', 'lifted_by', 'lift_reason']).execute();
    expect(rows).toEqual([{ scope: 'provider', provider: 'other', lifted_by: 'scrub-bounces', lift_reason: expect.stringMatching(/holds its receiving domain only/) }]);
  });

  it('a re-run that reads nothing recomputes a day left stale, and rewrites no health when none is', async () => {
    await scrub([SAMPLE]);
    const health = () => store.db.selectFrom('maillog_daily_health').selectAll().orderBy('day').execute();
    const clean = await health();
    expect(clean[0]).toMatchObject({ day: '2026-11-25', stale: false, sent: 16 });
    // Nothing stale: the health rows are not touched (not even their updated_at).
    await scrub([SAMPLE]);
    expect(await health()).toEqual(clean);
    // A day marked stale by a batch whose run died before its policies: the next run recomputes
    // it even though it reads nothing new itself.
    await sql`update maillog_daily_health set stale = true, sent = 0, by_class = '{}', top_bounces = '[]' where day = '2026-11-25'`.execute(store.db);
    await scrub([SAMPLE]);
    const redone = await health();
    expect(redone.map(({ updated_at: _u, ...h }) => h)).toEqual(clean.map(({ updated_at: _u, ...h }) => h));
  });

  it('a re-run over unchanged files reads nothing and changes nothing', async () => {
    await scrub([SAMPLE]);
    const before = await state();
    const again = await scrub([SAMPLE]);
    expect(again).toMatchObject({ newLines: 0, linesRead: SAMPLE_LINES.length, deliveries: { sent: 0, deferred: 0, bounced: 0, expired: 0 }, suppressed: { addresses: 0, domains: 0 } });
    expect(again.files[0]).toMatchObject({ status: 'unchanged' });
    expect(await state()).toEqual(before);
  });

  it('an unchanged re-run after a run that failed once its batch committed applies the policies that run never reached', async () => {
    const kill = new Error('killed after the commit');
    await expect(scrub([SAMPLE], {}, { afterBatch: () => Promise.reject(kill) })).rejects.toBe(kill);
    expect(await store.db.selectFrom('suppressions').select('value').execute()).toEqual([]);
    const again = await scrub([SAMPLE]);
    expect(again).toMatchObject({ newLines: 0, suppressed: { addresses: 1, domains: 1 } });
    expect(await state()).toEqual(await cleanState());
  });

  it('an unchanged re-run applies a changed suppression policy to the stored events', async () => {
    const strict = await scrub([SAMPLE], { maillog: { domainFailureRecipients: 4 } });
    expect(strict.suppressed).toEqual({ addresses: 1, domains: 0 });
    const same = await scrub([SAMPLE], { maillog: { domainFailureRecipients: 4 } });
    expect(same.suppressed).toEqual({ addresses: 0, domains: 0 });
    const loose = await scrub([SAMPLE]);
    expect(loose).toMatchObject({ newLines: 0, suppressed: { addresses: 0, domains: 1 } });
    expect(await state()).toEqual(await cleanState());
    // What the next run compares with is in the ledger.
    const runs = await store.db.selectFrom('runs').select('args').where('stage', '=', 'scrub-bounces').orderBy('id').execute();
    expect(runs.map((r) => (r.args as { suppressionInputs: { domainFailureRecipients: number } }).suppressionInputs.domainFailureRecipients)).toEqual([4, 4, 3]);
  });
});

describe('incremental reading', () => {
  it('appended lines are read once, and the result equals one clean run (split inside a message)', async () => {
    const log = path.join(dir, 'mail.log');
    writeFileSync(log, part(0, 90));
    const first = await scrub();
    expect(first.files[0]).toMatchObject({ status: 'new', newLines: 90 });
    appendFileSync(log, part(90));
    const second = await scrub();
    expect(second.files[0]).toMatchObject({ status: 'appended', newLines: SAMPLE_LINES.length - 90 });
    expect(await state()).toEqual(await cleanState());
  });

  it('an incomplete last line of the live file waits for its end', async () => {
    const log = path.join(dir, 'mail.log');
    const text = part(0, 60);
    const cut = text.length + 40;
    writeFileSync(log, text + part(60).slice(0, 40));
    const a = await scrub();
    expect(a.files[0]!.toOffset).toBe(Buffer.byteLength(text));
    writeFileSync(log, (text + part(60)).slice(0, cut) + part(60).slice(40));
    await scrub();
    expect(await state()).toEqual(await cleanState());
  });

  it('rotation mail.log -> .1 -> .2.gz (with unread lines left in the rotated file) is read oldest first, never twice', async () => {
    const log = path.join(dir, 'mail.log');
    writeFileSync(log, part(0, 50));
    await scrub();
    // More lines arrive, then logrotate renames before the next run: the tail is in mail.log.1.
    appendFileSync(log, part(50, 80));
    renameSync(log, `${log}.1`);
    writeFileSync(log, part(80, 140));
    const second = await scrub();
    expect(second.files.map((f) => [path.basename(f.path), f.status, f.newLines])).toEqual([
      ['mail.log.1', 'rotated', 30],
      ['mail.log', 'new', 60],
    ]);
    // Next week: .1 is compressed to .2.gz, mail.log becomes .1, a new mail.log starts.
    writeFileSync(`${log}.2.gz`, gzipSync(readFileSync(`${log}.1`)));
    rmSync(`${log}.1`);
    renameSync(log, `${log}.1`);
    writeFileSync(log, part(140));
    const third = await scrub();
    expect(third.files.map((f) => [path.basename(f.path), f.newLines])).toEqual([
      ['mail.log.2.gz', 0],
      ['mail.log.1', 0],
      ['mail.log', SAMPLE_LINES.length - 140],
    ]);
    expect(third.linesRead).toBe(SAMPLE_LINES.length);
    expect(await state()).toEqual(await cleanState());
  });

  it('copytruncate: the truncated file starts a new identity; the copy is recognized as already read', async () => {
    const log = path.join(dir, 'mail.log');
    writeFileSync(log, part(0, 100));
    await scrub();
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    const empty = await scrub();
    expect(empty.files.map((f) => f.status)).toEqual(['rotated', 'empty']);
    expect(empty.newLines).toBe(0);
    appendFileSync(log, part(100));
    const after = await scrub();
    expect(after.files.map((f) => [f.status, f.newLines])).toEqual([
      ['unchanged', 0],
      ['new', SAMPLE_LINES.length - 100],
    ]);
    expect(await state()).toEqual(await cleanState());
  });

  it('a kill in the middle, then a re-run, ends in the state of one clean run', async () => {
    const log = path.join(dir, 'mail.log');
    writeFileSync(log, part(0));
    const kill = new Error('killed');
    await expect(
      scrub([], { maillog: { batchLines: 40 } }, {
        afterBatch: (n) => {
          if (n === 2) throw kill;
        },
      }),
    ).rejects.toBe(kill);
    const mid = await store.db.selectFrom('maillog_files').select(['byte_offset', 'lines']).executeTakeFirstOrThrow();
    expect(mid.lines).toBeGreaterThan(0);
    expect(mid.lines).toBeLessThan(SAMPLE_LINES.length);
    // The committed batches' last successes wait in the log; the next run folds them at its start.
    const logged = async () => Number((await sql<{ n: number }>`select count(*)::int as n from maillog_sent_domain_log`.execute(store.db)).rows[0]!.n);
    expect(await logged()).toBeGreaterThan(0);
    const resumed = await scrub([], { maillog: { batchLines: 40 } });
    expect(resumed.newLines).toBe(SAMPLE_LINES.length - mid.lines);
    expect(await state()).toEqual(await cleanState());
    // A run with nothing new leaves what the last one logged where it is (readers take both
    // tables) and changes nothing; the next run with lines to read folds it beside its parsing.
    const left = await logged();
    expect(left).toBeGreaterThan(0);
    await scrub([]);
    expect(await logged()).toBe(left);
    expect(await state()).toEqual(await cleanState());
    const runs = await store.db.selectFrom('runs').select('status').where('stage', '=', 'scrub-bounces').orderBy('id').execute();
    expect(runs.map((r) => r.status)).toEqual(['failed', 'ok', 'ok']);
  });
});

describe('folding the logged successes', () => {
  // Two sessions are the point: PGlite has one, where the fold simply waits for the open batch.
  it.skipIf(process.env.AUDIENCE_TEST_BACKEND === 'pglite')('a fold beside a batch that is still writing moves only committed rows: nothing is lost', async () => {
    await sql`insert into maillog_sent_domain_log (domain, last_ts) values ('old.example', '2026-11-20T10:00:00Z')`.execute(store.db);
    // A batch transaction has logged a success and not committed when the fold runs on another connection.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let logged!: () => void;
    const inBatch = new Promise<void>((r) => (logged = r));
    const batch = store.db.transaction().execute(async (trx) => {
      await sql`insert into maillog_sent_domain_log (domain, last_ts) values ('new.example', '2026-11-21T10:00:00Z')`.execute(trx);
      logged();
      await held;
    });
    await inBatch;
    await foldSentDomains(store.db);
    release();
    await batch;
    const rows = async (t: string) => (await sql.raw(`select domain from ${t} order by 1`).execute(store.db)).rows;
    expect(await rows('maillog_sent_domains')).toEqual([{ domain: 'old.example' }]);
    expect(await rows('maillog_sent_domain_log')).toEqual([{ domain: 'new.example' }]);
    await foldSentDomains(store.db);
    expect(await rows('maillog_sent_domains')).toEqual([{ domain: 'new.example' }, { domain: 'old.example' }]);
  });
});

describe('when the logged successes are folded', () => {
  it('an unchanged re-run leaves them in the log; the next run with lines to read folds them, and every table equals one clean run', async () => {
    const log = path.join(dir, 'mail.log');
    writeFileSync(log, part(0, 120));
    await scrub();
    const rows = async (t: string) => (await sql.raw(`select domain, last_ts from ${t} order by 1, 2`).execute(store.db)).rows as { domain: string; last_ts: Date }[];
    const logged = await rows('maillog_sent_domain_log');
    expect(logged.length).toBeGreaterThan(0);
    const before = await state();
    await scrub();
    expect(await rows('maillog_sent_domain_log')).toEqual(logged);
    expect(await state()).toEqual(before);
    appendFileSync(log, part(120));
    await scrub();
    // What the first run logged is now in the table (the appended lines' own successes may be logged again).
    const folded = new Map((await rows('maillog_sent_domains')).map((r) => [r.domain, r.last_ts.getTime()]));
    for (const r of logged) expect(folded.get(r.domain)).toBeGreaterThanOrEqual(r.last_ts.getTime());
    expect(await state()).toEqual(await cleanState());
  });
});
