/**
 * The --snapshot guard (issue #14): a header-only or truncated file given as the full census
 * deactivated every carrier it did not list, i.e. the whole audience, and exited 0. Before any
 * write, the run counts what the snapshot would deactivate; above census.snapshotMaxDeactivateShare
 * of the carriers not yet inactive, or for a file with fewer rows than census.snapshotMinRows, it
 * refuses with exit 3 and writes nothing, unless the operator passes --force-snapshot.
 *
 * Not --force: that flag lets --rejects replace an existing file, and a cron line that re-uses its
 * rejects path with --force would have switched this guard off without anyone deciding to.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { CensusConfig } from './config.ts';
import type { Database } from '../db/database.ts';
import { SafetyGateError } from '../errors.ts';

type Executor = Kysely<Database> | Transaction<Database>;

export interface SnapshotImpact {
  /** Carriers not yet inactive (active or pending) before the run. */
  active: number;
  /** Of which the file does not list: what the snapshot would deactivate. */
  wouldDeactivate: number;
}

/**
 * What deactivateAbsent (merge.ts) would do with `typed` as the full census, counted without
 * writing; already counted by the scan when it left unchanged rows out of `typed` (staging.ts).
 */
export async function snapshotImpact(db: Executor, typed: string, leftOut?: { active: number; gone: number[] } | null): Promise<SnapshotImpact> {
  if (leftOut) return { active: leftOut.active, wouldDeactivate: leftOut.gone.length };
  const r = await sql<{ active: number; lost: number }>`
    select count(*)::bigint as active,
           count(*) filter (where not exists (select 1 from ${sql.table(typed)} t where t.dot_number = c.dot_number))::bigint as lost
      from carriers c where c.status <> 'inactive'`.execute(db);
  const row = r.rows[0];
  return { active: Number(row?.active ?? 0), wouldDeactivate: Number(row?.lost ?? 0) };
}

type Limits = Pick<CensusConfig, 'snapshotMaxDeactivateShare' | 'snapshotMinRows'>;

/** The refusal of a snapshot that would lose too much, or list too few rows; null when it may go on. */
export function snapshotRefusal(name: string, rows: number, impact: SnapshotImpact, limits: Limits): SafetyGateError | null {
  const share = impact.active ? impact.wouldDeactivate / impact.active : 0;
  const tooMany = share > limits.snapshotMaxDeactivateShare;
  const tooFew = rows < limits.snapshotMinRows;
  if (!tooMany && !tooFew) return null;
  const why = [
    ...(tooMany
      ? [`it would deactivate ${impact.wouldDeactivate} of ${impact.active} active carriers (${pct(share)}), above census.snapshotMaxDeactivateShare ${limits.snapshotMaxDeactivateShare} (${pct(limits.snapshotMaxDeactivateShare)})`]
      : []),
    ...(tooFew ? [`it has ${rows} data row(s), fewer than census.snapshotMinRows ${limits.snapshotMinRows} (a full FMCSA census has about 2.1 million)`] : []),
  ];
  return new SafetyGateError(
    'snapshot',
    `refusing --snapshot of ${name}: ${why.join('; and ')}. Nothing was written. ` +
      'An empty, truncated or partial file (an interrupted download, a one-state extract) looks like this: check the file, or ingest it without --snapshot. ' +
      'If those carriers really left the census, re-run with --force-snapshot, or raise census.snapshotMaxDeactivateShare / lower census.snapshotMinRows in audience.config.json.',
    {
      summary: {
        command: 'ingest census',
        refused: 'snapshot',
        rows,
        activeCarriers: impact.active,
        wouldDeactivate: impact.wouldDeactivate,
        share: Number(share.toFixed(4)),
        maxShare: limits.snapshotMaxDeactivateShare,
        minRows: limits.snapshotMinRows,
      },
    },
  );
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
