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
import { holdSubjectText, liftHolds, type HoldSubject } from './holds.ts';

export { holdSubjectText };
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
  const open = await db.selectFrom('holds').select(['scope', 'provider', 'domain', 'mx_host', 'reason', 'until']).where('lifted_at', 'is', null).where('until', '>', now).orderBy('until').execute();
  return open.map((h) => `${holdSubjectText(h)} (${h.reason} until ${h.until.toISOString()})`).join(', ') || 'none';
}

export type UnholdSummary = {
  command: 'unhold';
  target: string;
  /** What `target` named: the global hold, a provider, or a domain (its holds, or those of the mail server it names). */
  scope: HoldSubject['scope'];
  lifted: { scope: string; provider: string | null; domain: string | null; mxHost: string | null; reason: string; until: string }[];
};

/**
 * What the operator named, the way people name it: `global`, a provider (`google`), or a receiving
 * domain or mail server of a domain hold (`dmnd.info`, `mail-in.bond.info`). A nickname
 * (`gmail`) is refused with the provider it means: `gmail.com` would read as a domain.
 */
async function holdSubject(ctx: StageContext, target: string): Promise<HoldSubject> {
  const t = target.trim().toLowerCase().replace(/\.$/, '');
  if (t === 'global') return { scope: 'global' };
  if ((PROVIDERS as readonly string[]).includes(t)) return { scope: 'provider', provider: t };
  if (t.includes('.') && !/\s|@|\//.test(t)) return { scope: 'domain', domain: t };
  const hint = PROVIDER_NICKNAMES[t] ? ` Did you mean ${PROVIDER_NICKNAMES[t]}?` : '';
  throw new UsageError(
    `"${target}" is not a provider or a domain.${hint} Holds are by provider (${PROVIDERS.join(', ')}), by domain (a self-hosted receiver: its domain or mail server, e.g. example.com), or global (the DKIM hold). Active holds: ${await describeActiveHolds(ctx.store.db, ctx.now())}.`,
  );
}

export async function operatorUnhold(ctx: StageContext, target: string, opts: { reason: string; holdReason?: string }): Promise<UnholdSummary> {
  if (!target.trim()) throw new UsageError(`name the provider (${PROVIDERS.join(', ')}), the domain, or \`global\` to release.`);
  const subject = await holdSubject(ctx, target);
  const t = subject.scope === 'global' ? 'global' : subject.scope === 'provider' ? subject.provider : subject.domain;
  const by = operatorName();
  return withRun(ctx.store, 'suppress', { action: 'unhold', target: t, scope: subject.scope, reason: opts.reason, holdReason: opts.holdReason ?? null }, (run) =>
    ctx.store.db.transaction().execute(async (trx) => {
      const rows = await liftHolds(trx, subject, { reason: opts.reason, by, now: ctx.now(), ...(opts.holdReason ? { holdReason: opts.holdReason } : {}) });
      if (!rows.length) {
        throw new InputError(`no current hold for ${subject.scope === 'domain' ? `domain ${t}` : t}${opts.holdReason ? ` with reason ${opts.holdReason}` : ''}. Active holds: ${await describeActiveHolds(trx, ctx.now())}.`);
      }
      const summary: UnholdSummary = {
        command: 'unhold',
        target: t,
        scope: subject.scope,
        lifted: rows.map((h) => ({ scope: h.scope, provider: h.provider, domain: h.domain, mxHost: h.mx_host, reason: h.reason, until: h.until.toISOString() })),
      };
      await finishRun(trx, run, 'ok', summary, null);
      return summary;
    }),
  { now: ctx.now });
}
