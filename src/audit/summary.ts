/** The `audit-listmonk --json` contract (the stage's own keys; runStage adds the envelope: runId, startedAt...), and its rendering for people. */
import type { StopAction } from '../listmonk/index.ts';
import type { ReasonCode } from '../rules/reason-codes.ts';
import type { OffenceReason } from './offending.ts';
import type { AuditedList } from './recipients.ts';

export interface AuditedCampaign {
  id: number;
  name: string;
  status: 'scheduled' | 'running';
  type: 'regular' | 'optin';
  sendAt: string | null;
  /** The day it sends, in the firm's time zone (today for a running one or a past send_at). */
  sendDay: string;
  /** Made by `audience build` (its campaign or one of its lists is in build_lists). */
  madeByAudience: boolean;
  segment: string | null;
  lists: (AuditedList & { recipients: number })[];
  /** Distinct subscribers Listmonk would mail (not blocklisted, subscription mailable on a list of the campaign). */
  recipients: number;
  /** What it sends on its send day (a running campaign: what is left, or all of it when it started today). */
  volume: number;
  /** Recipients whose address the census does not hold: judged on the address alone. */
  unknownToUs: number;
  /** Recipients excluded now by an offending code (offending.ts). */
  excluded: number;
  excludedBy: Partial<Record<ReasonCode, number>>;
  /** Other exclusion codes among the recipients: shown, not offending. */
  otherReasons: Partial<Record<ReasonCode, number>>;
  samples: { email: string; knownToUs: boolean; reasons: { code: ReasonCode; detail: string | null }[] }[];
  offending: boolean;
  why: OffenceReason[];
  /** With --pause: what was done to it (failed: see actionError); null when nothing was asked. */
  action: StopAction | 'failed' | null;
  actionError?: string;
}

export interface AuditDay {
  date: string;
  warmupDay: number;
  dailyCap: number;
  campaigns: number;
  campaignsVolume: number;
  /** Today only: sent already by campaigns that started today and are no longer active. */
  sentToday: number;
  total: number;
  overCap: boolean;
}

export interface AuditSummary {
  [key: string]: unknown;
  command: 'audit-listmonk';
  date: string;
  pause: boolean;
  listmonk: { version: string };
  offendingCodes: ReasonCode[];
  /** The global hold standing now (every campaign is offending while it does), or null. */
  globalHold: { reason: string; until: string; detail: string } | null;
  campaigns: AuditedCampaign[];
  days: AuditDay[];
  offending: number;
  stopped: number[];
  notStopped: number[];
  sentToday: { campaigns: number; sent: number };
  warnings: string[];
}

const counts = (m: Partial<Record<string, number>>) =>
  Object.entries(m)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

const ACTION: Record<string, string> = { paused: 'PAUSED', unscheduled: 'BACK TO DRAFT', not_active: 'already stopped', failed: 'NOT STOPPED' };

export function renderAudit(s: AuditSummary): string {
  const lines = [`Listmonk ${s.listmonk.version}: ${s.campaigns.length} campaign(s) scheduled or running, ${s.offending} offending (${s.date})`];
  if (s.globalHold) lines.push(`  GLOBAL HOLD (${s.globalHold.reason}) until ${s.globalHold.until}: ${s.globalHold.detail}; no campaign may send until signing is fixed`);
  for (const d of s.days)
    lines.push(
      `  ${d.date} (warmup day ${d.warmupDay}): ${d.total} of ${d.dailyCap}/day${d.sentToday ? ` (${d.sentToday} already sent today)` : ''} by ${d.campaigns} campaign(s)${d.overCap ? ' — OVER THE CAP' : ''}`,
    );
  for (const c of s.campaigns) {
    const head = `${c.offending ? '!' : ' '} #${c.id} "${c.name}" ${c.status}${c.sendAt ? ` at ${c.sendAt}` : ''} (${c.madeByAudience ? `audience${c.segment ? ` ${c.segment}` : ''}` : 'not made by audience'})`;
    lines.push('', head);
    lines.push(`    lists: ${c.lists.map((l) => `"${l.name}" (#${l.id}${l.missing ? ', deleted' : `, ${l.optin} opt-in, ${l.members} member(s), ${l.recipients} mailed`})`).join('; ') || 'none'}`);
    lines.push(`    ${c.recipients} recipient(s), ${c.volume} on ${c.sendDay}; ${c.unknownToUs} unknown to us; ${c.excluded} excluded${c.excluded ? ` (${counts(c.excludedBy)})` : ''}`);
    if (Object.keys(c.otherReasons).length) lines.push(`    not offending: ${counts(c.otherReasons)}`);
    for (const x of c.samples) lines.push(`      ${x.email}${x.knownToUs ? '' : ' (unknown to us)'}: ${x.reasons.map((r) => `${r.code}${r.detail ? ` — ${r.detail}` : ''}`).join('; ')}`);
    if (c.excluded > c.samples.length) lines.push(`      ... and ${c.excluded - c.samples.length} more (audience explain ADDRESS for each)`);
    if (c.offending) lines.push(`    offending: ${c.why.join(', ')}${c.action ? ` → ${ACTION[c.action]}${c.actionError ? `: ${c.actionError}` : ''}` : ''}`);
  }
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  if (s.offending && !s.pause) lines.push('', 'Nothing was changed. `audience audit-listmonk --pause` stops the offending campaigns (running → paused, scheduled → draft).');
  return lines.join('\n');
}
