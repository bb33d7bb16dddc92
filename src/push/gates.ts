/**
 * Safety gates of the build: each refuses the whole run (exit 3) with what to do, before anything
 * is reserved or pushed. Provider and domain holds are not gates: the provider_hold rule removes
 * only the held addresses. buildGates() answers them all without throwing, for the report's header.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { AudienceError, SafetyGateError } from '../errors.ts';
import { listmonkNotConfigured } from '../listmonk/client.ts';
import type { HoldScope } from '../maillog/tables.ts';
import { dayCap, type DayCap } from '../warmup/ramp.ts';
import { resolveWarmupStart } from '../warmup/start.ts';
import { ledgerCounts, usedOf } from './ledger.ts';

type Executor = Kysely<Database> | Transaction<Database>;

export interface ActiveHold {
  scope: HoldScope;
  provider: string | null;
  /** scope 'domain': the held receiving domain and its mail server (src/maillog/holds.ts). */
  domain: string | null;
  mx_host: string | null;
  reason: string;
  detail: string;
  starts_at: Date;
  until: Date;
}

/** Holds active at `now` (the holds contract: lifted_at is null and until > now), newest first. */
export async function activeHoldsAt(db: Executor, now: Date): Promise<ActiveHold[]> {
  const r = await sql<ActiveHold>`
    select scope, provider, domain, mx_host, reason, detail, starts_at, until from holds
    where lifted_at is null and until > ${now}::timestamptz
    order by scope, starts_at desc`.execute(db);
  return r.rows;
}

/** A global hold (unsigned campaign mail: DKIM coverage below the minimum) stops every push. */
export async function assertNoGlobalHold(db: Executor, now: Date): Promise<void> {
  const refusal = globalHoldRefusal(await activeHoldsAt(db, now));
  if (refusal) throw refusal;
}

/** The refusal of the global-hold gate given the active holds, or null when none is global. */
export function globalHoldRefusal(holds: readonly ActiveHold[]): SafetyGateError | null {
  const global = holds.filter((h) => h.scope === 'global');
  if (!global.length) return null;
  const lines = global.map((h) => `${h.reason} since ${h.starts_at.toISOString()} until ${h.until.toISOString()}: ${h.detail}`);
  return new SafetyGateError(
    'global_hold',
    `refusing to push: a global hold is active (${lines.join('; ')}). Campaign mail that is not DKIM-signed is junked by every provider: fix opendkim signing for the Listmonk clients, send a test campaign, run \`audience scrub-bounces\` to measure coverage again, then \`audience unhold global --reason "..."\` (or wait for the hold to end) before building.`,
  );
}

export function capReached(date: string, used: number, cap: number, warmupDay: number): SafetyGateError {
  return new SafetyGateError(
    'cap',
    `cap reached for ${date}: ${used} of ${cap} pushed (warmup day ${warmupDay}). Nothing more may be sent that day; build the next date, or see \`audience plan\` for the ramp ahead.`,
  );
}

export interface GateCheck {
  gate: 'warmup' | 'global_hold' | 'listmonk' | 'cap';
  ok: boolean;
  /** What the gate found: the build's own refusal message when it refuses. */
  detail: string;
}

export interface GateVerdict {
  date: string;
  /** Whether `audience build` for the date would get past every gate at `now`. */
  wouldRun: boolean;
  checks: GateCheck[];
}

/**
 * The build's gates for `date` at `now`, each answered instead of thrown, in the order the build
 * meets them: the warmup start (and a date before it), a global hold, Listmonk's settings (a
 * configuration error rather than a safety gate, but it stops a real build all the same), and the
 * date's cap already used with nothing reserved left to push. Read-only.
 */
export async function buildGates(db: Executor, config: Config, date: string, now: Date): Promise<GateVerdict> {
  const checks: GateCheck[] = [];
  let cap: DayCap | null = null;
  try {
    cap = dayCap(config.warmup, resolveWarmupStart(config.warmup.start, config.timezone), date);
    checks.push({ gate: 'warmup', ok: true, detail: `warmup day ${cap.warmupDay}: cap ${cap.daily} a day, ${cap.hourly} an hour` });
  } catch (e) {
    if (!(e instanceof AudienceError)) throw e;
    checks.push({ gate: 'warmup', ok: false, detail: e.message });
  }
  const hold = globalHoldRefusal(await activeHoldsAt(db, now));
  checks.push({ gate: 'global_hold', ok: !hold, detail: hold ? hold.message : 'no global hold' });
  const listmonk = listmonkNotConfigured(config.listmonk);
  checks.push({ gate: 'listmonk', ok: !listmonk, detail: listmonk ? listmonk.message : 'Listmonk is configured' });
  if (cap) {
    const counts = await ledgerCounts(db, date);
    const used = usedOf(counts);
    const pending = Object.values(counts).reduce((n, c) => n + c.reserved, 0);
    const full = used >= cap.daily && pending === 0;
    checks.push({
      gate: 'cap',
      ok: !full,
      detail: full
        ? capReached(date, used, cap.daily, cap.warmupDay).message
        : `${used} of ${cap.daily} used for ${date}${pending ? ` (${pending} reserved, waiting to be pushed)` : ''}; ${Math.max(0, cap.daily - used)} left`,
    });
  }
  return { date, wouldRun: checks.every((c) => c.ok), checks };
}
