/**
 * The `build` stage: segment selection → eligibility → warmup cap → Listmonk lists (and campaigns).
 * Gates first, in prepare (warmup start, global hold, Listmonk configured: a refusal writes no run),
 * then, in the run, the cap decision in one locked transaction (reserve.ts), the push from the
 * ledger, campaigns, blocklist sync, --out files and the summary. Safe to re-run, to crash, and to
 * start twice at once.
 */
import { z } from 'zod';
import type { StageContext } from '../context.ts';
import { assertNoGlobalHold, capReached } from './gates.ts';
import { campaignContent, scheduleSegmentCampaign, sendAtFor } from './campaign.ts';
import { syncBlocklist } from './blocklist-sync.ts';
import { checkOut, writeOut } from './export.ts';
import { eligibility } from './eligibility.ts';
import { exportRows, ledgerCounts, listRecords, noLedgerCounts, saveCampaign } from './ledger.ts';
import { listName } from './names.ts';
import { pushReserved } from './push.ts';
import { settlePastReservations } from './release.ts';
import { rejudgeReserved } from './rejudge.ts';
import { withdrawExcluded } from './withdraw.ts';
import { reserve, type ReserveResult } from './reserve.ts';
import { renderBuild, type BuildSummary, type SegmentSummary } from './summary.ts';
import { createListmonkClient, ListmonkAuthError, slidingWindowWarning, type ListmonkClient } from '../listmonk/index.ts';
import { RULES } from '../rules/index.ts';
import type { ExclusionRule } from '../rules/rule.ts';
import { activeOptOutCount } from '../optouts/record.ts';
import { syncOptOuts, type OptOutSyncReport } from '../optouts/sync.ts';
import type { RunHandle } from '../runs.ts';
import { runStage, type Envelope, type Stage } from '../stage.ts';
import { selectSegments } from '../segments/index.ts';
import { localDate, parseIsoDate } from '../warmup/calendar.ts';
import { dayCap } from '../warmup/ramp.ts';
import { resolveWarmupStart } from '../warmup/start.ts';

