/**
 * What the bounce scrub learned, judged: `dkim` (coverage of campaign mail over 7 days, in total
 * and per stream, and how old that knowledge is), `holds` (a global hold stops every build; a
 * provider hold leaves that provider out) and `streams` (each stream's volume and delivery mix,
 * and whether campaign mail can be told apart at all).
 */
import { recentDelivery } from '../maillog/views.ts';
import { activeHoldsAt } from '../push/gates.ts';
import { holdSubjectText } from '../maillog/holds.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Store } from '../db/store.ts';
import { HEADER_STREAM, renderStream, streamReports } from '../maillog/stream-report.ts';
import { lastRuns } from '../runs.ts';
import { addDays } from '../warmup/calendar.ts';
import { fail, pass, type CheckOutcome } from './check.ts';
import type { DoctorContext } from './context.ts';
import { need, type CheckSpec } from './run-checks.ts';

const SLOW_DB = 'the database did not answer in time: check its load (a long ingest or build holds it), then run doctor again.';
/** The scrub runs nightly; older than this, its figures describe another day. */
const SCRUB_STALE_HOURS = 36;

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

/** A check that reads the database the `database` check opened and found migrated. */
function onDatabase(name: string, judge: (db: Kysely<Database>) => Promise<CheckOutcome>): CheckSpec {
  return { name, needs: ['database'], timeoutFix: SLOW_DB, run: (deps) => judge(need<Store>(deps, 'database').db) };
}

export function dkimCheck(ctx: DoctorContext): CheckSpec {
  return onDatabase('dkim', async (db) => {
    const m = ctx.config.maillog;
    const from = addDays(ctx.today, -6);
    const [{ dkim }, streams, runs] = await Promise.all([recentDelivery(db, ctx.today, m.dkimCoverageMin), streamReports(db, from, ctx.today, m), lastRuns(db)]);
    const scrub = runs.find((r) => r.stage === 'scrub-bounces');
    const scrubAgeH = scrub ? (ctx.now.getTime() - (scrub.finished_at ?? scrub.started_at).getTime()) / 3_600_000 : null;
    const low = streams.filter((s) => s.dkim?.ok === false);
    const data = {
      from,
      to: ctx.today,
      minimum: m.dkimCoverageMin,
      campaignMessages: dkim.campaignMessages,
      signed: dkim.signed,
      ratio: dkim.ratio,
      byStream: Object.fromEntries(streams.filter((s) => s.dkim).map((s) => [s.stream, s.dkim])),
      lastScrub: scrub ? { status: scrub.status, at: (scrub.finished_at ?? scrub.started_at).toISOString() } : null,
    };
    const total = dkim.ratio === null ? 'no campaign mail seen' : `${pct(dkim.ratio)} of ${dkim.campaignMessages} campaign messages signed`;
    const perStream = streams.filter((s) => s.dkim && s.dkim.ratio !== null).map((s) => `${s.stream} ${pct(s.dkim!.ratio!)} of ${s.dkim!.campaignMessages}`);
    const detail = `DKIM ${from}..${ctx.today}: ${total}${perStream.length ? ` (${perStream.join(', ')})` : ''}; minimum ${pct(m.dkimCoverageMin)}.`;
    if (dkim.ok === false || low.length)
      return fail(
        `${detail} Below the minimum: ${dkim.ok === false ? 'all campaign mail' : ''}${dkim.ok === false && low.length ? '; ' : ''}${low.map((s) => `stream ${s.stream}${s.clients.length ? ` (${s.clients.join(', ')})` : ''}`).join(', ')}.`,
        "unsigned campaign mail is junked: make opendkim sign mail from these clients (InternalHosts / SigningTable must list each Listmonk client IP), send a test campaign, run `audience scrub-bounces`, then check again. A global hold (see `holds`) stops the build until coverage is back or it is lifted with `audience unhold global --reason ...`.",
        data,
      );
    if (!scrub)
      return pass(`${detail} The bounce scrub never ran: nothing is known yet.`, { data, fix: 'run `audience scrub-bounces` (the nightly timer of deploy/ runs it before check-mx).' });
    if (scrub.status !== 'ok' && scrub.status !== 'running')
      return pass(`${detail} The last scrub ended ${scrub.status}${scrub.error ? `: ${scrub.error.split('\n')[0]}` : ''}.`, {
        data,
        fix: 'do what its error says, then run `audience scrub-bounces` again (it resumes from its checkpoints).',
      });
    if (scrubAgeH !== null && scrubAgeH > SCRUB_STALE_HOURS)
      return pass(`${detail} The last scrub (${scrub.status}) ran ${Math.round(scrubAgeH)} h ago: these figures may be out of date.`, {
        data,
        fix: 'run `audience scrub-bounces`, and check that the nightly timer runs (`systemctl list-timers audience-*`, or the crontab).',
      });
    return pass(detail, { data });
  });
}

