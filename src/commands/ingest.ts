import { Command, InvalidArgumentError } from 'commander';
import { runJobCommand } from '../cli/app.ts';

function rate(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('a share between 0 and 1, e.g. 0.01 for 1%');
  return n;
}

export function register(program: Command): void {
  const ingest = program.command('ingest').description('load source data into the database');
  ingest
    .command('census')
    .description(
      'load FMCSA census files into carriers: FMCSA_CENSUS1 text (26/42 columns, Windows-1252), its Socrata export, or the Company Census File; plain, .gz or .zip',
    )
    .argument('<file...>', 'census files, merged in the order given (a later file wins for a DOT number)')
    .option('--snapshot', 'the file is a full census: carriers it does not list become inactive (never deleted); one file only; refused (exit 3) past census.snapshotMaxDeactivateShare or below census.snapshotMinRows')
    .option('--force-snapshot', 'let --snapshot deactivate carriers past those limits (the carriers really left the census)')
    .option('--allow-older', 'merge a file whose newest MCS-150/ADD date is older than the data loaded (refused with exit 2 otherwise); a carrier with a newer stored MCS-150 filing keeps its row')
    .option('--rejects <file.csv>', 'also write the rejected rows (file, line, reason, raw) to this CSV (a new file; see --force)')
    .option('--force', 'let --rejects replace a file that exists (never a symbolic link)')
    .option('--no-normalize', 'load only; skip normalizing the changed e-mail fields (run `audience normalize` later)')
    .option('--max-reject-rate <r>', 'fail and merge nothing when more than this share of a file is bad (default: config census.maxRejectRate, 0.01)', rate)
    .addHelpText(
      'after',
      `
Bad rows (wrong field count, bad DOT number, unparseable dates, broken quoting, undecodable bytes,
a text field longer than twice FMCSA's layout width, duplicate DOT numbers) are rejected with their
line and reason into census_rejects; the run goes on. --rejects writes a new file (--force replaces
one that exists; never through a link); fields starting with = + - @ get a leading ' (formulas).
Running the same file twice changes nothing; a killed run, re-run, ends as one clean run.
A file older than the data loaded (by its newest MCS-150 or ADD date) is refused with exit 2
unless --allow-older. --snapshot refuses with exit 3, writing nothing, when it would deactivate
more than census.snapshotMaxDeactivateShare (5%) of the active carriers or the file has fewer
rows than census.snapshotMinRows (1000), unless --force-snapshot. Every merged file is recorded
in census_loads (name, sha256, size, rows, newest date, run).
Then the e-mail fields that changed are normalized (a \`normalize\` run; summary key "normalize").

Examples:
  audience ingest census FMCSA_CENSUS1_2026Nov.zip --snapshot
  audience ingest census FMCSA_CENSUS1_2026Nov.zip --snapshot --force-snapshot   # after checking the loss
  audience ingest census FMCSA_CENSUS1_2020Aug.txt --allow-older
  audience ingest census data-samples/census/bad_rows.txt --rejects rejects.csv --max-reject-rate 0.5
  audience --json ingest census Company_Census_File.csv.gz`,
    )
    .action(async (files: string[], opts: { snapshot?: boolean; forceSnapshot?: boolean; allowOlder?: boolean; rejects?: string; force?: boolean; maxRejectRate?: number; normalize: boolean }, cmd: Command) => {
      const { ingestJob, ingestSummary, describeCensusIngest } = await import('../../pipelines/ingest.ts');
      const job = ingestJob({
        files,
        snapshot: Boolean(opts.snapshot),
        forceSnapshot: Boolean(opts.forceSnapshot),
        allowOlder: Boolean(opts.allowOlder),
        rejectsFile: opts.rejects,
        force: Boolean(opts.force),
        maxRejectRate: opts.maxRejectRate,
        normalize: opts.normalize,
      });
      await runJobCommand(cmd, job, ingestSummary, describeCensusIngest);
    });
}
