/**
 * A global hold stops the campaigns already scheduled. The scrub raises it when campaign mail goes
 * out unsigned (no DKIM): every message is then junked and the IPs burn, so nothing may go out. The
 * build refuses while it stands, but campaigns scheduled before it (by yesterday's build, or an
 * analyst's `build --date D --send-hour H` for a later day) would still send at their hour. So the
 * nightly opt-out read (sync-listmonk, after the scrub) stops our campaigns of yesterday, today and
 * later while a global hold stands: scheduled ones go back to draft, running ones are paused (the
 * same stop as `audit-listmonk --pause`, tagged so that no build schedules them again: once signing
 * is fixed and the hold is lifted, a person schedules them in Listmonk). Idempotent: a campaign
 * already stopped is left as it is.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { ExternalServiceError } from '../errors.ts';
import type { ListmonkClient } from '../listmonk/index.ts';
import { addDays } from '../warmup/calendar.ts';
import { activeHoldsAt } from './gates.ts';

export interface GlobalHoldStop {
  /** The global hold standing at the run's clock, or null (then nothing is stopped). */
  hold: { reason: string; until: string } | null;
  /** Our campaigns stopped by this run: unscheduled (back to draft) or paused. */
  stopped: { id: number; name: string; action: 'paused' | 'unscheduled' }[];
}

export async function stopCampaignsUnderGlobalHold(db: Kysely<Database>, lm: ListmonkClient, p: { today: string; now: Date }): Promise<GlobalHoldStop> {
  const hold = (await activeHoldsAt(db, p.now)).find((h) => h.scope === 'global');
  if (!hold) return { hold: null, stopped: [] };
  const report: GlobalHoldStop = { hold: { reason: hold.reason, until: new Date(hold.until).toISOString() }, stopped: [] };
  // Yesterday's too: a campaign that started late in the day may still be running.
  const campaigns = (
    await sql<{ campaign_id: number; campaign_name: string | null }>`
      select distinct campaign_id, campaign_name from build_lists
      where campaign_id is not null and send_date >= ${addDays(p.today, -1)}::date order by campaign_id`.execute(db)
  ).rows;
  for (const c of campaigns) {
    try {
      const r = await lm.stopCampaign(c.campaign_id);
      if (r.action === 'paused' || r.action === 'unscheduled') report.stopped.push({ id: c.campaign_id, name: c.campaign_name ?? r.campaign.name, action: r.action });
    } catch (e) {
      if (!(e instanceof ExternalServiceError)) throw e;
      // Appended in place: the error's class carries the exit code.
      e.message = `${e.message}\nA global hold (${hold.reason}) stands and campaign #${c.campaign_id} could not be stopped: it may send at its hour. Stop it in Listmonk now, or re-run \`audience sync-listmonk\` (\`audience audit-listmonk --pause\` stops every offending campaign).`;
      throw e;
    }
  }
  return report;
}

/** The summary line, when something was stopped or a hold stands. */
export function globalStopLine(r: GlobalHoldStop | null): string | null {
  if (!r?.hold) return null;
  const what = r.stopped.length ? `stopped ${r.stopped.length} of our campaign(s) (${r.stopped.map((c) => `#${c.id} ${c.action}`).join(', ')})` : 'none of our campaigns was left to stop';
  return `  GLOBAL HOLD (${r.hold.reason}) until ${r.hold.until}: ${what}; once signing is fixed and the hold lifted (\`audience unhold global\`), schedule them again in Listmonk`;
}
