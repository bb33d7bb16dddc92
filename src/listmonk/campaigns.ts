/**
 * Campaigns. Listmonk always creates a draft; scheduling is a second
 * call, PUT /api/campaigns/{id}/status {"status":"scheduled"}, allowed from draft or paused with a
 * send_at. Names are not unique, so idempotence is ours: find by exact name before creating.
 */
import { InputError } from '../errors.ts';
import type { ListmonkCore } from './core.ts';
import { ListmonkApiError } from './errors.ts';
import { createOnce } from './retry-create.ts';
import type { CampaignContentType, CampaignStatus, ListmonkCampaign, PageResults } from './types.ts';
import { atLeast } from './version.ts';

export interface CampaignInput {
  name: string;
  subject: string;
  lists: number[];
  body: string;
  /** Plain-text part. HTML-only mail is a spam signal: send one. */
  altbody?: string;
  content_type?: CampaignContentType;
  /** Defaults to Listmonk's app.from_email setting. */
  from_email?: string;
  /** Defaults to Listmonk's default campaign template. */
  template_id?: number;
  /** Must be in the future (Listmonk answers 400 otherwise). */
  send_at: Date | string;
  tags?: string[];
}

export interface EnsuredCampaign {
  campaign: ListmonkCampaign;
  /** false on a re-run that found the campaign by name. */
  created: boolean;
  /** A draft that `audit-listmonk --pause` took back from scheduled: left as it is, not scheduled again. */
  stoppedByAudit?: boolean;
}

/**
 * The tag `audit-listmonk --pause` puts on a scheduled campaign it takes back to draft. A draft is
 * otherwise what a build left after a crash between creating and scheduling, which a re-run
 * schedules; without a mark, re-running the build for that date would schedule again the very
 * campaign the audit found offending. Kept in Listmonk, beside the campaign, so the operator sees
 * why it waits, and removes the tag (or schedules it by hand) once it is safe.
 */
export const STOPPED_BY_AUDIT_TAG = 'audience-stopped';

/** Adds STOPPED_BY_AUDIT_TAG to a draft, keeping its lists, tags and send_at. */
async function markStoppedByAudit(core: ListmonkCore, c: ListmonkCampaign): Promise<void> {
  if (c.tags?.includes(STOPPED_BY_AUDIT_TAG)) return;
  const v = await core.version();
  const tags = [...(c.tags ?? []), STOPPED_BY_AUDIT_TAG];
  // PUT binds over the stored campaign but always needs `lists`; v2–v4 drop send_at without send_later.
  const keepSendAt = c.send_at ? { send_at: c.send_at, ...(atLeast(v, 5) ? {} : { send_later: true }) } : {};
  await core.http.request<ListmonkCampaign>('PUT', `/api/campaigns/${c.id}`, { json: { lists: c.lists.map((l) => l.id), tags, ...keepSendAt } });
}

function sendAtIso(core: ListmonkCore, input: CampaignInput): string {
  const at = input.send_at instanceof Date ? input.send_at : new Date(input.send_at);
  if (Number.isNaN(at.getTime())) throw new InputError(`campaign "${input.name}": send_at ${String(input.send_at)} is not a date.`);
  if (at.getTime() <= core.now().getTime())
    throw new InputError(
      `campaign "${input.name}": send_at ${at.toISOString()} is not in the future, and Listmonk only schedules future sends. Choose a later --send-hour or --date.`,
    );
  return at.toISOString();
}

/** Creates the campaign as a draft. A lost answer is resolved by looking the name up again. */
export async function createCampaign(core: ListmonkCore, input: CampaignInput): Promise<ListmonkCampaign> {
  await core.version();
  const send_at = sendAtIso(core, input);
  const body = {
    name: input.name,
    subject: input.subject,
    lists: input.lists,
    type: 'regular',
    content_type: input.content_type ?? 'html',
    body: input.body,
    ...(input.altbody !== undefined ? { altbody: input.altbody } : {}),
    ...(input.from_email ? { from_email: input.from_email } : {}),
    ...(input.template_id ? { template_id: input.template_id } : {}),
    send_at,
    tags: input.tags ?? [],
    messenger: 'email',
  };
  return createOnce(
    core,
    `campaign "${input.name}"`,
    () => findCampaignByName(core, input.name),
    async () => {
      try {
        return await core.http.request<ListmonkCampaign>('POST', '/api/campaigns', { json: body, retry: false });
      } catch (e) {
        throw withCampaignHint(e, input);
      }
    },
  );
}

