/**
 * What an ingest reports: the --json summary (contract keys first) and the reject-rate verdict,
 * shared by the first load and the staged merge so both say the same thing.
 */
import { InputError } from '../errors.ts';
import type { CensusFormatId } from './formats.ts';

export interface CensusIngestSummary {
  command: 'ingest census';
  files: string[];
  format: string;
  read: number;
  accepted: number;
  rejected: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deactivated: number;
  /** Rows of a file let through by --allow-older that left a carrier with a newer MCS-150 date alone. */
  keptNewer: number;
  /** The newest MCS-150/ADD date of the files (what census_loads records), null when none has one. */
  dataDate: string | null;
  seconds: number;
  run: number;
  [key: string]: unknown;
}

/** Counts of one file after its scan (rejected includes superseded duplicates). */
export interface FileCounts {
  file: string;
  format: CensusFormatId;
  read: number;
  rejected: number;
}

export interface MergeTotals {
  inserted: number;
  updated: number;
  deactivated: number;
  keptNewer: number;
  dataDate: string | null;
}

export function ingestSummary(
  o: { files: string[]; rejectsFile?: string | undefined; runId: number; started: bigint },
  files: FileCounts[],
  totals: MergeTotals,
): CensusIngestSummary {
  const read = sum(files.map((s) => s.read));
  const rejected = sum(files.map((s) => s.rejected));
  const accepted = read - rejected;
  return {
    command: 'ingest census',
    files: o.files,
    format: [...new Set(files.map((s) => s.format))].join(','),
    read,
    accepted,
    rejected,
    inserted: totals.inserted,
    updated: totals.updated,
    unchanged: accepted - totals.inserted - totals.updated - totals.keptNewer,
    deactivated: totals.deactivated,
    keptNewer: totals.keptNewer,
    dataDate: totals.dataDate,
    seconds: Number((Number(process.hrtime.bigint() - o.started) / 1e9).toFixed(2)),
    run: o.runId,
    ...(o.rejectsFile ? { rejectsFile: o.rejectsFile } : {}),
  };
}

/** The error that fails a run whose files have too many bad rows, or null when none has. */
export function tooManyRejects(files: FileCounts[], maxRate: number, runId: number, rejectsFile?: string): InputError | null {
  const tooBad = files.filter((s) => s.read > 0 && s.rejected / s.read > maxRate);
  if (!tooBad.length) return null;
  const worst = tooBad.map((s) => `${s.file}: ${s.rejected} of ${s.read} rows (${pct(s.rejected / s.read)})`).join('; ');
  return new InputError(
    `too many bad rows, nothing was merged: ${worst}, above --max-reject-rate ${maxRate} (${pct(maxRate)}). See the reasons with \`select line_no, reason from census_rejects where run_id = ${runId}\`${rejectsFile ? ` or in ${rejectsFile}` : ''}; if the file is right, raise --max-reject-rate.`,
  );
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
