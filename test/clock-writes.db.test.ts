/**
 * Every time the product writes comes from its one injected clock, never from SQL now() or the
 * machine's clock (issue #13): a replay, a demo or a test dated away from today must leave rows
 * dated by its own clock. The clock here is a fixed day that the machine's clock is already past, so
 * a time taken from the wall or from the database server shows up as days too late.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runBounceScrub } from '../src/maillog/stage.ts';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import { saveChecks } from '../src/mx/cache.ts';
import { seedUniverse } from './build-fixture.ts';
import { day, LogBuilder, said } from './fixtures/maillog/flows.ts';
import { createTestStore, type TestStore } from './helpers/store.ts';

let store: TestStore;
let dir: string;
const NOW = day(28, 6);
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

function ctx(): StageContext {
  const config = loadConfig({ env: {}, cwd: dir, overrides: { timezone: 'UTC', warmup: { start: '2026-11-01' } } });
  return { config, store, out: createOutput({ json: true, stdout: sink, stderr: sink }), now: () => NOW };
}

beforeEach(async () => {
  store = await createTestStore();
  dir = mkdtempSync(path.join(os.tmpdir(), 'clock-writes-'));
  await seedUniverse(store.db, [{ dot: 1, emails: ['gone@carrier.test'] }, { dot: 2, emails: ['d@gmail.com'] }], { 'gmail.com': { provider: 'google' } });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The latest of every timestamp column of `table` (null when the table is empty). */
async function latest(table: string, columns: readonly string[]): Promise<Date | null> {
  const r = await sql<{ t: Date | null }>`select greatest(${sql.join(columns.map((c) => sql`max(${sql.ref(c)})`))}) as t from ${sql.table(table)}`.execute(store.db);
  return r.rows[0]!.t;
}

it("the scrub's and the MX cache's rows carry the injected clock's time, not the machine's or the database server's", async () => {
  const file = path.join(dir, 'mail.log');
  const gmailBlock = said('550-5.7.1 [198.51.100.5 1] Our system has detected an unusual rate of 550-5.7.1 unsolicited mail originating from your IP address.', 'end of DATA', 'gmail-smtp-in.l.google.com[192.0.2.27]');
  writeFileSync(
    file,
    new LogBuilder()
      .flow({ at: day(27), to: 'gone@carrier.test', relay: 'mx.carrier.test[192.0.2.10]:25', outcomes: [['bounced', '5.1.1', said('550 5.1.1 <gone@carrier.test>: Recipient address rejected: User unknown')]] })
      .flow({ at: day(27, 16), to: 'd@gmail.com', relay: 'gmail-smtp-in.l.google.com[192.0.2.27]:25', outcomes: [['bounced', '5.7.1', gmailBlock]] })
      .text(),
  );
  const s = await runBounceScrub(ctx(), [file]);
  expect(s.holds.length).toBeGreaterThan(0);
  await saveChecks(store.db, [{ domain: 'fresh.test', verdict: 'deliverable', reason: 'mx', provider: null, mxHosts: ['mx.fresh.test'], mxPreferences: [10], addresses: ['192.0.2.10'], ttlSeconds: 3600, error: null }], {
    now: NOW,
    runId: null,
    config: ctx().config.mx,
  });

  const written: Array<[string, string[]]> = [
    ['holds', ['created_at', 'updated_at', 'starts_at']],
    ['suppressions', ['created_at', 'updated_at']],
    ['maillog_files', ['first_seen_at', 'updated_at']],
    ['maillog_linker_state', ['updated_at']],
    ['maillog_daily_health', ['updated_at']],
    ['runs', ['started_at', 'finished_at']],
  ];
  for (const [table, cols] of written) {
    const t = await latest(table, cols);
    expect(t, `${table} has rows`).not.toBeNull();
    expect(t!.getTime(), `${table}.${cols.join('/')} must not be after the injected clock`).toBeLessThanOrEqual(NOW.getTime());
  }
  expect(await latest('suppressions', ['created_at'])).toEqual(NOW);
  // The seed wrote mx_domains rows by hand; the one the MX cache wrote carries the clock.
  const mx = await store.db.selectFrom('mx_domains').select('updated_at').where('domain', '=', 'fresh.test').executeTakeFirstOrThrow();
  expect(mx.updated_at).toEqual(NOW);
});
