/**
 * A doctor check and what it reports. Every entry says what it looked at (`detail`) and, when
 * something is to be done, what (`fix`): a failing check always has a fix; a passing one may have
 * one too, a recommendation that blocks nothing (status `warn`). A check that could not run
 * because one it needs failed is `skip`, with the fix "fix that one first".
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckOutcome<V = unknown> {
  ok: boolean;
  detail: string;
  fix: string | null;
  /** Facts for --json readers (versions, counts, per-server latencies). */
  data?: Record<string, unknown>;
  /** What dependent checks receive (an open store, a Listmonk client); never printed. */
  value?: V;
}

export interface CheckEntry {
  name: string;
  ok: boolean;
  status: CheckStatus;
  detail: string;
  fix: string | null;
  /** How long the check took (its own work, not the wait for the checks it needs). */
  ms: number;
  data?: Record<string, unknown>;
}

export function pass<V>(detail: string, extra: { data?: Record<string, unknown>; value?: V; fix?: string | null } = {}): CheckOutcome<V> {
  return { ok: true, detail, fix: extra.fix ?? null, ...(extra.data ? { data: extra.data } : {}), ...(extra.value !== undefined ? { value: extra.value } : {}) };
}

export function fail<V = never>(detail: string, fix: string, data?: Record<string, unknown>): CheckOutcome<V> {
  return { ok: false, detail, fix, ...(data ? { data } : {}) };
}

export function statusOf(o: Pick<CheckOutcome, 'ok' | 'fix'>): CheckStatus {
  return o.ok ? (o.fix ? 'warn' : 'pass') : 'fail';
}
