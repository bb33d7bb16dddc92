/**
 * What a scrub run reports: its --json summary (the contract keys: command, files, linesRead,
 * newLines, skippedLines, skipped, deliveries, byClass, suppressed, holds, dkim, ownDomain, and
 * warnings, rejectsFile), also stored as the run row's counts.
 */
import type { RunHandle } from '../runs.ts';
import type { BounceClass } from './classify.ts';
import type { activeHolds } from './holds.ts';
import type { LineCounts } from './linker.ts';
import type { HoldScope } from './tables.ts';

/** `damaged`: a .gz whose first line cannot be decompressed, skipped with a warning. */
export type FileStatus = 'new' | 'appended' | 'unchanged' | 'rotated' | 'rewritten' | 'empty' | 'damaged';

export interface FileReport {
  path: string;
  status: FileStatus;
  fromOffset: number;
  toOffset: number;
  newLines: number;
}

export type ScrubSummary = {
  command: 'scrub-bounces';
  runId: number;
  files: FileReport[];
  /** Lines of the files read so far, over all runs (the checkpoints' line counts). */
  linesRead: number;
  /** Lines read by this run. */
  newLines: number;
  /** New lines not read for their content: the sum of `skipped`. */
  skippedLines: number;
  /** By reason (parse.ts SkipReason): comments, blanks, malformed lines, other programs, lines with NUL bytes, lines over 64 KiB. */
  skipped: { comment: number; blank: number; malformed: number; foreign: number; binary: number; tooLong: number };
  deliveries: { sent: number; deferred: number; bounced: number; expired: number };
  byClass: Partial<Record<BounceClass, number>>;
  /** The firm's own mail (local deliveries, config ownDomains): reported apart, never reputation. */
  ownDomain: { sent: number; deferred: number; bounced: number; expired: number };
  suppressed: { addresses: number; domains: number };
  /** Active holds; `domain` (and `mxHost`) name the subject of a domain hold, null otherwise. */
  holds: { scope: HoldScope; provider: string | null; domain: string | null; mxHost: string | null; reason: string; until: string }[];
  /** Campaign messages this run saw close, how many opendkim signed; also per stream (maillog.campaignClients). */
  dkim: { campaignMessages: number; signed: number; coverage: number | null; byStream: Record<string, { campaignMessages: number; signed: number; coverage: number | null }> };
  openMessages: number;
  /** Skipped lines, with --rejects. */
  rejectsFile?: string;
  /** What the run warned about on stderr (binary lines, damaged .gz files), for --json readers. */
  warnings: string[];
};

export function buildSummary(
  run: RunHandle,
  files: FileReport[],
  linesRead: number,
  c: LineCounts,
  byClass: Partial<Record<BounceClass, number>>,
  supp: { addresses: number; domains: number },
  holds: Awaited<ReturnType<typeof activeHolds>>,
  dkim: { campaignMessages: number; signed: number; byStream: Map<string, { campaignMessages: number; signed: number }> },
  openMessages: number,
  warnings: string[],
  rejectsFile: string | undefined,
): ScrubSummary {
  const skipped = { comment: c.comment, blank: c.blank, malformed: c.malformed, foreign: c.foreign, binary: c.binary, tooLong: c.tooLong };
  return {
    command: 'scrub-bounces',
    runId: run.id,
    files,
    linesRead,
    newLines: c.lines,
    skippedLines: Object.values(skipped).reduce((a, b) => a + b, 0),
    skipped,
    deliveries: { sent: c.sent, deferred: c.deferred, bounced: c.bounced, expired: c.expired },
    byClass,
    ownDomain: { sent: c.ownSent, deferred: c.ownDeferred, bounced: c.ownBounced, expired: c.ownExpired },
    suppressed: { addresses: supp.addresses, domains: supp.domains },
    holds: holds.map((h) => ({ scope: h.scope, provider: h.provider, domain: h.domain, mxHost: h.mx_host, reason: h.reason, until: h.until.toISOString() })),
    dkim: {
      campaignMessages: dkim.campaignMessages,
      signed: dkim.signed,
      coverage: coverage(dkim),
      byStream: Object.fromEntries([...dkim.byStream].sort(([a], [b]) => a.localeCompare(b)).map(([stream, n]) => [stream, { ...n, coverage: coverage(n) }])),
    },
    openMessages,
    ...(rejectsFile ? { rejectsFile } : {}),
    warnings,
  };
}

function coverage(n: { campaignMessages: number; signed: number }): number | null {
  return n.campaignMessages ? Math.round((n.signed / n.campaignMessages) * 10_000) / 10_000 : null;
}
