/**
 * Operator actions on the scrub's verdicts: suppress or unsuppress an address/domain by hand, lift
 * a hold. Unsuppressing an address also lifts its Listmonk opt-outs (opted_out): the one way to.
 * Each is a stage run by runStage, in the ledger as stage `suppress` (one lock for the three), so
 * `audience status` and the runs table show who changed what, and lifted rows stay as history. A
 * subject that does not parse is refused in `prepare`, before any runs row.
 */
import { userInfo } from 'node:os';
import type { Kysely, Transaction } from 'kysely';
import type { StageContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { InputError, UsageError } from '../errors.ts';
import { PROVIDERS } from '../mx/providers.ts';
import { z } from 'zod';
import { finishRun } from '../runs.ts';
import { runStage, type Envelope, type Stage } from '../stage.ts';
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

const SUPPRESS_STAGE = { name: 'suppress', migrations: 'apply', ledger: true } as const;

const suppressOptions = z.object({ subject: z.string(), reason: z.string().refine((r) => r.trim() !== '', 'must say why (it is kept as evidence)'), days: z.number().int().positive().nullable() });
type SuppressOptions = z.infer<typeof suppressOptions>;

export const suppressStage: Stage<SuppressOptions, SuppressSummary, SuppressOptions & { target: { kind: 'address' | 'domain'; value: string }; by: string }> = {
  ...SUPPRESS_STAGE,
  command: 'suppress',
  options: suppressOptions,
  prepare: (_ctx, o) => ({ ...o, target: parseSubject(o.subject), by: operatorName() }),
  args: (p) => ({ action: 'suppress', subject: p.target.value, reason: p.reason, days: p.days }),
  run: (ctx, run, p) =>
    ctx.store.db.transaction().execute(async (trx) => {
      const now = ctx.now();
      const { target } = p;
      const before = await trx.selectFrom('suppressions').select('id').where('kind', '=', target.kind).where('value', '=', target.value).where('lifted_at', 'is', null).executeTakeFirst();
      const row = await suppressByOperator(trx, target, { reason: p.reason, days: p.days, by: p.by, now, runId: run!.id });
      const summary: SuppressSummary = {
        command: 'suppress',
        kind: row.kind,
        value: row.value,
        reason: p.reason,
        expiresAt: row.expires_at ? row.expires_at.toISOString() : null,
        replaced: Boolean(before),
      };
      await finishRun(trx, run!, 'ok', summary, null);
      return summary;
    }),
  render: (s) => `suppressed ${s.kind} ${s.value}${s.expiresAt ? ` until ${s.expiresAt}` : ''}${s.replaced ? ' (replaced the previous suppression)' : ''}`,
};

export function operatorSuppress(ctx: StageContext, subject: string, opts: { reason: string; days: number | null }): Promise<Envelope<SuppressSummary>> {
  return runStage(ctx, suppressStage, { subject, ...opts });
}

/** `lifted`: suppressions lifted; `optOutsLifted`: Listmonk opt-outs (opted_out) of the address lifted. */
export type UnsuppressSummary = { command: 'unsuppress'; kind: 'address' | 'domain'; value: string; lifted: number; optOutsLifted: number };

const unsuppressOptions = z.object({ subject: z.string(), reason: z.string().refine((r) => r.trim() !== '', 'must say why (it is kept with the lift)') });
type UnsuppressOptions = z.infer<typeof unsuppressOptions>;

export const unsuppressStage: Stage<UnsuppressOptions, UnsuppressSummary, UnsuppressOptions & { target: { kind: 'address' | 'domain'; value: string }; by: string }> = {
  ...SUPPRESS_STAGE,
  command: 'unsuppress',
  options: unsuppressOptions,
  prepare: (_ctx, o) => ({ ...o, target: parseSubject(o.subject), by: operatorName() }),
  args: (p) => ({ action: 'unsuppress', subject: p.target.value, reason: p.reason }),
  run: (ctx, run, p) =>
    ctx.store.db.transaction().execute(async (trx) => {
      const { target, reason, by } = p;
      const lifted = await liftSuppression(trx, target, { reason, by, now: ctx.now() });
      const optOutsLifted = target.kind === 'address' ? await liftOptOuts(trx, target.value, { reason, by, now: ctx.now(), runId: run!.id }) : 0;
      if (!lifted && !optOutsLifted)
        throw new InputError(
          `${target.kind} ${target.value} has no current suppression${target.kind === 'address' ? ' or opt-out' : ''}. See them with: psql -c "select * from suppressions where value = '${target.value}'"` +
            (target.kind === 'address' ? ` -c "select * from opt_outs where address = '${target.value}'"` : ''),
        );
      const summary: UnsuppressSummary = { command: 'unsuppress', kind: target.kind, value: target.value, lifted, optOutsLifted };
      await finishRun(trx, run!, 'ok', summary, null);
      return summary;
    }),
  render: (s) => [s.lifted ? `lifted the suppression of ${s.kind} ${s.value}` : '', s.optOutsLifted ? `lifted ${s.optOutsLifted} Listmonk opt-out(s) of ${s.value}` : ''].filter(Boolean).join('; '),
};

export function operatorUnsuppress(ctx: StageContext, subject: string, opts: { reason: string }): Promise<Envelope<UnsuppressSummary>> {
  return runStage(ctx, unsuppressStage, { subject, ...opts });
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

const unholdOptions = z.object({ subject: z.string(), reason: z.string().refine((r) => r.trim() !== '', 'must say why (it is kept with the lift)'), holdReason: z.string().optional() });
type UnholdOptions = z.infer<typeof unholdOptions>;

export const unholdStage: Stage<UnholdOptions, UnholdSummary, UnholdOptions & { hold: HoldSubject; target: string; by: string }> = {
  ...SUPPRESS_STAGE,
  command: 'unhold',
  options: unholdOptions,
  async prepare(ctx, o) {
    if (!o.subject.trim()) throw new UsageError(`name the provider (${PROVIDERS.join(', ')}), the domain, or \`global\` to release.`);
    const hold = await holdSubject(ctx, o.subject);
    const target = hold.scope === 'global' ? 'global' : hold.scope === 'provider' ? hold.provider : hold.domain;
    return { ...o, hold, target, by: operatorName() };
  },
  args: (p) => ({ action: 'unhold', target: p.target, scope: p.hold.scope, reason: p.reason, holdReason: p.holdReason ?? null }),
  run: (ctx, run, p) =>
    ctx.store.db.transaction().execute(async (trx) => {
      const { hold, target: t } = p;
      const rows = await liftHolds(trx, hold, { reason: p.reason, by: p.by, now: ctx.now(), ...(p.holdReason ? { holdReason: p.holdReason } : {}) });
      if (!rows.length) {
        throw new InputError(`no current hold for ${hold.scope === 'domain' ? `domain ${t}` : t}${p.holdReason ? ` with reason ${p.holdReason}` : ''}. Active holds: ${await describeActiveHolds(trx, ctx.now())}.`);
      }
      const summary: UnholdSummary = {
        command: 'unhold',
        target: t,
        scope: hold.scope,
        lifted: rows.map((h) => ({ scope: h.scope, provider: h.provider, domain: h.domain, mxHost: h.mx_host, reason: h.reason, until: h.until.toISOString() })),
      };
      await finishRun(trx, run!, 'ok', summary, null);
      return summary;
    }),
  render: (s) => s.lifted.map((h) => `lifted ${holdSubjectText({ ...h, mx_host: h.mxHost })} hold (${h.reason}, was until ${h.until})`).join('\n'),
};

export function operatorUnhold(ctx: StageContext, target: string, opts: { reason: string; holdReason?: string }): Promise<Envelope<UnholdSummary>> {
  return runStage(ctx, unholdStage, { subject: target, ...opts });
}