function withCampaignHint(e: unknown, input: CampaignInput): unknown {
  if (!(e instanceof ListmonkApiError) || e.status !== 400) return e;
  return new ListmonkApiError({
    method: e.method,
    path: e.path,
    status: e.status,
    body: e.body,
    hint: `Campaign "${input.name}" was refused: check that send_at is in the future, the lists ${input.lists.join(', ')} exist and are visible to the API user, and the body is a valid Go template.`,
  });
}

/**
 * PUT /api/campaigns/{id}/status. Listmonk refuses (400) a transition from the wrong status; a
 * retried PUT whose first answer was lost finds the campaign already there, which is success.
 * Otherwise the error says which status the campaign has and `refusal` says what is allowed.
 */
async function setStatus(core: ListmonkCore, id: number, status: 'scheduled' | 'paused' | 'draft', refusal: (c: ListmonkCampaign) => string): Promise<ListmonkCampaign> {
  await core.version();
  try {
    return await core.http.request<ListmonkCampaign>('PUT', `/api/campaigns/${id}/status`, { json: { status } });
  } catch (e) {
    if (!(e instanceof ListmonkApiError) || e.status !== 400) throw e;
    const current = await getCampaign(core, id);
    if (current.status === status) return current;
    throw new ListmonkApiError({ method: e.method, path: e.path, status: e.status, body: e.body, hint: `Campaign ${id} is ${current.status}${refusal(current)}` });
  }
}

/** Schedules a draft (or paused) campaign. A repeated call on a scheduled campaign is a no-op. */
export function scheduleCampaign(core: ListmonkCore, id: number): Promise<ListmonkCampaign> {
  return setStatus(core, id, 'scheduled', (c) => `${c.send_at ? '' : ' without send_at'}; only drafts or paused campaigns with a send_at can be scheduled.`);
}

/** Pauses a running campaign; a paused one is returned as is. */
export function pauseCampaign(core: ListmonkCore, id: number): Promise<ListmonkCampaign> {
  return setStatus(core, id, 'paused', () => '; only a running campaign can be paused.');
}

/**
 * Takes a scheduled campaign back to draft (Listmonk's only way to stop one that has not started:
 * `paused` is refused for it on every version); a draft is returned as is. It keeps its send_at.
 */
export function unscheduleCampaign(core: ListmonkCore, id: number): Promise<ListmonkCampaign> {
  return setStatus(core, id, 'draft', () => '; only a scheduled campaign can go back to draft.');
}

export type StopAction = 'paused' | 'unscheduled' | 'not_active';

export interface StoppedCampaign {
  campaign: ListmonkCampaign;
  /** Its status when we looked. */
  from: ListmonkCampaign['status'];
  /** paused (was running), unscheduled (was scheduled, now a draft), not_active (nothing to stop). */
  action: StopAction;
}

/**
 * Stops a campaign whatever it is doing now (`audit-listmonk --pause`): running → paused,
 * scheduled → draft. The status is read first and the transition chosen from it; when Listmonk
 * refuses it (400) because the campaign moved meanwhile (its send_at came and the scheduler started
 * it), the status is read again and the right transition tried, a few times. A campaign already
 * at the target (a lost answer that was retried, or someone else) counts as stopped.
 */