export interface BuildOptions {
  onlySegments?: string[];
  maxPerSegment?: number | null;
  date?: string;
  sendHour?: number | null;
  dryRun?: boolean;
  outDir?: string | null;
  /** --force: the --out files may replace regular files that exist. */
  force?: boolean;
  /** Tests and the benchmark inject a client; the CLI builds one from config.listmonk. */
  listmonk?: ListmonkClient;
  /** Tests may narrow the rules; the product always runs the full registry. */
  rules?: readonly ExclusionRule[];
  cwd?: string;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

interface PreparedBuild {
  opts: BuildOptions;
  now: Date;
  date: string;
  dryRun: boolean;
  segments: ReturnType<typeof selectSegments>;
  maxPerSegment: number | null;
  cap: ReturnType<typeof dayCap>;
  sendAt: ReturnType<typeof sendAtFor> | null;
  /** The client that pushes; null in a dry run. */
  lm: ListmonkClient | null;
  /** The client that reads opt-outs: the pushing one, or a dry run's when Listmonk is configured. */
  reader: ListmonkClient | null;
}

const buildOptions = z.object({
  onlySegments: z.array(z.string()).optional(),
  maxPerSegment: z.number().int().positive().nullable().optional(),
  date: z.string().optional(),
  sendHour: z.number().int().min(0).max(23).nullable().optional(),
  dryRun: z.boolean().optional(),
  outDir: z.string().nullable().optional(),
  force: z.boolean().optional(),
  listmonk: z.custom<ListmonkClient>((v) => v === undefined || typeof v === 'object').optional(),
  rules: z.custom<readonly ExclusionRule[]>((v) => v === undefined || Array.isArray(v)).optional(),
  cwd: z.string().optional(),
});

export type BuildEnvelope = Envelope<BuildSummary>;

export const buildStage: Stage<BuildOptions, BuildSummary, PreparedBuild> = {
  name: 'build',
  options: buildOptions as z.ZodType<BuildOptions>,
  // Readers and the push refuse pending migrations (exit 3): `audience migrate` first.
  migrations: 'require',
  ledger: true,
  prepare: prepareBuild,
  args: (p) => ({ date: p.date, onlySegments: p.opts.onlySegments ?? null, maxPerSegment: p.maxPerSegment, sendHour: p.opts.sendHour ?? null, dryRun: p.dryRun, outDir: p.opts.outDir ?? null }),
  run: (ctx, run, p) => runBuild(ctx, run!, p),
  render: (s) => renderBuild(s as BuildSummary),
};

/** Builds the date's segments as one `build` run (what `audience build` runs). */
export function segmentBuild(ctx: StageContext, opts: BuildOptions = {}): Promise<BuildEnvelope> {
  return runStage(ctx, buildStage, opts);
}

/** The gates, before any lock or write: each refusal says how to clear it. */
async function prepareBuild(ctx: StageContext, opts: BuildOptions): Promise<PreparedBuild> {
  const { config, store, out } = ctx;
  const now = ctx.now();
  const tz = config.timezone;
  const date = opts.date ?? localDate(now, tz);
  parseIsoDate(date);
  const dryRun = Boolean(opts.dryRun);
  const segments = selectSegments(opts.onlySegments);
  const maxPerSegment = opts.maxPerSegment ?? null;
  if (opts.outDir) checkOut(opts.outDir, date, segments.map((s) => s.name), Boolean(opts.force));

  const start = resolveWarmupStart(config.warmup.start, tz);
  const cap = dayCap(config.warmup, start, date);
  await assertNoGlobalHold(store.db, now);
  const sendAt = opts.sendHour === undefined || opts.sendHour === null ? null : sendAtFor(date, opts.sendHour, tz, now);
  const lm = dryRun ? null : (opts.listmonk ?? createListmonkClient(config.listmonk, { log: (l) => out.debug(l), now: ctx.now }));
  // A dry run reads opt-outs too when it can, so its picks are the ones a real build would make.
  const configured = Boolean(config.listmonk.url && config.listmonk.apiUser && config.listmonk.apiToken);
  const reader = lm ?? opts.listmonk ?? (configured ? createListmonkClient(config.listmonk, { log: (l) => out.debug(l), now: ctx.now }) : null);

  return { opts, now, date, dryRun, segments, maxPerSegment, cap, sendAt, lm, reader };
}

async function runBuild(ctx: StageContext, run: RunHandle, p: PreparedBuild): Promise<BuildSummary> {
  const { config, store, out } = ctx;
  const { opts, now, date, dryRun, segments, maxPerSegment, cap, sendAt, lm, reader } = p;
  const tz = config.timezone;
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    out.warn(m);
  };
  // Opt-outs first: a recipient who unsubscribed since the last build is not selected by this one.
  let optOuts: OptOutSyncReport | null = null;
  if (reader) {
    const { listPrefix, optOutScope } = config.listmonk;
    optOuts = await syncOptOuts(store.db, reader, { listPrefix, optOutScope }, { runId: run.id, now });
  } else
    warn(
      `Listmonk is not configured (LISTMONK_URL, LISTMONK_API_USER, LISTMONK_API_TOKEN): opt-outs were not read from it; the picks honour the ${await activeOptOutCount(store.db)} opt-out(s) recorded before.`,
    );
  // The lists already filled lose whom the rules exclude now (withdraw.ts); a dry run writes nowhere.
  const withdrawn = lm ? await withdrawExcluded(store.db, lm, { config, today: localDate(now, tz), runId: run.id, now }) : null;
  if (lm) {
    try {
      const w = slidingWindowWarning(await lm.readSettings(), cap.hourly);
      if (w) warn(w);
    } catch (e) {
      // Wrong credentials stop the build here (exit 2); only a missing settings:get permission is worth a warning.
      if (e instanceof ListmonkAuthError) throw e;
      warn(`could not read Listmonk's settings to check the sliding window (${(e as Error).message.split('\n')[0]}); grant the API user settings:get to get this check.`);
    }
  }

  // Reservations of dates already past that never reached Listmonk stop counting before this
  // selection (release.ts); the ones that did are recorded as pushed.
  const past = await settlePastReservations(store.db, reader, { today: localDate(now, tz), runId: run.id, now });
  for (const w of past.warnings) warn(w);

  // Reservations an earlier run left for this date (a failed push) are judged again before this
  // selection: one excluded now is released if it was never sent (its room goes to the picks
  // below) or withheld from the push if it may have been (rejudge.ts). A dry run pushes nothing.
  let rejudged: BuildSummary['rejudged'] = null;
  let withhold: ReadonlySet<number> = new Set();
  if (lm) {
    const j = await rejudgeReserved(store.db, { date, runId: run.id, now, rules: opts.rules ?? RULES, ruleCtx: { config, date, now } });
    rejudged = { judged: j.judged, released: j.released, withheld: j.withheld.length, byRule: j.byRule };
    withhold = new Set(j.withheld);
    const why = Object.entries(j.byRule).map(([k, v]) => `${k} ${v}`).join(', ');
    if (j.released) warn(`${j.released} address(es) reserved for ${date} by an earlier run are excluded now (${why}) and were released: no run had sent them to Listmonk, so they are not pushed.`);
    if (j.withheld.length)
      warn(
        `${j.withheld.length} address(es) reserved for ${date} by an earlier run whose push may have reached Listmonk are excluded now (${why}): not pushed, still counted against the cap. If Listmonk has them on the list, its campaign would mail them: check with \`audience audit-listmonk\` and pause it with --pause.`,
      );
  }

