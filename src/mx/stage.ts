/**
 * The `check-mx` stage: import/export of the verdict cache, or a DNS check (dns-run.ts) of the
 * candidate domains needing a verdict (missing or expired) or of the domains named on the command
 * line. Returns the run summary (summary.ts, the --json contract).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { StageContext } from '../context.ts';
import { normalizeDomain } from '../email/normalize.ts';
import { InputError, UsageError } from '../errors.ts';
import { checkOutputTarget } from '../files/safe-output.ts';
import type { RunHandle } from '../runs.ts';
import { runStage, type Envelope, type Stage } from '../stage.ts';
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

const mxCheckOptions = z.object({
  domains: z.array(z.string()).readonly().optional(),
  domainsFile: z.string().optional(),
  importFile: z.string().optional(),
  exportFile: z.string().optional(),
  force: z.boolean().optional(),
});

/** `run_id` was this summary's name for the run id before the envelope's runId; kept for one release. */
export type MxCheckOldKeys = { run_id: number };
export type MxCheckEnvelope = Envelope<MxCheckSummary, MxCheckOldKeys>;

type PreparedMxCheck = MxCheckOptions & { dns: readonly string[] | null | undefined };

export const mxCheckStage: Stage<MxCheckOptions, MxCheckSummary, PreparedMxCheck, MxCheckOldKeys> = {
  name: 'check-mx',
  options: mxCheckOptions,
  migrations: 'apply',
  ledger: true,
  prepare(ctx, o) {
    // Before any DNS work: an export that could not be written is refused now, not after the check.
    if (o.exportFile) checkOutputTarget(o.exportFile, { force: Boolean(o.force), flag: '--export' });
    // The ledger records the name servers asked (from config; --dns overrides it).
    return { ...o, dns: ctx.config.mx.dnsServers };
  },
  args: (o) => ({ domains: o.domains?.length ?? 0, domainsFile: o.domainsFile ?? null, import: o.importFile ?? null, export: o.exportFile ?? null, dns: o.dns }),
  run: (ctx, run, o) => runMxCheck(ctx, run!, o),
  render: renderMxCheck,
  renames: [['run_id', 'runId']],
};

/** MX liveness and provider of the candidate domains (or of the ones named), as one `check-mx` run. */
export function checkMx(ctx: StageContext, opts: MxCheckOptions = {}): Promise<MxCheckEnvelope> {
  return runStage(ctx, mxCheckStage, opts);
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

/** The human text of a check, an import or an export. */
export function renderMxCheck(s: MxCheckEnvelope): string {
  const lines: string[] = [];
  for (const d of s.domains ?? [])
    lines.push(`${d.domain}  ${d.verdict} (${d.reason})${d.provider ? `  provider ${d.provider}` : ''}${d.mx.length ? `  mx ${d.mx.join(' ')}` : ''}${d.verdict !== 'deliverable' && d.error ? `\n    ${d.error}` : ''}`);
  const ran = s.imported !== undefined || s.dnsServers !== undefined;
  if (s.imported !== undefined) {
    lines.push(`imported ${s.imported} verdict(s); ${s.keptNewer} line(s) not imported because a newer verdict wins; ${s.rejected ?? 0} rejected`);
    for (const k of s.kept ?? [])
      lines.push(`  line ${k.line} ${k.domain} ${k.verdict} of ${k.checkedAt}: kept ${k.kept.verdict} (${k.kept.reason}) of ${k.kept.checkedAt} from ${k.kept.source === 'dns' ? 'DNS' : 'an import'}`);
    if (s.keptNewer > (s.kept?.length ?? 0)) lines.push(`  ... and ${s.keptNewer - (s.kept?.length ?? 0)} more`);
  } else if (s.dnsServers !== undefined) lines.push(`checked ${s.checked} domain(s) in ${s.seconds}s (run ${s.runId})`);
  if (ran) {
    const v = s.verdicts;
    lines.push(`  verdicts: ${v.deliverable} deliverable, ${v.dead} dead, ${v.unknown} unknown, ${v.unresolvable} unresolvable`);
    const providers = Object.entries(s.byProvider).sort((a, b) => b[1] - a[1]);
    if (providers.length) lines.push(`  providers: ${providers.map(([p, n]) => `${p} ${n}`).join(', ')}`);
  }
  if (s.canaries) {
    const c = s.canaries;
    lines.push(`  canaries: ${c.servers.map((x) => `${x.server} ${x.status}`).join(', ')} (asked ${c.checks} time(s)${c.guardTrips ? `, ${c.guardTrips} by the dead-rate guard` : ''})`);
    if (s.imported === undefined && s.keptNewer) lines.push(`  ${s.keptNewer} observation(s) not written: the stored verdict is newer (was the clock set back?)`);
  }
  if (s.exported !== undefined) lines.push(`exported ${s.exported} verdict(s)`);
  return lines.join('\n');
}
