/**
 * The run summary of `check-mx`, the --json contract:
 *   { command, run_id, checked, verdicts: {deliverable, dead, unknown, unresolvable}, byProvider, keptNewer,
 *     domains?: [{domain, verdict, reason, provider, mx, error}] (with --domain/--domains),
 *     dnsServers?, queries?, canaries? (DNS runs),
 *     imported?, rejected?, rejects?: [{line, reason}], kept?: [{line, domain, verdict, checkedAt, kept}] (--import),
 *     exported? (--export), seconds }
 * `verdicts` and `byProvider` count what the run wrote; `keptNewer` the observations or lines not
 * written because the stored verdict wins (src/mx/precedence.ts).
 */
import type { ServerCanaries } from './canaries.ts';
import type { ImportReject, KeptLine } from './import.ts';
import type { StoredVerdict } from './merge.ts';
import type { MxVerdict } from './tables.ts';

export interface DomainVerdictOut {
  domain: string;
  verdict: MxVerdict;
  reason: string;
  provider: string | null;
  mx: string[];
  error: string | null;
}

export interface CanarySummary {
  /** False when a server failed its canaries (the run then exits 1). */
  trusted: boolean;
  /** Canary checks asked during the run: one before, one per written batch, one per guard trip. */
  checks: number;
  guardTrips: number;
  /** Domains marked unknown (resolver_untrusted) instead of being judged. */
  notJudged: number;
  /** Each server's probes: from the failed check when one failed, else from the first. */
  servers: ServerCanaries[];
}

export type MxCheckSummary = {
  command: 'check-mx';
  run_id: number;
  checked: number;
  verdicts: Record<MxVerdict, number>;
  byProvider: Record<string, number>;
  keptNewer: number;
  domains?: DomainVerdictOut[];
  imported?: number;
  rejected?: number;
  rejects?: ImportReject[];
  kept?: KeptLine[];
  exported?: number;
  dnsServers?: string[];
  queries?: { sent: number; retries: number; timeouts: number; tcpFallbacks: number };
  canaries?: CanarySummary;
  seconds: number;
};

export type Tally = Pick<MxCheckSummary, 'verdicts' | 'byProvider'>;

export function tally(rows: readonly Pick<StoredVerdict, 'verdict' | 'provider'>[], into?: Tally): Tally {
  const t = into ?? { verdicts: { deliverable: 0, dead: 0, unknown: 0, unresolvable: 0 }, byProvider: {} };
  for (const r of rows) {
    t.verdicts[r.verdict]++;
    if (r.provider) t.byProvider[r.provider] = (t.byProvider[r.provider] ?? 0) + 1;
  }
  return t;
}
