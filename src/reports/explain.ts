/**
 * `audience explain`: every rule's verdict on the addresses of one subject, computed by the very
 * engine the build uses (createCandidates + evaluateExclusions over RULES), so the two can never
 * disagree.
 *
 * An address the census does not hold (or a carrier whose e-mail changed since the last
 * normalize) is staged first, through the same writeBatch normalize uses, inside a transaction
 * that explain always rolls back: the address is judged exactly as it would be if a carrier listed
 * it, and explain never leaves anything behind. A domain with no census address is judged through
 * the placeholder `*@domain` (`*` is a valid local part), so domain-level rules still report.
 */
import { sql, type Transaction } from 'kysely';
import type { StageContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { InputError } from '../errors.ts';
import { allowlistedAddresses, createCandidates, evaluateExclusions } from '../rules/engine.ts';
import { RULES } from '../rules/index.ts';
import type { ExclusionRule, RuleContext } from '../rules/rule.ts';
import { batchFromCarriers, emptyBatch, type NormalizeBatch } from '../email/batch.ts';
import { normalizeAddress } from '../email/normalize.ts';
import { parseSubject, type SubjectKind } from '../email/subject.ts';
import { writeBatch } from '../email/write-batch.ts';

export interface ExplainReason {
  code: string;
  detail: string | null;
  since: string | null;
}

/** The --json contract. */
export interface ExplainSummary {
  [key: string]: unknown;
  subject: string;
  kind: SubjectKind;
  addresses: { email: string; eligible: boolean; reasons: ExplainReason[] }[];
}

/** What the human rendering adds to the contract: the rules evaluated and notes on the subject. */
export interface ExplainReport {
  summary: ExplainSummary;
  rules: { code: string; description: string }[];
  notes: string[];
  allowlisted: string[];
}

export interface ExplainOptions {
  /** The send date the rules judge ('YYYY-MM-DD'); default today in config.timezone. */
  date?: string;
  /** Most addresses shown for a domain (the most-listed first). */
  limit?: number;
  /** The rules to run; default every registered rule. */
  rules?: readonly ExclusionRule[];
}

class Rollback {
  constructor(readonly report: ExplainReport) {}
}

export function todayIn(timeZone: string, now: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export async function explain(ctx: StageContext, subjectText: string, opts: ExplainOptions = {}): Promise<ExplainReport> {
  const subject = parseSubject(subjectText);
  const now = ctx.now();
  const ruleCtx: RuleContext = { config: ctx.config, now, date: opts.date ?? todayIn(ctx.config.timezone, now) };
  const rules = opts.rules ?? RULES;
  try {
    await ctx.store.transactionWithCopy(async (trx, copy) => {
      const notes: string[] = [];
      const stage = (batch: NormalizeBatch) => writeBatch(trx, batch, { runId: 0, now, copy });
      let ids: number[];
      if (subject.kind === 'email') {
        ids = await idsOf(trx, [subject.address.address]);
        if (!ids.length) {
          await stage({ ...emptyBatch(), addresses: [subject.address] });
          ids = await idsOf(trx, [subject.address.address]);
          notes.push(`${subject.address.address} is not in the census: judged as if a carrier listed it.`);
        }
      } else if (subject.kind === 'domain') {
        const limit = opts.limit ?? 50;
        const rows = await sql<{ id: number; total: number }>`
          select id, count(*) over ()::int as total from emails where domain = ${subject.domain} or address = ${subject.domain}
          order by carrier_count desc, address limit ${limit}::int`.execute(trx);
        ids = rows.rows.map((r) => r.id);
        const total = rows.rows[0]?.total ?? 0;
        if (total > ids.length) notes.push(`${total} census addresses at ${subject.domain}; showing the ${ids.length} listed by the most carriers (--limit).`);
        if (!ids.length) {
          const placeholder = normalizeAddress(`*@${subject.domain}`);
          await stage({ ...emptyBatch(), addresses: [placeholder] });
          ids = await idsOf(trx, [placeholder.address]);
          notes.push(`no census address at ${subject.domain}: judged through the placeholder ${placeholder.address}.`);
        }
      } else {
        const carrier = await trx.selectFrom('carriers').select(['dot_number', 'email_raw']).where('dot_number', '=', subject.dot).executeTakeFirst();
        if (!carrier) throw new InputError(`no carrier with USDOT ${subject.dot} in the database. Check the number, or run \`audience ingest census FILE\`.`);
        const source = await trx.selectFrom('email_sources').select('email_raw').where('dot_number', '=', subject.dot).executeTakeFirst();
        if (!source || source.email_raw !== carrier.email_raw) {
          await stage(batchFromCarriers([carrier]));
          notes.push(`USDOT ${subject.dot}'s e-mail changed since the last \`audience normalize\`: judged on its current field ${JSON.stringify(carrier.email_raw)}.`);
        }
        const links = await trx.selectFrom('carrier_emails').select('email_id').where('dot_number', '=', subject.dot).orderBy('position').execute();
        ids = links.map((l) => l.email_id);
        if (!ids.length) notes.push(`USDOT ${subject.dot} lists no e-mail address (field: ${JSON.stringify(carrier.email_raw)}).`);
      }
      const summary = await judge(trx, ruleCtx, rules, subjectText, subject.kind, ids);
      const allow = new Set(allowlistedAddresses(ruleCtx));
      const allowlisted = summary.addresses.map((a) => a.email).filter((e) => allow.has(e));
      throw new Rollback({ summary, rules: ruleList(rules), notes, allowlisted });
    });
  } catch (e) {
    if (e instanceof Rollback) return e.report;
    throw e;
  }
  throw new Error('unreachable: the explain transaction always rolls back');
}

async function idsOf(trx: Transaction<Database>, addresses: string[]): Promise<number[]> {
  const rows = await trx.selectFrom('emails').select('id').where('address', 'in', addresses).execute();
  return rows.map((r) => r.id);
}

/** Runs the engine on `ids` and shapes the contract object, addresses in the order given. */
async function judge(
  trx: Transaction<Database>,
  ruleCtx: RuleContext,
  rules: readonly ExclusionRule[],
  subject: string,
  kind: SubjectKind,
  ids: number[],
): Promise<ExplainSummary> {
  const summary: ExplainSummary = { subject, kind, addresses: [] };
  if (!ids.length) return summary;
  await createCandidates(trx, sql<{ email_id: number; email: string; domain: string }>`
    select e.id as email_id, e.address as email, e.domain from emails e where e.id = any(${ids}::bigint[])`);
  await evaluateExclusions(trx, ruleCtx, rules);
  const order = new Map(rules.map((r, i) => [r.code as string, i]));
  const rows = await sql<{ email_id: number; email: string; code: string | null; detail: string | null; since: Date | null }>`
    select c.email_id, c.email, h.code, h.detail, h.since
    from pg_temp.candidates c left join pg_temp.exclusion_hits h on h.email_id = c.email_id`.execute(trx);
  const byId = new Map<number, { email: string; reasons: ExplainReason[] }>();
  for (const r of rows.rows) {
    const entry = byId.get(r.email_id) ?? byId.set(r.email_id, { email: r.email, reasons: [] }).get(r.email_id)!;
    if (r.code) entry.reasons.push({ code: r.code, detail: r.detail, since: r.since ? new Date(r.since).toISOString() : null });
  }
  for (const id of ids) {
    const entry = byId.get(id);
    if (!entry) continue;
    entry.reasons.sort((a, b) => (order.get(a.code) ?? 99) - (order.get(b.code) ?? 99) || (a.detail ?? '').localeCompare(b.detail ?? ''));
    summary.addresses.push({ email: entry.email, eligible: entry.reasons.length === 0, reasons: entry.reasons });
  }
  return summary;
}

/** One line per code, in registry order (several modules may report one code: their descriptions join). */
function ruleList(rules: readonly ExclusionRule[]): { code: string; description: string }[] {
  const out = new Map<string, string[]>();
  for (const r of rules) (out.get(r.code) ?? out.set(r.code, []).get(r.code)!).push(r.description);
  return [...out].map(([code, d]) => ({ code, description: d.join('; or ') }));
}

/** The human rendering: every rule with pass/fail and its evidence, then the verdict. */
export function renderExplain(report: ExplainReport): string {
  const { summary } = report;
  const lines = [`${summary.subject} (${summary.kind})`];
  for (const n of report.notes) lines.push(`  note: ${n}`);
  if (!summary.addresses.length) lines.push('  no address to judge');
  for (const a of summary.addresses) {
    lines.push('', `${a.email}: ${a.eligible ? 'ELIGIBLE' : 'EXCLUDED'}${report.allowlisted.includes(a.email) ? ' (on email.allowlist: soft rules skipped)' : ''}`);
    for (const rule of report.rules) {
      const hits = a.reasons.filter((r) => r.code === rule.code);
      if (!hits.length) lines.push(`  pass  ${rule.code}`);
      for (const h of hits) lines.push(`  FAIL  ${rule.code}: ${h.detail ?? rule.description}${h.since ? ` (since ${h.since})` : ''}`);
    }
  }
  return lines.join('\n');
}
