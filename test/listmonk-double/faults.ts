/**
 * Fault injection for the double: latency, 5xx for the next N requests or a fraction of them,
 * hung requests (never answered, so the client times out), lost answers (handled, then the
 * connection dropped) and a crash point (the connection is
 * dropped after the K-th committed subscriber write, and every later request fails until
 * `recover()`, like a server that died after committing).
 */
import { mulberry32 } from '../helpers/prng.ts';
export interface FaultMatch {
  /** Only requests whose `METHOD /path` matches. */
  route?: RegExp;
  /** Serve this many matching requests normally first (a failure half way through a paged read). */
  after?: number;
}

export class Faults {
  latencyMs = 0;
  private failQueue: { remaining: number; status: number; match: FaultMatch }[] = [];
  private fraction: { p: number; status: number; match: FaultMatch; rand: () => number } | null = null;
  private hangQueue: { remaining: number; match: FaultMatch }[] = [];
  private dropQueue: { remaining: number; match: FaultMatch }[] = [];
  private crashAt: number | null = null;
  crashed = false;
  subscriberWrites = 0;

  failNext(n: number, status = 500, match: FaultMatch = {}): void {
    this.failQueue.push({ remaining: n, status, match: { ...match } });
  }

  /** Deterministic when a seed is given (mulberry32), so flaky-looking tests stay reproducible. */
  failFraction(p: number, status = 500, match: FaultMatch = {}, seed = 1): void {
    const rand = mulberry32(seed);
    this.fraction = p > 0 ? { p, status, match, rand } : null;
  }

  hangNext(n: number, match: FaultMatch = {}): void {
    this.hangQueue.push({ remaining: n, match });
  }

  /** Handle (and commit) the next N matching requests, then drop the connection: a lost answer. */
  dropAfterHandlingNext(n: number, match: FaultMatch = {}): void {
    this.dropQueue.push({ remaining: n, match });
  }

  /** After a successful handler: true when this answer must be lost. */
  dropAfter(routeKey: string): boolean {
    const d = this.dropQueue.find((q) => q.remaining > 0 && (!q.match.route || q.match.route.test(routeKey)));
    if (!d) return false;
    d.remaining--;
    return true;
  }

  crashAfterSubscriberWrites(k: number): void {
    this.crashAt = this.subscriberWrites + k;
  }

  recover(): void {
    this.crashed = false;
    this.crashAt = null;
  }

  clear(): void {
    this.latencyMs = 0;
    this.failQueue = [];
    this.fraction = null;
    this.hangQueue = [];
    this.dropQueue = [];
    this.recover();
  }

  /** Before routing: 'hang', a status to fail with, or null to serve normally. */
  decide(routeKey: string): 'hang' | number | null {
    const hit = (m: FaultMatch) => !m.route || m.route.test(routeKey);
    const hang = this.hangQueue.find((h) => h.remaining > 0 && hit(h.match));
    if (hang) {
      hang.remaining--;
      return 'hang';
    }
    const fail = this.failQueue.find((f) => f.remaining > 0 && hit(f.match));
    if (fail && fail.match.after) {
      fail.match.after--;
    } else if (fail) {
      fail.remaining--;
      return fail.status;
    }
    if (this.fraction && hit(this.fraction.match) && this.fraction.rand() < this.fraction.p) return this.fraction.status;
    return null;
  }

  /** After a committed subscriber write: true when the double must crash now. */
  wrote(): boolean {
    this.subscriberWrites++;
    if (this.crashAt !== null && this.subscriberWrites >= this.crashAt) {
      this.crashed = true;
      this.crashAt = null;
      return true;
    }
    return false;
  }
}
