/**
 * Fixtures for the e-mail tests: carriers inserted straight into `carriers` (the ingest stage is
 * not needed to test normalization), and a StageContext on a test store.
 */
import { sql } from 'kysely';
import { createOutput } from '../src/cli/output.ts';
import { loadConfig, type ConfigOverrides } from '../src/config.ts';
import type { StageContext } from '../src/context.ts';
import type { Store } from '../src/db/store.ts';
import { blockedDomainRule } from '../src/rules/blocked-domain.ts';
import { disposableRule } from '../src/rules/disposable.ts';
import { fmcsaTestRecordRule } from '../src/rules/fmcsa-test-record.ts';
import { invalidSyntaxRule } from '../src/rules/invalid-syntax.ts';
import { roleAccountRule } from '../src/rules/role-account.ts';
import type { ExclusionRule } from '../src/rules/rule.ts';
import { sharedAddressRule } from '../src/rules/shared-address.ts';
import { typoDomainRule } from '../src/rules/typo-domain.ts';
import { yahooFamilyListRule } from '../src/rules/yahoo-family-list.ts';

export interface TestCarrier {
  dot: number;
  email: string | null;
  testRecord?: boolean;
  status?: 'active' | 'inactive' | 'pending';
}

/** Inserts or updates carriers (one statement), as ingest would leave them. */
export async function upsertCarriers(store: Store, carriers: readonly TestCarrier[]): Promise<void> {
  if (!carriers.length) return;
  await sql`
    insert into carriers (dot_number, legal_name, status, email_raw, is_test_record, source_format, source_file, source_line, first_run_id, changed_run_id)
    select d, 'CARRIER ' || d, s, e, t, 'test', 'test', 1, 0, 0
    from unnest(${carriers.map((c) => c.dot)}::bigint[], ${carriers.map((c) => c.email)}::text[],
                ${carriers.map((c) => c.testRecord ?? false)}::boolean[], ${carriers.map((c) => c.status ?? 'active')}::text[]) as t(d, e, t, s)
    on conflict (dot_number) do update set email_raw = excluded.email_raw, is_test_record = excluded.is_test_record, status = excluded.status`.execute(store.db);
}

/** A StageContext on `store` with a quiet output, a pinned clock and config overrides (no env, no file). */
export function testContext(store: Store, overrides: ConfigOverrides = {}, now = new Date('2026-11-20T15:00:00Z')): StageContext {
  const config = loadConfig({ env: {}, cwd: '/nonexistent', overrides });
  const out = createOutput({ json: true, quiet: true, stdout: devNull(), stderr: devNull() });
  return { config, store, out, now: () => now };
}

function devNull(): NodeJS.WritableStream {
  return { write: () => true } as unknown as NodeJS.WritableStream;
}

/**
 * The rules this area owns (issue #3), in registry order. Tests judge with these alone so that
 * rules other areas register (mx_unknown holds every domain without an MX verdict) cannot make an
 * assertion pass or fail for reasons outside the static rules.
 */
export const STATIC_RULES: readonly ExclusionRule[] = [
  invalidSyntaxRule,
  fmcsaTestRecordRule,
  yahooFamilyListRule,
  blockedDomainRule,
  disposableRule,
  typoDomainRule,
  sharedAddressRule,
  roleAccountRule,
];

/**
 * Every row of the tables normalize writes, with ids replaced by what they stand for: what two ways
 * of normalizing the same carriers must agree on. `runIds: false` leaves out each source row's run
 * id, for two paths whose rows come from different runs.
 */
export async function normalizedRows(store: Pick<Store, 'db'>, { runIds = true } = {}) {
  const q = async (query: ReturnType<typeof sql>) => (await sql<Record<string, unknown>>`${query}`.execute(store.db)).rows;
  return {
    emails: await q(sql`select address, local_part, domain, valid, carrier_count, normalizer_version, rank() over (order by id)::int as id_order from emails order by address`),
    carrierEmails: await q(sql`select ce.dot_number, e.address, ce.position from carrier_emails ce join emails e on e.id = ce.email_id order by 1, 3`),
    reasons: await q(sql`select e.address, r.code, r.detail, r.since from email_reasons r join emails e on e.id = r.email_id order by 1, 2`),
    sources: await q(
      runIds
        ? sql`select dot_number, email_raw, normalizer_version, run_id, normalized_at from email_sources order by 1`
        : sql`select dot_number, email_raw, normalizer_version, normalized_at from email_sources order by 1`,
    ),
  };
}
