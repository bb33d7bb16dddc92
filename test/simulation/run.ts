/**
 * Sixty days of operation on a fake clock, through the functions the CLI commands call:
 *
 *   day 0, 30   03:00  census refresh (`ingest census`, --snapshot after the first load, then the
 *                      normalize of the job) and the MX verdicts (`check-mx --import`)
 *   every day   06:00  the scheduled build for the day (`build --date D --send-hour 9`)
 *               09:00  Listmonk sends the day's campaigns; the MTA logs them (mta.ts)
 *               10:00, 14:00  analysts build 1–3 days ahead, at random, with random
 *                      --only-segment / --max-per-segment
 *               18:00  recipients unsubscribe from a list or get blocklisted in Listmonk; some
 *                      recipients of an old list already on a later date's list unsubscribe
 *                      from the old one (its mail's link)
 *               23:30  `scrub-bounces` of mail.log, then `sync-listmonk`
 *
 * After every day the invariants (invariants.ts) are checked over the whole history, and every
 * campaign's mail against the opt-outs made before it was sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { runBounceScrub } from '../../src/maillog/stage.ts';
import { runCensusIngest } from '../../pipelines/ingest.ts';
import { listmonkSync } from '../../src/optouts/stage.ts';
import { checkMx } from '../../src/mx/stage.ts';
import { segmentBuild } from '../../src/push/stage.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { StageContext } from '../../src/context.ts';
import { SafetyGateError } from '../../src/errors.ts';
import { createListmonkClient, type ListmonkClient } from '../../src/listmonk/index.ts';
import { explain } from '../../src/reports/explain.ts';
import { zonedTime } from '../../src/warmup/calendar.ts';
import { quietOutput } from '../build-fixture.ts';
import { mulberry32 } from '../helpers/prng.ts';
import type { TestStore } from '../helpers/store.ts';
import { DEFAULT_USER, ListmonkDouble } from '../listmonk-double/index.ts';
import { checkInvariants, emptyObserved, excludedAt, observe } from './invariants.ts';
import { CAMPAIGN_CLIENT, Mta, SMALLHOST, type DayEpisodes } from './mta.ts';
import { chance, newCarrier, nextCensus, pick, writeCensusFile, writeMxCsv, type SimCarrier } from './world.ts';

export const TZ = 'America/Chicago';
/** A far-future calendar, injected: nothing here depends on the machine's date. */
export const START = '2031-03-03';
export const DAYS = 60;
/** The warmup ramp, kept small so a few hundred carriers last past the cooldown. */
const RAMP = [
  { fromDay: 0, hourly: 2, daily: 4 },
  { fromDay: 7, hourly: 2, daily: 7 },
  { fromDay: 21, hourly: 3, daily: 10 },
];
export const EPISODES = { gmailBlock: 12, yahooTss04: 20, smallhostBlock: 28, dkimOutage: 40 };

export const addDays = (iso: string, n: number) => new Date(Date.parse(iso + 'T00:00:00Z') + n * 86_400_000).toISOString().slice(0, 10);

/** The cap of a date by the test's own copy of the ramp (warmup day = days since START). */
export function capOf(date: string): number {
  const day = Math.round((Date.parse(date) - Date.parse(START)) / 86_400_000);
  if (day < 0) return 0;
  return [...RAMP].reverse().find((r) => r.fromDay <= day)!.daily;
}

export interface SimSummary {
  seed: number;
  days: number;
  pushes: number;
  /** The last simulated day on which a build pushed anything. */
  lastPushDay: number;
  /** The day the DKIM outage was caught (the first from its episode day with enough unsigned mail to judge). */
  dkimOutageDay: number | null;
  builds: { scheduled: number; analyst: number; refused: Record<string, number> };
  mailed: number;
  bounced: number;
  optOuts: number;
  /** Opt-outs, among them, of recipients already on a list of a later date (an old list's unsubscribe link). */
  optOutsAhead: number;
  optOutsHonored: number;
  holdsRaised: number;
  holdsByScope: Record<string, number>;
  suppressions: number;
  censusLoads: number;
  invariantsChecked: number;
  seconds: number;
  /** Wall seconds per stage, to see where a slow run spends its time. */
  stageSeconds: Record<string, number>;
}

export class SimulationFailure extends Error {}

