/**
 * Operator actions on the scrub's verdicts: suppress or unsuppress an address/domain by hand, lift
 * a hold. Unsuppressing an address also lifts its Listmonk opt-outs (opted_out): the one way to. Each is a run in the ledger (stage `suppress`), so `audience status` and the runs table
 * show who changed what, and lifted rows stay as history.
 */
import { userInfo } from 'node:os';
import type { StageContext } from '../context.ts';
import { InputError } from '../errors.ts';
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

export type UnholdSummary = { command: 'unhold'; target: string; lifted: { scope: string; provider: string | null; reason: string; until: string }[] };

export async function operatorUnhold(ctx: StageContext, target: string, opts: { reason: string; holdReason?: string }): Promise<UnholdSummary> {
  const t = target.trim().toLowerCase();
  if (!t) throw new InputError('name the provider to release (google, microsoft365, yahoo, ...) or `global`.');
  const by = operatorName();
  return withRun(ctx.store, 'suppress', { action: 'unhold', target: t, reason: opts.reason, holdReason: opts.holdReason ?? null }, (run) =>
    ctx.store.db.transaction().execute(async (trx) => {
      const rows = await liftHolds(trx, t, { reason: opts.reason, by, now: ctx.now(), ...(opts.holdReason ? { holdReason: opts.holdReason } : {}) });
      if (!rows.length) {
        const open = await trx.selectFrom('holds').select(['scope', 'provider', 'reason']).where('lifted_at', 'is', null).where('until', '>', ctx.now()).execute();
        const list = open.map((h) => (h.scope === 'global' ? `global (${h.reason})` : `${h.provider} (${h.reason})`)).join(', ') || 'none';
        throw new InputError(`no current hold for ${t}. Active holds: ${list}.`);
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
