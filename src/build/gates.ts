/**
 * Safety gates of the build: each refuses the whole run (exit 3) with what to do, before anything
 * is reserved or pushed. Provider and domain holds are not gates: the provider_hold rule removes
 * only the held addresses.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { SafetyGateError } from '../errors.ts';
import type { HoldScope } from '../maillog/tables.ts';

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
  const global = (await activeHoldsAt(db, now)).filter((h) => h.scope === 'global');
  if (!global.length) return;
  const lines = global.map((h) => `${h.reason} since ${h.starts_at.toISOString()} until ${h.until.toISOString()}: ${h.detail}`);
  throw new SafetyGateError(
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
