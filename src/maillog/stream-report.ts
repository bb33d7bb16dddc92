/**
 * Volume, delivery mix and DKIM coverage per stream over a span of days, for `status` and
 * `doctor`. A stream is a Listmonk instance, recognised by the client IP that injects its mail
 * (maillog.campaignClients), or `listmonk` for mail marked only by Listmonk's header. Each is
 * shown apart: a healthcare stream whose signing broke, or whose bounces climb, must not hide
 * inside the trucking stream's totals. Mail from no campaign client (cron, transactional, the
 * firm's own relays) is one more entry, `stream: null`. The firm's own domains are left out, as
 * in the delivery mix.
 *
 * Reads what the scrub stores: sent counts per day and stream (maillog_sent_counts), failures
 * (delivery_events, by the day index), and campaign messages and signatures (maillog_stream_daily).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { MaillogConfig } from './config.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** The stream of campaign mail from a client missing from campaignClients (see linker.ts). */
export const HEADER_STREAM = 'listmonk';

export interface StreamDkim {
  campaignMessages: number;
  signed: number;
  /** signed / campaignMessages; null without campaign mail. */
  ratio: number | null;
  /** Below the minimum? null when there were fewer than maillog.dkimMinMessages messages to judge. */
  ok: boolean | null;
}

export interface StreamReport {
  /** The stream's name; null for mail that no campaign client injected. */
  stream: string | null;
  /** The client IPs mapped to it in maillog.campaignClients. */
  clients: string[];
  sent: number;
  deferred: number;
  bounced: number;
  expired: number;
  byClass: Record<string, number>;
  /** null for the entry of non-campaign mail: DKIM coverage is measured on campaign mail only. */
  dkim: StreamDkim | null;
}

export type StreamPolicy = Pick<MaillogConfig, 'campaignClients' | 'dkimCoverageMin' | 'dkimMinMessages'>;

/** One entry per configured stream (even a silent one), per stream seen, and one for other mail when there was any. */
export async function streamReports(db: Executor, from: string, to: string, policy: StreamPolicy): Promise<StreamReport[]> {
  const [sent, failures, dkim] = await Promise.all([
    sql<{ stream: string | null; n: number }>`
      select nullif(stream, '') as stream, sum(sent)::bigint as n from maillog_sent_counts
      where day between ${from}::date and ${to}::date and not own_domain group by 1`.execute(db),
    sql<{ stream: string | null; status: string; class: string; n: number }>`
      select stream, status, class, count(*)::bigint as n from delivery_events
      where day between ${from}::date and ${to}::date and not own_domain group by 1, 2, 3`.execute(db),
    sql<{ stream: string; campaign: number; signed: number }>`
      select stream, sum(campaign_messages)::bigint as campaign, sum(dkim_signed)::bigint as signed from maillog_stream_daily
      where day between ${from}::date and ${to}::date group by 1`.execute(db),
  ]);

  const clients = new Map<string, string[]>();
  for (const [ip, stream] of Object.entries(policy.campaignClients)) clients.set(stream, [...(clients.get(stream) ?? []), ip]);
  const byKey = new Map<string | null, StreamReport>();
  const entry = (stream: string | null): StreamReport => {
    let r = byKey.get(stream);
    if (!r) {
      r = { stream, clients: stream === null ? [] : (clients.get(stream) ?? []), sent: 0, deferred: 0, bounced: 0, expired: 0, byClass: {}, dkim: stream === null ? null : dkimOf(0, 0, policy) };
      byKey.set(stream, r);
    }
    return r;
  };
  for (const stream of clients.keys()) entry(stream);
  for (const r of sent.rows) entry(r.stream).sent += r.n;
  for (const r of failures.rows) {
    const e = entry(r.stream);
    if (r.status === 'deferred' || r.status === 'bounced' || r.status === 'expired') e[r.status] += r.n;
    e.byClass[r.class] = (e.byClass[r.class] ?? 0) + r.n;
  }
  for (const r of dkim.rows) entry(r.stream).dkim = dkimOf(r.campaign, r.signed, policy);

  // Named streams by name, then other mail; an entry of other mail only when there was some.
  const other = byKey.get(null);
  const named = [...byKey.values()].filter((r) => r.stream !== null).sort((a, b) => a.stream!.localeCompare(b.stream!));
  return other && other.sent + other.deferred + other.bounced + other.expired > 0 ? [...named, other] : named;
}

function dkimOf(campaignMessages: number, signed: number, p: StreamPolicy): StreamDkim {
  const ratio = campaignMessages > 0 ? Math.round((signed / campaignMessages) * 10_000) / 10_000 : null;
  return { campaignMessages, signed, ratio, ok: ratio === null || campaignMessages < p.dkimMinMessages ? null : ratio >= p.dkimCoverageMin };
}

/** `trucking: 1,204 sent, 12 deferred, 3 bounced, 0 expired; DKIM 99.8% of 1,219` — one line per stream. */
export function renderStream(s: StreamReport): string {
  const name = s.stream === null ? 'other mail (no campaign client)' : `${s.stream}${s.clients.length ? ` (${s.clients.join(', ')})` : s.stream === HEADER_STREAM ? ' (X-Listmonk-Campaign header, client not mapped)' : ''}`;
  const mix = `${s.sent} sent, ${s.deferred} deferred, ${s.bounced} bounced, ${s.expired} expired`;
  if (!s.dkim) return `${name}: ${mix}`;
  const d = s.dkim;
  const dkim =
    d.ratio === null
      ? 'no campaign message closed'
      : `DKIM ${(d.ratio * 100).toFixed(1)}% of ${d.campaignMessages}${d.ok === false ? ' — BELOW MINIMUM' : d.ok === null ? ' (too few to judge)' : ''}`;
  return `${name}: ${mix}; ${dkim}`;
}