export async function stopCampaign(core: ListmonkCore, id: number): Promise<StoppedCampaign> {
  let current = await getCampaign(core, id);
  const from = current.status;
  for (let attempt = 0; attempt < 3; attempt++) {
    const target = current.status === 'running' ? 'paused' : current.status === 'scheduled' ? 'draft' : null;
    if (!target) return { campaign: current, from, action: 'not_active' };
    const action: StopAction = target === 'paused' ? 'paused' : 'unscheduled';
    try {
      const done = await core.http.request<ListmonkCampaign>('PUT', `/api/campaigns/${id}/status`, { json: { status: target } });
      const stopped: ListmonkCampaign = { ...current, ...done, status: target as CampaignStatus };
      if (action === 'unscheduled') await markStoppedByAudit(core, stopped);
      return { campaign: stopped, from, action };
    } catch (e) {
      if (!(e instanceof ListmonkApiError) || e.status !== 400) throw e;
      current = await getCampaign(core, id);
      if (current.status === target) {
        if (action === 'unscheduled') await markStoppedByAudit(core, current);
        return { campaign: current, from, action };
      }
    }
  }
  throw new ListmonkApiError({
    method: 'PUT',
    path: `/api/campaigns/${id}/status`,
    status: 400,
    body: null,
    hint: `Campaign ${id} kept changing status while it was being stopped (now ${current.status}); stop it in Listmonk (Campaigns → ${current.name}).`,
  });
}

export async function getCampaign(core: ListmonkCore, id: number): Promise<ListmonkCampaign> {
  await core.version();
  return core.http.request<ListmonkCampaign>('GET', `/api/campaigns/${id}`);
}

/**
 * The campaign with exactly this name, or null. Reads every campaign without bodies, page by page:
 * `query=` goes through TO_TSQUERY (punctuation can make a 500) and `tag=` would miss a campaign
 * whose tags someone edited, so neither is trusted for idempotence. Among same-named ones a live campaign wins over a
 * cancelled one, then the newest.
 */
export async function findCampaignByName(core: ListmonkCore, name: string): Promise<ListmonkCampaign | null> {
  await core.version();
  // Newest first: a campaign created during the scan shifts rows to later pages (read twice),
  // never to earlier ones (skipped).
  const perPage = 500;
  const matches: ListmonkCampaign[] = [];
  for (let page = 1; ; page++) {
    const res = await core.http.request<PageResults<ListmonkCampaign>>('GET', '/api/campaigns', {
      query: { no_body: true, page, per_page: perPage, order_by: 'created_at', order: 'desc' },
    });
    const results = res.results ?? [];
    matches.push(...results.filter((c) => c.name === name));
    if (results.length === 0 || page * perPage >= res.total) break;
  }
  matches.sort((a, b) => Number(a.status === 'cancelled') - Number(b.status === 'cancelled') || b.id - a.id);
  return matches[0] ?? null;
}

/**
 * Idempotent create-and-schedule for one segment and date: finds the campaign by name; creates it
 * when absent; moves a draft to the requested send_at and schedules it. A campaign that is already
 * scheduled, running, paused, finished or cancelled is returned untouched: someone (a previous run
 * or a person) decided its fate.
 */
export async function ensureScheduledCampaign(core: ListmonkCore, input: CampaignInput): Promise<EnsuredCampaign> {
  const v = await core.version();
  const found = await findCampaignByName(core, input.name);
  if (!found) {
    const draft = await createCampaign(core, input);
    return { campaign: await scheduleCampaign(core, draft.id), created: true };
  }
  if (found.status !== 'draft') return { campaign: found, created: false };
  if (found.tags?.includes(STOPPED_BY_AUDIT_TAG)) return { campaign: found, created: false, stoppedByAudit: true };
  const send_at = sendAtIso(core, input);
  if (!found.send_at || new Date(found.send_at).getTime() !== new Date(send_at).getTime()) {
    // PUT binds over the stored campaign but always needs `lists`; v2–v4 also read send_later.
    await core.http.request<ListmonkCampaign>('PUT', `/api/campaigns/${found.id}`, {
      json: { lists: input.lists, send_at, ...(atLeast(v, 5) ? {} : { send_later: true }) },
    });
  }
  return { campaign: await scheduleCampaign(core, found.id), created: false };
}