export function holdsCheck(ctx: DoctorContext): CheckSpec {
  return onDatabase('holds', async (db) => {
    const holds = await activeHoldsAt(db, ctx.now);
    const data = {
      holds: holds.map((h) => ({ scope: h.scope, provider: h.provider, domain: h.domain, mxHost: h.mx_host, reason: h.reason, until: h.until.toISOString(), detail: h.detail })),
    };
    if (!holds.length) return pass('no hold in force.', { data });
    const global = holds.filter((h) => h.scope === 'global');
    const others = holds.filter((h) => h.scope !== 'global');
    const line = (h: (typeof holds)[number]) => `${h.scope === 'global' ? 'GLOBAL' : holdSubjectText(h)} (${h.reason}) until ${h.until.toISOString()}: ${h.detail}`;
    if (global.length)
      return fail(
        `global hold in force, build refuses to push: ${global.map(line).join('; ')}${others.length ? `; other holds: ${others.map(line).join('; ')}` : ''}.`,
        'fix what raised it (for dkim_coverage: opendkim signing of the Listmonk clients), run `audience scrub-bounces` to measure again, then `audience unhold global --reason "..."`, or wait for it to end.',
        data,
      );
    // What `unhold` takes for the first one: a provider's name, or a held domain.
    const first = others[0]!;
    const subject = first.scope === 'domain' ? first.domain : first.provider;
    return pass(`hold(s) in force, their addresses are left out of builds: ${others.map(line).join('; ')}.`, {
      data,
      fix: `nothing to do unless the receiver accepts mail again before then: \`audience unhold ${subject} --reason "..."\` lifts one early (history kept).`,
    });
  });
}

export function streamsCheck(ctx: DoctorContext): CheckSpec {
  return onDatabase('streams', async (db) => {
    const m = ctx.config.maillog;
    const from = addDays(ctx.today, -6);
    const streams = await streamReports(db, from, ctx.today, m);
    const data = { from, to: ctx.today, streams };
    const detail = streams.length ? `${from}..${ctx.today}: ${streams.map(renderStream).join('; ')}.` : `${from}..${ctx.today}: no mail seen.`;
    const mapped = Object.keys(m.campaignClients).length > 0;
    const unmapped = streams.find((s) => s.stream === HEADER_STREAM && !s.clients.length && (s.dkim?.campaignMessages ?? 0) > 0);
    const silent = streams.filter((s) => s.stream !== null && s.clients.length && s.sent + s.deferred + s.bounced + s.expired === 0 && !s.dkim?.campaignMessages);
    const campaign = streams.some((s) => s.stream !== null && ((s.dkim?.campaignMessages ?? 0) > 0 || s.sent > 0));
    const other = streams.find((s) => s.stream === null);
    if (mapped && unmapped && silent.length)
      return pass(detail, {
        data,
        fix: `campaign mail arrives from a client missing from maillog.campaignClients while ${silent.map((s) => `${s.stream} (${s.clients.join(', ')})`).join(', ')} sent nothing: did a Listmonk container get a new IP? Map its current address (\`docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' CONTAINER\`).`,
      });
    if (!mapped && campaign)
      return pass(detail, { data, fix: 'name the streams: map each Listmonk client IP to a stream in maillog.campaignClients (e.g. {"172.18.0.5": "trucking"}) to see each one apart.' });
    if (!campaign && other && other.sent + other.deferred + other.bounced + other.expired > 0)
      return pass(detail, {
        data,
        fix: "no campaign mail recognised in 7 days: if Listmonk sends through this Postfix, map its client IP in maillog.campaignClients (or log its X-Listmonk-Campaign header with a cleanup header_checks INFO rule), or DKIM coverage cannot be measured.",
      });
    return pass(detail, { data });
  });
}
