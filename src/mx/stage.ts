/**
 * The `check-mx` stage: import/export of the verdict cache, or a DNS check (dns-run.ts) of the
 * candidate domains needing a verdict (missing or expired) or of the domains named on the command
 * line. Returns the run summary (summary.ts, the --json contract).
 */
import { readFileSync } from 'node:fs';
import type { StageContext } from '../context.ts';
import { normalizeDomain } from '../email/normalize.ts';
import { InputError, UsageError } from '../errors.ts';
import type { RunHandle } from '../runs.ts';
import { domainsNeedingCheck } from './cache.ts';
import { writeVerdictCsv } from './csv.ts';
import { runDnsCheck } from './dns-run.ts';
import { importVerdictCsv } from './import.ts';
import { tally, type MxCheckSummary } from './summary.ts';

export type { DomainVerdictOut, MxCheckSummary } from './summary.ts';

export interface MxCheckOptions {
  /** --domain (repeatable): check exactly these, whatever their cache state. */
  domains?: readonly string[];
  /** --domains FILE: one domain per line, `#` comments. */
  domainsFile?: string;
  importFile?: string;
  exportFile?: string;
  /** --force: the export may replace a regular file that exists. */
  force?: boolean;
}

export async function runMxCheck(ctx: StageContext, run: RunHandle, opts: MxCheckOptions): Promise<MxCheckSummary> {
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 10) / 100;
  const explicit = [...(opts.domains ?? []).map((d) => explicitDomain(d, '--domain')), ...(opts.domainsFile ? readDomainsFile(opts.domainsFile) : [])];
  const asked = (opts.domains?.length ?? 0) > 0 || opts.domainsFile !== undefined;
  if (opts.importFile && asked) throw new UsageError('--import loads verdicts without DNS: use it alone (or with --export), not with --domain/--domains.');

  if (opts.importFile || (opts.exportFile && !asked)) {
    const summary: MxCheckSummary = { command: 'check-mx', run_id: run.id, checked: 0, ...tally([]), keptNewer: 0, seconds: 0 };
    if (opts.importFile) {
      const r = await importVerdictCsv(ctx.store.db, opts.importFile, { config: ctx.config.mx, now: ctx.now() });
      Object.assign(summary, tally(r.written), { imported: r.imported, keptNewer: r.keptNewer, rejected: r.rejected, rejects: r.rejects, kept: r.kept });
    }
    if (opts.exportFile) summary.exported = await writeVerdictCsv(ctx.store.db, opts.exportFile, opts.force);
    summary.seconds = seconds();
    if (summary.rejected) throw rejectedLines(opts.importFile!, summary);
    return summary;
  }

  const domains = asked ? [...new Set(explicit)] : await domainsNeedingCheck(ctx.store.db, ctx.now());
  const summary = await runDnsCheck(ctx, run, domains, asked, started);
  if (opts.exportFile) summary.exported = await writeVerdictCsv(ctx.store.db, opts.exportFile, opts.force);
  return summary;
}

/** An import with rejected lines fails (exit 1) after importing the valid ones: a file we wrote ourselves has none. */
function rejectedLines(file: string, s: MxCheckSummary): InputError {
  const shown = s.rejects!.slice(0, 20).map((r) => `line ${r.line}: ${r.reason}`);
  const more = s.rejects!.length > shown.length ? `\n  ... and ${s.rejects!.length - shown.length} more (every one in --json)` : '';
  return new InputError(
    `${file}: ${s.rejected} line(s) rejected; the other lines were read (${s.imported} imported, ${s.keptNewer} not imported because a newer verdict wins):\n  ${shown.join('\n  ')}${more}\n` +
      `Fix those lines (format: domain,verdict,reason,provider,mx,addresses,checked_at,expires_at,last_error) and import the file again: the lines already imported change nothing.`,
    { summary: s },
  );
}

function explicitDomain(raw: string, where: string): string {
  const d = normalizeDomain(raw);
  if (!d) throw new UsageError(`${where} "${raw}" is not a domain name (e.g. --domain example.com).`);
  return d;
}

function readDomainsFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read --domains ${file}: ${(e as Error).message}. Pass a text file with one domain per line.`, { cause: e });
  }
  const out: string[] = [];
  const bad: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const s = line.replace(/#.*/, '').trim();
    if (!s) return;
    const d = normalizeDomain(s);
    if (d) out.push(d);
    else if (bad.length < 10) bad.push(`line ${i + 1}: "${s}"`);
  });
  if (bad.length) throw new InputError(`--domains ${file} has lines that are not domain names:\n  ${bad.join('\n  ')}\nFix or comment them out (#) and run again.`);
  return out;
}
