/**
 * Campaigns for `build --send-hour H`: per segment with a configured template, one campaign for
 * the day's list, scheduled at H:00 on the send date in the firm's time zone. The plain-text part
 * comes from the template's text file, or is derived from the HTML (the firm's campaigns were
 * HTML-only, which spam filters hold against them).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { convert } from 'html-to-text';
import { ConfigError, UsageError } from '../errors.ts';
import type { ListmonkClient } from '../listmonk/index.ts';
import type { ListmonkConfig } from '../listmonk/config.ts';
import { formatZoned, zonedTime } from '../warmup/calendar.ts';
import type { CampaignTemplate } from './config.ts';

export interface CampaignContent {
  subject: string;
  body: string;
  altbody: string;
  fromEmail?: string;
  templateId?: number;
}

export function htmlToPlainText(html: string): string {
  return convert(html, {
    wordwrap: 78,
    selectors: [
      { selector: 'img', format: 'skip' },
      // Keep Listmonk template tags in links readable: "Unsubscribe [{{ UnsubscribeURL }}]".
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ],
  }).trim();
}

function readTemplateFile(file: string, cwd: string, what: string): string {
  const p = path.resolve(cwd, file);
  try {
    return readFileSync(p, 'utf8');
  } catch (e) {
    throw new ConfigError(`campaign ${what} ${p} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Fix build.campaigns in audience.config.json.`);
  }
}

/** Reads and prepares a segment's campaign content; files resolve against `cwd`. */
export function campaignContent(t: CampaignTemplate, lm: ListmonkConfig, cwd: string): CampaignContent {
  const body = readTemplateFile(t.htmlFile, cwd, 'HTML file');
  const altbody = t.textFile ? readTemplateFile(t.textFile, cwd, 'text file') : htmlToPlainText(body);
  const fromEmail = t.fromEmail ?? lm.fromEmail;
  const templateId = t.templateId ?? lm.templateId;
  return { subject: t.subject, body, altbody, ...(fromEmail ? { fromEmail } : {}), ...(templateId ? { templateId } : {}) };
}

/** The send instant of --send-hour on the date; refuses a time already past (Listmonk would too). */
export function sendAtFor(date: string, hour: number, tz: string, now: Date): Date {
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new UsageError(`--send-hour must be a whole hour 0–23, got ${hour}`);
  const at = zonedTime(date, hour, tz);
  if (at.getTime() <= now.getTime())
    throw new UsageError(`--send-hour ${hour} on ${date} (${formatZoned(at, tz)}) has already passed; pick a later hour or a later --date.`);
  return at;
}

export interface ScheduledCampaign {
  id: number;
  sendAt: string;
  /** Left a draft: `audit-listmonk --pause` stopped it, and only a person schedules it again. */
  stoppedByAudit?: boolean;
}

export async function scheduleSegmentCampaign(lm: ListmonkClient, name: string, listId: number, content: CampaignContent, sendAt: Date, tags: string[], tz: string): Promise<ScheduledCampaign> {
  const { campaign, stoppedByAudit } = await lm.ensureScheduledCampaign({
    name,
    subject: content.subject,
    lists: [listId],
    body: content.body,
    altbody: content.altbody,
    content_type: 'html',
    send_at: sendAt,
    tags,
    ...(content.fromEmail ? { from_email: content.fromEmail } : {}),
    ...(content.templateId ? { template_id: content.templateId } : {}),
  });
  const at = campaign.send_at ? new Date(campaign.send_at) : sendAt;
  return { id: campaign.id, sendAt: formatZoned(at, tz), ...(stoppedByAudit ? { stoppedByAudit } : {}) };
}
