/**
 * What keeps a resolver that breaks half-way through a run from writing its verdicts:
 *
 * - Every batch of checks waits for a canary check (src/mx/canaries.ts) asked after the batch was
 *   observed; only when every server of the run passes are its verdicts written. So no verdict,
 *   dead or alive, rests on a server that was known to lie by the time it was written.
 * - A rate guard watches the checks as they complete: when the share of negative verdicts (dead or
 *   unknown) among the last GUARD_WINDOW checks rises far above the recent rate, new checks pause
 *   and the canaries are asked at once. If they pass (the domains are really dead), the run goes
 *   on; if not, it stops early instead of asking a broken resolver about every remaining domain.
 * - Once a canary check fails, every check of the run that is not yet written becomes `unknown`
 *   with reason `resolver_untrusted`, which never extends a domain's unknown streak (merge.ts).
 *
 * A false alarm of the guard costs one canary check (a handful of queries), so the threshold can be
 * tight; the minimum sample keeps a short run of genuinely dead domains from even costing that.
 */
import type { CanaryReport } from './canaries.ts';
import { describeFailures } from './canaries.ts';
import type { DomainCheck } from './verdict.ts';

/** Checks the rate guard looks at (its minimum sample): fewer never trip it. */
export const GUARD_WINDOW = 200;
/** The negative share assumed when earlier runs checked fewer than GUARD_WINDOW domains. */
export const PRIOR_NEGATIVE_SHARE = 0.15;

/**
 * The share of negative verdicts in the window above which the guard trips: twice the recent
 * share and at least 30 points above it, at most 95%. At the prior (15%) that is 45%: with 200
 * checks of domains 15% dead, 90 dead are 12 standard deviations away from the 30 expected.
 */
export function guardThreshold(recentShare: number | null): number {
  const b = recentShare ?? PRIOR_NEGATIVE_SHARE;
  return Math.min(0.95, Math.max(2 * b, b + 0.3));
}

export interface VerdictGateOptions {
  /** Share of negative verdicts in recent runs (recentNegativeShare), null without history. */
  recentShare: number | null;
  /** The canaries of the run's servers, asked now. */
  canaries: () => Promise<CanaryReport>;
  /** A guard trip: the window's share and the threshold it crossed. */
  onTrip?: (share: number, threshold: number) => void;
}

export interface VerdictGate {
  /** Each check as it completes (the rate guard). */
  observe(check: DomainCheck): void;
  /** Before each new check: waits while the canaries are being asked; false = stop the run. */
  admit(): boolean | Promise<boolean>;
  /** A batch to write: what may be written after a fresh canary check (converted if it failed). */
  judge(checks: readonly DomainCheck[]): Promise<DomainCheck[]>;
  /** The failed canary report, once there is one. */
  readonly failure: CanaryReport | null;
  /** How many canary checks ran, and how many of them the guard asked for. */
  readonly stats: { canaryChecks: number; guardTrips: number };
}

export function createVerdictGate(opts: VerdictGateOptions): VerdictGate {
  const threshold = guardThreshold(opts.recentShare);
  const window: boolean[] = [];
  let negatives = 0;
  let pending: Promise<boolean> | null = null;
  /** The canary check a guard trip asked for: new checks wait for it (batch checks do not pause). */
  let paused: Promise<boolean> | null = null;
  let failure: CanaryReport | null = null;
  const stats = { canaryChecks: 0, guardTrips: 0 };

  /** Asks the canaries after any check already under way; true when every server passed. */
  const ask = (): Promise<boolean> => {
    const run = (pending ?? Promise.resolve(true)).then(async (before) => {
      if (!before || failure) return false;
      const report = await opts.canaries();
      stats.canaryChecks++;
      if (report.servers.every((s) => s.status === 'trusted')) return true;
      failure = report;
      return false;
    });
    const mine = run.finally(() => {
      if (pending === mine) pending = null;
    });
    pending = mine;
    return mine;
  };

  return {
    observe(check) {
      if (failure) return;
      const negative = check.verdict !== 'deliverable';
      window.push(negative);
      if (negative) negatives++;
      if (window.length > GUARD_WINDOW && window.shift()) negatives--;
      if (window.length < GUARD_WINDOW || paused) return;
      const share = negatives / window.length;
      if (share <= threshold) return;
      stats.guardTrips++;
      opts.onTrip?.(share, threshold);
      window.length = 0;
      negatives = 0;
      const trip = ask().finally(() => {
        if (paused === trip) paused = null;
      });
      paused = trip;
    },
    admit() {
      if (failure) return false;
      return paused ? paused.then((ok) => ok && !failure) : true;
    },
    async judge(checks) {
      if (!checks.length) return [];
      if (!failure) await ask();
      return failure ? checks.map((c) => untrustedCheck(c.domain, failure!)) : [...checks];
    },
    get failure() {
      return failure;
    },
    stats,
  };
}

/** The verdict of a domain the run could not judge because its resolver failed the canaries. */
export function untrustedCheck(domain: string, report: CanaryReport): DomainCheck {
  return {
    domain,
    verdict: 'unknown',
    reason: 'resolver_untrusted',
    provider: null,
    mxHosts: [],
    mxPreferences: [],
    addresses: [],
    ttlSeconds: null,
    error: `not judged: the name server failed its canaries (${describeFailures(report).join('; ')})`,
  };
}