/** The send date in the name of a list this project made (`[prefix ]segment YYYY-MM-DD`), or null. */
function listDate(name: string, prefix: string): string | null {
  const hit = new RegExp(`^${prefix ? `${prefix} ` : ''}\\S+ (\\d{4}-\\d{2}-\\d{2})$`).exec(name);
  return hit ? hit[1]! : null;
}

export async function runSimulation(store: TestStore, seed: number, opts: { days?: number; carriers?: number } = {}): Promise<SimSummary> {
  const t0 = performance.now();
  const days = opts.days ?? DAYS;
  const rng = mulberry32(seed);
  const dir = mkdtempSync(path.join(os.tmpdir(), `audience-sim-${seed}-`));
  let now = zonedTime(START, 0, TZ);
  const clock = () => new Date(now.getTime());
  const at = (date: string, hour: number, minute = 0) => {
    now = new Date(zonedTime(date, hour, TZ).getTime() + minute * 60_000);
  };
  const lm = await ListmonkDouble.start({ now: clock });
  try {
    const html = path.join(dir, 'campaign.html');
    writeFileSync(html, '<p>Your MCS-150 update is due. <a href="{{ UnsubscribeURL }}">Unsubscribe</a></p>');
    const config: Config = loadConfig({
      env: {},
      cwd: dir,
      overrides: {
        timezone: TZ,
        warmup: { start: START, ramp: RAMP },
        census: { snapshotMinRows: 100 },
        maillog: { campaignClients: { [CAMPAIGN_CLIENT]: 'trucking' }, ownDomains: ['firm.example'], dkimMinMessages: 3, dkimHoldDays: 2, holdDays: 3 },
        build: { campaigns: { mcs150: { subject: 'Your MCS-150 is due', htmlFile: html }, 'new-carrier': { subject: 'Welcome to the road', htmlFile: html } } },
        listmonk: { url: lm.url, apiUser: DEFAULT_USER.username, apiToken: DEFAULT_USER.token },
      },
    });
    const ctx: StageContext = { config, store, out: quietOutput(), now: clock };
    const client: ListmonkClient = createListmonkClient({ ...config.listmonk, retryBaseMs: 1, retryMaxMs: 5, timeoutMs: 5000 }, { now: clock });
    const mailLog = path.join(dir, 'mail.log');
    writeFileSync(mailLog, '');
    const mta = new Mta(mailLog, rng);
    const observed = emptyObserved();

    let dot = 3_100_000;
    const nextDot = () => (dot += 7);
    let census: SimCarrier[] = [];
    const s: SimSummary = {
      seed,
      days: 0,
      pushes: 0,
      lastPushDay: -1,
      dkimOutageDay: null,
      builds: { scheduled: 0, analyst: 0, refused: {} },
      mailed: 0,
      bounced: 0,
      optOuts: 0,
      optOutsAhead: 0,
      optOutsHonored: 0,
      holdsRaised: 0,
      holdsByScope: {},
      suppressions: 0,
      censusLoads: 0,
      invariantsChecked: 0,
      seconds: 0,
      stageSeconds: {},
    };
    const timed = async <T>(stage: string, f: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      try {
        return await f();
      } finally {
        s.stageSeconds[stage] = Math.round(((s.stageSeconds[stage] ?? 0) + (performance.now() - t) / 1000) * 10) / 10;
      }
    };
    const honored = new Set<string>();
    let dkimDown = false;

    const build = async (date: string, o: { sendHour?: number; onlySegments?: string[]; maxPerSegment?: number | null }) => {
      try {
        const r = await timed('build', () => segmentBuild(ctx, { date, listmonk: client, ...o }));
        for (const [k, sec] of Object.entries(r.timings)) s.stageSeconds[`build.${k}`] = Math.round(((s.stageSeconds[`build.${k}`] ?? 0) + sec) * 10) / 10;
        return true;
      } catch (e) {
        // The gates refuse (exit 3): the cap already reached, or a global hold.
        if (!(e instanceof SafetyGateError)) throw e;
        s.builds.refused[e.gate] = (s.builds.refused[e.gate] ?? 0) + 1;
        return false;
      }
    };

    for (let i = 0; i < days; i++) {
      const date = addDays(START, i);
      const fail = (what: string) => {
        throw new SimulationFailure(`seed ${seed}, day ${i} (${date}): ${what}\n  replay: SIM_SEED=${seed} npx vitest run test/simulation.db.test.ts`);
      };
      try {
        // 03:00 census refresh.
        if (i % 30 === 0) {
          at(date, 3);
          census = i === 0 ? Array.from({ length: opts.carriers ?? 300 }, (_, k) => newCarrier(rng, nextDot(), date, k % 20 === 0)) : nextCensus(rng, census, date, nextDot, config.census.snapshotMaxDeactivateShare);
          const file = writeCensusFile(dir, `FMCSA_CENSUS1_${date}.txt`, census);
          await timed('census', () => runCensusIngest(ctx, { files: [file], snapshot: i > 0, normalize: true }));
          s.censusLoads++;
          at(date, 3, 30);
          const mx = path.join(dir, `mx-${date}.csv`);
          writeMxCsv(mx, new Date(now.getTime() - 3_600_000));
          await timed('check-mx', () => checkMx(ctx, { importFile: mx }));
        }
        const deadMailboxes = new Set(census.filter((c) => c.deadMailbox).map((c) => c.email.toLowerCase()));

        // 06:00 the scheduled build of the day, its campaigns at 09:00.
        at(date, 6);
        s.builds.scheduled++;
        await build(date, { sendHour: 9 });

        // 09:00 Listmonk sends; Postfix logs.
        // OpenDKIM goes down on its episode day and stays down until a day's unsigned mail is enough
        // for the hold to judge (dkimMinMessages): a day with less proves nothing either way.
        if (i === EPISODES.dkimOutage) dkimDown = true;
        const ep: DayEpisodes = { gmailBlock: i === EPISODES.gmailBlock, yahooTss04: i === EPISODES.yahooTss04, smallhostBlock: i === EPISODES.smallhostBlock, dkimOutage: dkimDown };
        const sent = mta.sendDue(lm, zonedTime(date, 0, TZ), zonedTime(addDays(date, 1), 0, TZ), deadMailboxes, ep);
        s.mailed += sent.mailed.length;
        s.bounced += sent.bounced;
        // Nobody is mailed after opting out, nor while a rule forbids it (a hold raised, a
        // suppression learnt since the list was filled), whichever list the campaign went to.
        for (const email of sent.mailed) {
          const out = observed.optedOutAt.get(email);
          if (out && out < clock()) fail(`opt-out (mailed): ${email} opted out at ${out.toISOString()} and was mailed by a campaign of ${date}`);
          const why = excludedAt(observed, email, clock());
          if (why.length) fail(`${why[0]!.kind} (mailed): ${email} was mailed by a campaign of ${date}${why[0]!.detail}`);
        }

        // 10:00 and 14:00 analysts build ahead.
        for (const hour of [10, 14]) {
          if (!chance(rng, 0.22)) continue;
          at(date, hour);
          const segs = pick(rng, [undefined, ['mcs150'], ['new-carrier'], ['mcs150', 'new-carrier']]);
          s.builds.analyst++;
          await build(addDays(date, 1 + Math.floor(rng() * 3)), { onlySegments: segs, maxPerSegment: chance(rng, 0.5) ? 1 + Math.floor(rng() * 4) : null });
        }

        // 18:00 some recipients of today's mail opt out in Listmonk.
        at(date, 18);
        for (const email of sent.mailed) {
          const r = rng();
          if (r >= 0.09) continue;
          const sub = lm.model.findByEmail(email);
          if (!sub) continue;
          if (r < 0.03) lm.model.blocklist(sub.id);
          else {
            const lists = [...(lm.model.subscriptions.get(sub.id) ?? new Map()).entries()].filter(([, x]) => x.status !== 'unsubscribed');
            if (!lists.length) continue;
            lm.model.subscribe(sub.id, pick(rng, lists)[0], 'unsubscribed');
          }
          if (!observed.optedOutAt.has(email)) {
            observed.optedOutAt.set(email, clock());
            s.optOuts++;
          }
        }

        // 18:00 too: a recipient of an old list of ours who is already on a later date's list (an
        // analyst built ahead) clicks the old mail's unsubscribe link.
        for (const [subId, subs] of lm.model.subscriptions) {
          const email = lm.model.subscribers.get(subId)?.email.toLowerCase();
          if (!email || observed.optedOutAt.has(email)) continue;
          const dated = [...subs.entries()].flatMap(([id, x]) => {
            const d = listDate(lm.model.lists.get(id)?.name ?? '', config.listmonk.listPrefix);
            return d && x.status !== 'unsubscribed' ? [{ id, d }] : [];
          });
          const old = dated.find((x) => x.d < date);
          if (!old || !dated.some((x) => x.d > date) || !chance(rng, 0.5)) continue;
          lm.model.subscribe(subId, old.id, 'unsubscribed');
          observed.optedOutAt.set(email, clock());
          s.optOuts++;
          s.optOutsAhead++;
        }

        // 23:30 the nightly scrub, then the opt-out read.
        mta.flush();
        at(date, 23, 30);
        await timed('scrub', () => runBounceScrub(ctx, [mailLog]));
        await observe(store.db, observed, clock());
        const standing = (scope: string, provider: string | null) => [...observed.holds.values()].some((h) => h.scope === scope && h.provider === provider && h.windows.some((w) => w.until > clock()));
        if (ep.dkimOutage && sent.unsigned >= config.maillog.dkimMinMessages) {
          if (!standing('global', null)) fail(`the MTA signed none of ${sent.unsigned} campaign message(s), and the scrub raised no global DKIM hold`);
          dkimDown = false;
          s.dkimOutageDay = i;
        }
        if (ep.gmailBlock && !standing('provider', 'google'))
          fail('Gmail refused campaign mail with 550-5.7.1, and the scrub raised no hold on google');
        if (ep.smallhostBlock && ![...observed.holds.values()].some((h) => h.scope === 'domain' && h.mxHost === SMALLHOST && h.windows.some((w) => w.until > clock())))
          fail(`${SMALLHOST} refused to talk ("Too many invalid recipients"), and the scrub raised no domain hold on it`);
        at(date, 23, 45);
        await timed('sync', () => listmonkSync(ctx, { listmonk: client }));

        // Opt-outs honoured: opted-out addresses still in the census, out of every cooldown window
        // of tomorrow, that the build would judge for tomorrow and excludes as opted_out.
        const tomorrow = addDays(date, 1);
        const inCensus = new Set(census.map((c) => c.email.toLowerCase()));
        for (const email of observed.optedOutAt.keys()) {
          if (honored.has(email) || !inCensus.has(email)) continue;
          const near = await sql<{ n: number }>`
            select count(*)::int as n from push_ledger where address = ${email} and status in ('reserved', 'pushed')
              and send_date between ${tomorrow}::date - ${config.build.cooldownDays}::int and ${tomorrow}::date + ${config.build.cooldownDays}::int`.execute(store.db);
          if (near.rows[0]!.n) continue;
          const report = await timed('explain', () => explain(ctx, email, { date: tomorrow }));
          if (report.summary.addresses.some((a) => a.reasons.some((r) => r.code === 'opted_out'))) honored.add(email);
        }

        const { violations, checks } = await timed('invariants', () => checkInvariants({ db: store.db, lm, observed, cooldownDays: config.build.cooldownDays, capOf, listPrefix: config.listmonk.listPrefix }));
        s.invariantsChecked += checks;
        if (violations.length) fail(`${violations.length} invariant violation(s):\n  ${violations.slice(0, 20).join('\n  ')}`);
        s.days++;
      } catch (e) {
        if (e instanceof SimulationFailure) throw e;
        fail(`${(e as Error).stack ?? String(e)}`);
      }
    }

    s.pushes = Number((await sql<{ n: number }>`select count(*)::int as n from push_ledger where status = 'pushed'`.execute(store.db)).rows[0]!.n);
    const last = (await sql<{ at: Date | null }>`select max(pushed_at) as at from push_ledger where status = 'pushed'`.execute(store.db)).rows[0]!.at;
    s.lastPushDay = last ? Math.floor((new Date(last).getTime() - zonedTime(START, 0, TZ).getTime()) / 86_400_000) : -1;
    s.optOutsHonored = honored.size;
    s.holdsRaised = observed.holds.size;
    for (const h of observed.holds.values()) s.holdsByScope[`${h.scope}:${h.provider ?? h.domain ?? h.reason}`] = (s.holdsByScope[`${h.scope}:${h.provider ?? h.domain ?? h.reason}`] ?? 0) + 1;
    s.suppressions = observed.suppressions.size;
    s.seconds = Math.round((performance.now() - t0) / 100) / 10;
    return s;
  } finally {
    await lm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
