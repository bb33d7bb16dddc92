/**
 * Operator actions on the scrub's verdicts: suppress or unsuppress an address/domain by hand, lift
 * a hold. Unsuppressing an address also lifts its Listmonk opt-outs (opted_out): the one way to. Each is a run in the ledger (stage `suppress`), so `audience status` and the runs table
 * show who changed what, and lifted rows stay as history.
 */
import { userInfo } from 'node:os';
import type { Kysely, Transaction } from 'kysely';
import type { StageContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { InputError, UsageError } from '../errors.ts';
import { PROVIDERS } from '../mx/providers.ts';
import { finishRun, withRun } from '../runs.ts';
import { liftOptOuts } from '../optouts/record.ts';
import { liftHolds } from './holds.ts';
import { liftSuppression, parseSubject, suppressByOperator } from './suppressions.ts';

function operatorName(): string {
  try {
    return userInfo().username || 'operator';
  } catch {
    return 'operator';
  }
}

export type SuppressSummary = {
  command: 'suppress';
  kind: 'address' | 'domain';
  value: string;
  reason: string;
  expiresAt: string | null;
  replaced: boolean;
};

export async function operatorSuppress(ctx: StageContext, subject: string, opts: { reason: string; days: number | null }): Promise<SuppressSummary> {
  const target = parseSubject(subject);
  const by = operatorName();
  return withRun(ctx.store, 'suppress', { action: 'suppress', subject: target.value, reason: opts.reason, days: opts.days }, (run) =>
    ctx.store.db.transaction().execute(async (trx) => {
      const now = ctx.now();
      const before = await trx.selectFrom('suppressions').select('id').where('kind', '=', target.kind).where('value', '=', target.value).where('lifted_at', 'is', null).executeTakeFirst();
      const row = await suppressByOperator(trx, target, { reason: opts.reason, days: opts.days, by, now, runId: run.id });
      const summary: SuppressSummary = {
        command: 'suppress',
        kind: row.kind,
        value: row.value,
        reason: opts.reason,
        expiresAt: row.expires_at ? row.expires_at.toISOString() : null,
        replaced: Boolean(before),
      };
      await finishRun(trx, run, 'ok', summary, null);
      return summary;
    }),
  { now: ctx.now });
}

/** `lifted`: suppressions lifted; `optOutsLifted`: Listmonk opt-outs (opted_out) of the address lifted. */
export type UnsuppressSummary = { command: 'unsuppress'; kind: 'address' | 'domain'; value: string; lifted: number; optOutsLifted: number };

export async function operatorUnsuppress(ctx: StageContext, subject: string, opts: { reason: string }): Promise<UnsuppressSummary> {
  const target = parseSubject(subject);
  const by = operatorName();
  return withRun(ctx.store, 'suppress', { action: 'unsuppress', subject: target.value, reason: opts.reason }, (run) =>
    ctx.store.db.transaction().execute(async (trx) => {
      const lifted = await liftSuppression(trx, target, { reason: opts.reason, by, now: ctx.now() });
      const optOutsLifted = target.kind === 'address' ? await liftOptOuts(trx, target.value, { reason: opts.reason, by, now: ctx.now(), runId: run.id }) : 0;
      if (!lifted && !optOutsLifted)
        throw new InputError(
          `${target.kind} ${target.value} has no current suppression${target.kind === 'address' ? ' or opt-out' : ''}. See them with: psql -c "select * from suppressions where value = '${target.value}'"` +
            (target.kind === 'address' ? ` -c "select * from opt_outs where address = '${target.value}'"` : ''),
        );
      const summary: UnsuppressSummary = { command: 'unsuppress', kind: target.kind, value: target.value, lifted, optOutsLifted };
      await finishRun(trx, run, 'ok', summary, null);
      return summary;
    }),
  { now: ctx.now });
}

/** What people call a provider, by the name holds use (a hint in the refusal, never a silent rewrite). */
const PROVIDER_NICKNAMES: Record<string, string> = {
  gmail: 'google',
  googlemail: 'google',
  workspace: 'google',
  outlook: 'outlook_consumer',
  hotmail: 'outlook_consumer',
  live: 'outlook_consumer',
  msn: 'outlook_consumer',
  microsoft: 'microsoft365',
  office365: 'microsoft365',
  o365: 'microsoft365',
  m365: 'microsoft365',
  aol: 'yahoo',
  verizon: 'yahoo',
  att: 'yahoo',
  icloud: 'apple',
};

/** Active holds in words: `google (reputation_block until 2026-11-29T...)`, or `none`. */
async function describeActiveHolds(db: Kysely<Database> | Transaction<Database>, now: Date): Promise<string> {
  const open = await db.selectFrom('holds').select(['scope', 'provider', 'reason', 'until']).where('lifted_at', 'is', null).where('until', '>', now).orderBy('until').execute();
  return open.map((h) => `${h.scope === 'global' ? 'global' : h.provider} (${h.reason} until ${h.until.toISOString()})`).join(', ') || 'none';
}

export type UnholdSummary = { command: 'unhold'; target: string; lifted: { scope: string; provider: string | null; reason: string; until: string }[] };

export async function operatorUnhold(ctx: StageContext, target: string, opts: { reason: string; holdReason?: string }): Promise<UnholdSummary> {
  const t = target.trim().toLowerCase();
  if (!t) throw new UsageError(`name the provider to release (${PROVIDERS.join(', ')}) or \`global\`.`);
  if (t !== 'global' && !(PROVIDERS as readonly string[]).includes(t)) {
    const hint = PROVIDER_NICKNAMES[t] ? ` Did you mean ${PROVIDER_NICKNAMES[t]}?` : '';
    throw new UsageError(`"${target}" is not a provider name.${hint} Holds are by provider: ${PROVIDERS.join(', ')}, or global (the DKIM hold). Active holds: ${await describeActiveHolds(ctx.store.db, ctx.now())}.`);
  }
  const by = operatorName();
  return withRun(ctx.store, 'suppress', { action: 'unhold', target: t, reason: opts.reason, holdReason: opts.holdReason ?? null }, (run) =>
    ctx.store.db.transaction().execute(async (trx) => {
      const rows = await liftHolds(trx, t, { reason: opts.reason, by, now: ctx.now(), ...(opts.holdReason ? { holdReason: opts.holdReason } : {}) });
      if (!rows.length) {
        throw new InputError(`no current hold for ${t}${opts.holdReason ? ` with reason ${opts.holdReason}` : ''}. Active holds: ${await describeActiveHolds(trx, ctx.now())}.`);
      }
      const summary: UnholdSummary = {
        command: 'unhold',
        target: t,
        lifted: rows.map((h) => ({ scope: h.scope, provider: h.provider, reason: h.reason, until: h.until.toISOString() })),
      };
      await finishRun(trx, run, 'ok', summary, null);
      return summary;
    }),
  { now: ctx.now });
}
