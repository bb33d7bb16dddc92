/**
 * End to end against a real Listmonk v6.2.0, through the CLI as an operator runs it: the sample
 * census, the sample mail.log, the MX snapshot, a real `build --send-hour` into Listmonk; then one
 * recipient clicks the campaign's unsubscribe link (Listmonk's own public page) and another is
 * blocklisted through the API; a build a month later, past the cooldown, honours both as opted_out.
 *
 * The clock is the real server's (its Date header): Listmonk judges "in the future" by it, so the
 * CLI runs with AUDIENCE_NOW set from it whatever this process's clock says, on the samples dated
 * relative to that clock as the demo dates them (scripts/demo-data.mjs).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDate } from '../src/warmup/calendar.ts';
import { runCli, type CliResult } from './helpers/cli.ts';
import { describeReal, startRealListmonk, type RealListmonk } from './helpers/real-listmonk.ts';
import { createTestStore, testBackend, type TestStore } from './helpers/store.ts';
import { call } from './listmonk-double/call.ts';
// @ts-expect-error: a plain .mjs script without types
import { writeDemoData } from '../scripts/demo-data.mjs';
import { serverClock } from './listmonk-contract/target.ts';

/** What scripts/demo-data.mjs writes: the samples moved so their day is the day before `now`. */
interface Dated {
  census: string;
  maillog: string;
  snapshot: string;
  warmupStart: string;
}

const DAY = 86_400_000;
const TZ = 'America/Chicago';

// Minutes of CLI runs: once per suite, on PostgreSQL when the suite has it (the rules themselves are
// tested on both backends in optouts-build.db.test.ts).
const elsewhere = testBackend() === 'pglite' && Boolean(process.env.DATABASE_URL);
const suite = elsewhere ? (name: string, fn: () => void) => describe.skip(`${name} (runs once, on PostgreSQL)`, fn) : describeReal;

suite('end to end with a real Listmonk: opt-outs flow back', () => {
  let server: RealListmonk;
  let store: TestStore | null = null;
  let dataDir: string | null = null;
  let samplesDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startRealListmonk();
    const db: Record<string, string> = {};
    if (testBackend() === 'pg') {
      store = await createTestStore();
      db.DATABASE_URL = store.url!;
    } else {
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'audience-e2e-'));
      db.AUDIENCE_DATA_DIR = dataDir;
    }
    samplesDir = mkdtempSync(path.join(os.tmpdir(), 'audience-e2e-samples-'));
    env = {
      ...db,
      AUDIENCE_CONFIG: 'data-samples/audience.config.json',
      LISTMONK_URL: server.url,
      LISTMONK_API_USER: server.apiUser,
      LISTMONK_API_TOKEN: server.apiToken,
    };
  });
  afterAll(async () => {
    await server?.stop();
    await store?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (samplesDir) rmSync(samplesDir, { recursive: true, force: true });
  });

  const cli = async (args: string[], now: Date): Promise<CliResult> => {
    const r = await runCli([...args, '--json'], { env: { ...env, AUDIENCE_NOW: now.toISOString(), AUDIENCE_WARMUP_START: warmupStart } });
    if (r.code !== 0) throw new Error(`audience ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-2000)}`);
    return r;
  };
  let warmupStart = '';
  const dated = (now: Date, name: string): Dated => writeDemoData(path.join(samplesDir, name), now, TZ) as Dated;
  const admin = (method: string, p: string, json?: unknown) => call(server.url, method, p, { auth: `token ${server.apiUser}:${server.apiToken}`, ...(json ? { json } : {}) });

  it('a real build pushes and schedules; an unsubscribe click and a blocklisting are never pushed again', { timeout: 600_000 }, async () => {
    const now = await serverClock(server.url);
    const date = localDate(new Date(now.getTime() + DAY), TZ);
    const samples = dated(now, 'first');
    warmupStart = samples.warmupStart;
    await cli(['migrate'], now);
    await cli(['ingest', 'census', samples.census], now);
    await cli(['scrub-bounces', samples.maillog], now);
    await cli(['check-mx', '--import', samples.snapshot], now);

    const first = (await cli(['build', '--date', date, '--send-hour', '9'], now)).json as {
      segments: { name: string; pushed: number; list: { id: number } | null; campaign: { id: number } | null }[];
      optOuts: { newOptOuts: number } | null;
    };
    expect(first.optOuts).toMatchObject({ newOptOuts: 0 });
    const seg = first.segments.find((s) => s.pushed >= 2 && s.campaign)!;
    expect(seg, JSON.stringify(first.segments)).toBeDefined();
    const campaign = (await admin('GET', `/api/campaigns/${seg.campaign!.id}`)).body.data;
    expect(campaign.status).toBe('scheduled');
    expect(campaign.altbody.length).toBeGreaterThan(0);
    const members = (await admin('GET', `/api/subscribers?list_id=${seg.list!.id}&per_page=all&order_by=email&order=asc`)).body.data.results as { id: number; uuid: string; email: string }[];
    expect(members.length).toBe(seg.pushed);
    const [clicked, blocked] = members;

    // The recipient's click on the campaign's unsubscribe link, as the mail would send it.
    const click = await fetch(`${server.url}/subscription/${campaign.uuid}/${clicked!.uuid}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(click.status).toBe(200);
    expect((await admin('PUT', '/api/subscribers/blocklist', { ids: [blocked!.id] })).status).toBe(200);

    // A month later, past the 30-day cooldown: fresh MX verdicts, then a real build.
    const later = new Date(now.getTime() + 31 * DAY);
    const laterDate = localDate(new Date(later.getTime() + DAY), TZ);
    await cli(['check-mx', '--import', dated(later, 'later').snapshot], later);
    const sync = (await cli(['sync-listmonk'], later)).json as { newOptOuts: number; optedOut: number; blocklistedEverywhere: boolean };
    expect(sync).toMatchObject({ newOptOuts: 2, optedOut: 2, blocklistedEverywhere: true });
    const second = (await cli(['build', '--date', laterDate], later)).json as { excluded: Record<string, number>; optOuts: { newOptOuts: number } };
    expect(second.optOuts.newOptOuts).toBe(0);
    expect(second.excluded.opted_out).toBe(2);
    for (const [who, evidence] of [
      [clicked!, new RegExp(`unsubscribed in Listmonk from list .*\\(id ${seg.list!.id}\\) \\(subscriber ${clicked!.id}\\)`)],
      [blocked!, new RegExp(`blocklisted in Listmonk \\(subscriber ${blocked!.id}\\)`)],
    ] as const) {
      const why = (await cli(['explain', who.email, '--date', laterDate], later)).json as { addresses: { eligible: boolean; reasons: { code: string; detail: string }[] }[] };
      // Nothing else keeps them out on that date: the opt-out does.
      expect(why.addresses[0]!.reasons.map((r) => r.code)).toEqual(['opted_out']);
      expect(why.addresses[0]!.reasons[0]!.detail).toMatch(evidence);
    }
    const pushedLater = (await admin('GET', `/api/lists?minimal=true&per_page=all`)).body.data.results.filter((l: { name: string }) => l.name.endsWith(laterDate));
    for (const l of pushedLater) {
      const onList = (await admin('GET', `/api/subscribers?list_id=${l.id}&per_page=all`)).body.data.results.map((s: { email: string }) => s.email);
      expect(onList).not.toContain(clicked!.email);
      expect(onList).not.toContain(blocked!.email);
    }
  });
});
