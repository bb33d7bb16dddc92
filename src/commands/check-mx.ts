import { Option, type Command } from 'commander';
import { runCommand } from '../cli/app.ts';
import { UsageError } from '../errors.ts';
import { parseServer } from '../mx/servers.ts';
import type { MxCheckSummary } from '../mx/stage.ts';

interface CheckMxFlags {
  domain?: string[];
  domains?: string;
  dns?: string;
  concurrency?: string;
  qps?: string;
  timeout?: string;
  import?: string;
  export?: string;
  force?: boolean;
}

function positiveNumber(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got "${v}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('check-mx')
    .description('MX liveness and mailbox provider of recipient domains (only those whose verdict is missing or expired)')
    .addOption(new Option('--domain <domain>', 'check this domain now and print its verdict (repeatable)').argParser((v: string, prev: string[] = []) => [...prev, v]))
    .addOption(new Option('--domains <file>', 'check the domains listed in FILE (one per line, # comments) and print their verdicts'))
    .addOption(new Option('--dns <servers>', 'name servers HOST:PORT[,HOST:PORT] (default: AUDIENCE_DNS_SERVERS, else /etc/resolv.conf)'))
    .addOption(new Option('--concurrency <n>', 'domains in flight at once (config mx.concurrency, default 64)'))
    .addOption(new Option('--qps <n>', 'cap on DNS queries per second (config mx.qps, default no cap)'))
    .addOption(new Option('--timeout <ms>', 'deadline of one DNS query attempt in ms (config mx.timeoutMs, default 2000)'))
    .addOption(new Option('--import <file>', 'load verdicts from a CSV written by --export (no DNS); lines keep their observation time, the newer verdict wins'))
    .addOption(new Option('--export <file>', 'write every stored verdict to FILE as CSV (after the check or import, if any); a new file, see --force'))
    .addOption(new Option('--force', 'let --export replace a file that exists (never a symbolic link)'))
    .addHelpText(
      'after',
      `
Verdicts: deliverable (MX or implicit MX reaching a public address); dead, with a reason
(nxdomain, null_mx, no_mx_no_address, mx_hosts_missing, mx_hosts_bogon...); unknown (SERVFAIL,
REFUSED, timeout: never dead, re-checked after mx.unknownRecheckMinutes); unresolvable (unknown on
mx.unresolvableAfterDays distinct days). The build excludes dead/unresolvable domains (mx_dead),
unknown, unchecked or expired ones (mx_unknown), and Yahoo-hosted ones (yahoo_family).
Provider by MX: google, microsoft365, outlook_consumer, yahoo, apple, zoho, godaddy, proofpoint,
mimecast, barracuda, other, mixed.

CSV (--import/--export): domain,verdict,reason,provider,mx,addresses,checked_at,expires_at,last_error
with mx as "10 mx1.example.com;20 mx2.example.com". An empty expires_at follows the cache policy.
Which verdict wins, for imports and checks alike: the later checked_at; at the same time dead >
deliverable > unresolvable > unknown, then live DNS > import; a full tie keeps the stored one.
An import reports imported / not imported (a newer verdict wins) / rejected lines, each reject
with its line and reason; any rejected line makes it exit 1 (the valid lines are imported).

Canaries: before it believes a name server, a run asks it about names that must exist
(mx.canaries.mustExist; default gmail.com, outlook.com and maillog.ownDomains) and a random name
under mx.canaries.mustNotExistUnder (default "example") that cannot. A server that answers wrongly
is not used; with none left, or when one breaks during the run (checked again with every batch
and whenever the share of dead/unknown verdicts jumps), the run writes no dead verdict, marks the
domains unknown (resolver_untrusted), says which server answered what, and exits 1.

--export writes a new file (--force replaces one that exists; never through a link), with a
leading ' before a field a spreadsheet would run as a formula (= + - @); --import removes it.

Examples:
  audience check-mx
  audience check-mx --domain example.com --domain mesa-trucking.test --dns 127.0.0.1:5353
  audience check-mx --domains domains.txt --json
  audience check-mx --concurrency 128 --qps 500
  audience check-mx --import data-samples/mx-snapshot.csv
  audience check-mx --export mx-verdicts.csv`,
    )
    .action(async (opts: CheckMxFlags, cmd: Command) => {
      const { splitList } = await import('../config.ts');
      const dnsServers = opts.dns !== undefined ? splitList(opts.dns) : undefined;
      if (opts.dns !== undefined && !dnsServers?.length) throw new UsageError('--dns needs at least one HOST:PORT');
      // Refuse bad flags before opening the database.
      dnsServers?.forEach(parseServer);
      if (opts.import && (opts.domain?.length || opts.domains))
        throw new UsageError('--import loads verdicts without DNS: use it alone (or with --export), not with --domain/--domains.');
      const overrides = {
        mx: {
          dnsServers,
          concurrency: positiveNumber('--concurrency', opts.concurrency),
          qps: positiveNumber('--qps', opts.qps),
          timeoutMs: positiveNumber('--timeout', opts.timeout),
        },
      };
      await runCommand<MxCheckSummary>(
        cmd,
        { migrations: 'apply', overrides },
        async (ctx) => {
          const { checkMx } = await import('../../pipelines/mx-check.ts');
          return checkMx(ctx, { domains: opts.domain, domainsFile: opts.domains, importFile: opts.import, exportFile: opts.export, force: Boolean(opts.force) });
        },
        renderHuman,
      );
    });
}

function renderHuman(s: MxCheckSummary): string {
  const lines: string[] = [];
  for (const d of s.domains ?? [])
    lines.push(`${d.domain}  ${d.verdict} (${d.reason})${d.provider ? `  provider ${d.provider}` : ''}${d.mx.length ? `  mx ${d.mx.join(' ')}` : ''}${d.verdict !== 'deliverable' && d.error ? `\n    ${d.error}` : ''}`);
  const ran = s.imported !== undefined || s.dnsServers !== undefined;
  if (s.imported !== undefined) {
    lines.push(`imported ${s.imported} verdict(s); ${s.keptNewer} line(s) not imported because a newer verdict wins; ${s.rejected ?? 0} rejected`);
    for (const k of s.kept ?? [])
      lines.push(`  line ${k.line} ${k.domain} ${k.verdict} of ${k.checkedAt}: kept ${k.kept.verdict} (${k.kept.reason}) of ${k.kept.checkedAt} from ${k.kept.source === 'dns' ? 'DNS' : 'an import'}`);
    if (s.keptNewer > (s.kept?.length ?? 0)) lines.push(`  ... and ${s.keptNewer - (s.kept?.length ?? 0)} more`);
  } else if (s.dnsServers !== undefined) lines.push(`checked ${s.checked} domain(s) in ${s.seconds}s (run ${s.run_id})`);
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