  const names = segments.map((s) => s.name);
  let picks: Awaited<ReturnType<typeof exportRows>> = [];
  const t0 = performance.now();
  const r: ReserveResult = await store.db.transaction().execute(async (trx) => {
    const res = await reserve(trx, {
      date,
      cap: cap.daily,
      runId: run.id,
      segments,
      maxPerSegment,
      providerTiers: config.build.providerTiers,
      dryRun,
      rules: opts.rules ?? RULES,
      ruleCtx: { config, date, now },
    });
    if (dryRun && opts.outDir) picks = await exportRows(trx, date, names, true);
    return res;
  });
  const selectSeconds = (performance.now() - t0) / 1000;
  // The reservation lock is held from its grant to the commit.
  const lockSeconds = (performance.now() - r.lockedAt) / 1000;
  const pending = Object.values(r.before).reduce((n, c) => n + c.reserved, 0);
  // A full date still gets its campaigns: the scheduled `build --send-hour` after an analyst
  // filled the date ahead of time must schedule them, or its lists are never sent while everyone
  // on them counts as contacted for the cooldown.
  const capFull = r.used >= cap.daily && pending === 0;
  if (capFull && (!sendAt || !lm)) throw capReached(date, r.used, cap.daily, cap.warmupDay);
  if (capFull) warn(`${capReached(date, r.used, cap.daily, cap.warmupDay).message.split('. ')[0]}: no new address was selected; campaigns are scheduled for the lists already filled.`);
  const t2 = performance.now();
  const full = await eligibility(store.db, config, segments, opts.rules ?? RULES, date, now);
  const countSeconds = (performance.now() - t2) / 1000;
  out.info(
    `${date}: warmup day ${cap.warmupDay}, cap ${cap.daily}, ${r.used} already reserved/pushed; ${full.candidates} candidate address(es), ` +
      `${Object.values(r.picked).reduce((a, b) => a + b, 0)} ${dryRun ? 'would be' : 'newly'} reserved`,
  );

  let failed = 0;
  let blocklisted = 0;
  let pushSeconds = 0;
  const campaigns: Record<string, { id: number; sendAt: string }> = {};
  if (lm) {
    const bar = out.progress('push', 0);
    const t1 = performance.now();
    try {
      const report = await pushReserved(store.db, lm, { date, runId: run.id, listPrefix: config.listmonk.listPrefix, batchSize: config.build.ledgerBatch, now, withhold }, (d, t) => bar.update(d, t));
      failed = report.failed;
      pushSeconds = (performance.now() - t1) / 1000;
    } finally {
      bar.stop();
    }
    const counts = await ledgerCounts(store.db, date);
    const lists = await listRecords(store.db, date);
    if (sendAt) {
      for (const seg of names) {
        const list = lists.find((l) => l.segment === seg);
        if (!list || !(counts[seg]?.pushed ?? 0)) continue;
        const template = config.build.campaigns[seg];
        if (!template) {
          warn(`no campaign template for segment ${seg} (build.campaigns.${seg} in audience.config.json): list "${list.list_name}" was filled, but no campaign scheduled.`);
          continue;
        }
        const content = campaignContent(template, config.listmonk, opts.cwd ?? process.cwd());
        const c = await scheduleSegmentCampaign(lm, list.list_name, list.list_id, content, sendAt, [config.listmonk.listPrefix, seg, date].filter(Boolean), tz);
        await saveCampaign(store.db, date, seg, c.id, list.list_name, new Date(c.sendAt));
        campaigns[seg] = c;
      }
    }
    blocklisted = await syncBlocklist(store.db, lm, run.id, now);
  }

  const after = dryRun ? r.before : await ledgerCounts(store.db, date);
  const lists = await listRecords(store.db, date);
  const segSummaries: SegmentSummary[] = names.map((name) => {
    const c = after[name] ?? noLedgerCounts();
    const rec = lists.find((l) => l.segment === name);
    const camp = campaigns[name] ?? (rec?.campaign_id && rec.campaign_send_at ? { id: rec.campaign_id, sendAt: rec.campaign_send_at.toISOString() } : null);
    return {
      name,
      eligible: full.eligible[name] ?? 0,
      selected: c.reserved + c.pushed + (dryRun ? (r.picked[name] ?? 0) : 0),
      pushed: c.pushed,
      list: rec ? { id: rec.list_id, name: rec.list_name } : dryRun ? { id: null, name: listName(config.listmonk.listPrefix, name, date) } : null,
      campaign: camp,
    };
  });
  const summary: BuildSummary = {
    command: 'build',
    date,
    warmupDay: cap.warmupDay,
    dailyCap: cap.daily,
    hourlyCap: cap.hourly,
    alreadyPushed: r.used,
    dryRun,
    segments: segSummaries,
    excluded: full.excluded,
    failed,
    blocklisted,
    optOuts,
    withdrawn,
    pastReservations: past.report,
    rejudged,
    warnings,
    out: null,
    runId: run.id,
    timings: { select: round3(selectSeconds), lock: round3(lockSeconds), count: round3(countSeconds), push: round3(pushSeconds) },
  };
  if (opts.outDir) {
    const rows = dryRun ? picks : await exportRows(store.db, date, names, false);
    summary.out = await writeOut(opts.outDir, date, names, rows, run.id, summary, opts.force);
  }
  return summary;
}
