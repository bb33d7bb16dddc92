/**
 * Whether a scrub that stored nothing may leave the suppressions as they are. The suppression
 * verdicts are a function of the stored events, the policy values and the code that the
 * migrations installed, and nothing else (their window ends at the newest event, not at the
 * clock; an operator's lift or suppression is read as it stands). So when this run committed no
 * batch and the scrub before it finished ok (its policies ran over everything stored, after its
 * last batch) with the same policy values on the same schema, running them again finds what they
 * found then: the whole statement over every event, most of an unchanged re-run's time, is
 * skipped. Holds, DKIM and health still run: the hold windows move with the clock.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { MaillogConfig } from './config.ts';

/** What the suppression verdicts depend on besides the events: recorded in each scrub run's args. */
export interface SuppressionInputs {
  mailboxFullDays: number;
  domainFailureRecipients: number;
  domainFailureWindowDays: number;
  suppressionExpiryDays: number | null;
  /** The newest migration applied: a migration may change events or the tables the rules read. */
  schema: number;
}

export async function suppressionInputs(db: Kysely<Database>, cfg: MaillogConfig): Promise<SuppressionInputs> {
  const r = await sql<{ schema: number | null }>`select max(id)::int as schema from audience_migrations`.execute(db);
  return {
    mailboxFullDays: cfg.mailboxFullDays,
    domainFailureRecipients: cfg.domainFailureRecipients,
    domainFailureWindowDays: cfg.domainFailureWindowDays,
    suppressionExpiryDays: cfg.suppressionExpiryDays,
    schema: r.rows[0]?.schema ?? 0,
  };
}

/**
 * The scrub run before `runId`, when its suppressions still stand for this one (see above):
 * its summary's open messages (the linker's state is unchanged since). Null when they must run.
 */
export async function standingSuppressions(db: Kysely<Database>, runId: number, inputs: SuppressionInputs): Promise<{ openMessages: number } | null> {
  const prev = await db
    .selectFrom('runs')
    .select(['status', 'args', 'counts'])
    .where('stage', '=', 'scrub-bounces')
    .where('id', '<', runId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (prev?.status !== 'ok') return null;
  const args = (typeof prev.args === 'string' ? JSON.parse(prev.args) : prev.args) as { suppressionInputs?: Record<string, unknown> } | null;
  const counts = (typeof prev.counts === 'string' ? JSON.parse(prev.counts) : prev.counts) as { openMessages?: unknown } | null;
  const before = args?.suppressionInputs;
  // Key by key: jsonb (PostgreSQL) keeps its own key order.
  const same = before && Object.keys(before).length === Object.keys(inputs).length && (Object.keys(inputs) as (keyof SuppressionInputs)[]).every((k) => before[k] === inputs[k]);
  if (!same || typeof counts?.openMessages !== 'number') return null;
  return { openMessages: counts.openMessages };
}
