/**
 * `check-mx --import FILE`: the verdicts of a CSV (csv.ts) merged into mx_domains by the rule of
 * precedence.ts, in one transaction. Every data line ends up counted exactly once:
 * - imported: its verdict is now the stored one;
 * - kept: a verdict that wins by the rule was kept instead (the stored one, or another line of
 *   the file for the same domain); the first KEPT_LISTED are listed with what won;
 * - rejected: it could not be read as a verdict; each one is listed with its line and reason.
 * Valid lines are imported even when others are rejected (each line is an independent
 * observation, and the rule makes re-importing a fixed file change nothing else).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { MxConfig } from './config.ts';
import { verdictCsvLines, verdictFromCsv } from './csv.ts';
import type { StoredVerdict } from './merge.ts';
import { writeWinners } from './cache.ts';
import { precedenceKey } from './precedence.ts';
import type { MxVerdict } from './tables.ts';

const BATCH = 1000;
export const KEPT_LISTED = 100;

export interface ImportReject {
  line: number;
  reason: string;
}

export interface KeptLine {
  line: number;
  domain: string;
  verdict: MxVerdict;
  checkedAt: string;
  /** The verdict that won, as stored now. */
  kept: { verdict: MxVerdict; reason: string; checkedAt: string; source: 'dns' | 'import' };
}

export interface ImportReport {
  imported: number;
  keptNewer: number;
  rejected: number;
  rejects: ImportReject[];
  /** The first KEPT_LISTED kept lines, in line order. */
  kept: KeptLine[];
  /** Verdict and provider of each imported line, for the run's tallies. */
  written: Pick<StoredVerdict, 'verdict' | 'provider'>[];
}

export async function importVerdictCsv(db: Kysely<Database>, file: string, ctx: { config: MxConfig; now: Date }): Promise<ImportReport> {
  return db.transaction().execute(async (trx) => {
    await sql`create temp table mx_import (line integer primary key, domain text not null, verdict text not null, reason text not null,
      provider text, mx_hosts text[] not null, mx_preferences integer[] not null, addresses text[] not null, ttl_seconds integer,
      checked_at timestamptz not null, expires_at timestamptz not null, dead_since timestamptz, last_error text,
      unknown_since timestamptz, unknown_days integer not null, last_unknown_day date, source text not null, run_id bigint) on commit drop`.execute(trx);
    const rejects: ImportReject[] = [];
    let valid = 0;
    let batch: (StoredVerdict & { line: number })[] = [];
    const flush = async () => {
      if (!batch.length) return;
      await sql`insert into pg_temp.mx_import select * from jsonb_populate_recordset(null::pg_temp.mx_import, ${JSON.stringify(batch)}::jsonb)`.execute(trx);
      batch = [];
    };
    for await (const l of verdictCsvLines(file)) {
      const v = l.problem ?? verdictFromCsv(l.rec, ctx.config, ctx.now);
      if (typeof v === 'string') {
        rejects.push({ line: l.line, reason: v });
        continue;
      }
      valid++;
      batch.push({ ...v, line: l.line });
      if (batch.length >= BATCH) await flush();
    }
    await flush();

    // The file's own winner per domain (its earliest line among ties), then against the stored row.
    await sql`create temp table mx_import_best on commit drop as
      select distinct on (i.domain) i.* from pg_temp.mx_import i order by i.domain, ${precedenceKey('i')} desc, i.line`.execute(trx);
    const written = await writeWinners(trx, sql`select * from pg_temp.mx_import_best`, ctx.now);
    const writtenDomains = written.map((r) => r.domain);

    const kept = await sql<{ line: number; domain: string; verdict: MxVerdict; checked_at: Date; kept_verdict: MxVerdict; kept_reason: string; kept_checked_at: Date; kept_source: 'dns' | 'import' }>`
      select i.line, i.domain, i.verdict, i.checked_at, m.verdict as kept_verdict, m.reason as kept_reason, m.checked_at as kept_checked_at, m.source as kept_source
      from pg_temp.mx_import i join mx_domains m on m.domain = i.domain
      where not exists (select 1 from pg_temp.mx_import_best b where b.line = i.line and b.domain = any(${writtenDomains}::text[]))
      order by i.line
      limit ${KEPT_LISTED}`.execute(trx);
    return {
      imported: written.length,
      keptNewer: valid - written.length,
      rejected: rejects.length,
      rejects,
      kept: kept.rows.map((r) => ({
        line: r.line,
        domain: r.domain,
        verdict: r.verdict,
        checkedAt: r.checked_at.toISOString(),
        kept: { verdict: r.kept_verdict, reason: r.kept_reason, checkedAt: r.kept_checked_at.toISOString(), source: r.kept_source },
      })),
      written: written,
    };
  });
}
