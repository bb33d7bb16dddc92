import { Option, type Command } from 'commander';
import { runStageCommand } from '../cli/app.ts';
import { intFlag, positiveFlag } from '../cli/flags.ts';
import type { ConfigOverrides } from '../config.ts';
import { UsageError } from '../errors.ts';
import { parseServer } from '../mx/servers.ts';

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

export function register(program: Command): void {
  withDnsOptions(
    program
      .command('check-mx')
      .description('MX liveness and mailbox provider of recipient domains (only those whose verdict is missing or expired)')
      .addOption(new Option('--domain <domain>', 'check this domain now and print its verdict (repeatable)').argParser((v: string, prev: string[] = []) => [...prev, v]))
      .addOption(new Option('--domains <file>', 'check the domains listed in FILE (one per line, # comments) and print their verdicts')),
  )
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
      const overrides = await dnsFlagOverrides(opts);
      if (opts.import && (opts.domain?.length || opts.domains))
        throw new UsageError('--import loads verdicts without DNS: use it alone (or with --export), not with --domain/--domains.');
      // Loaded here, not at the top: `audience --help` must not load the stage.
      const { mxCheckStage } = await import('../mx/stage.ts');
      await runStageCommand(cmd, mxCheckStage, { domains: opts.domain, domainsFile: opts.domains, importFile: opts.import, exportFile: opts.export, force: Boolean(opts.force) }, { overrides });
    });
}

/** The DNS flags (`--dns`, `--concurrency`, `--qps`, `--timeout`), shared by check-mx and the nightly job. */
export type DnsFlags = Pick<CheckMxFlags, 'dns' | 'concurrency' | 'qps' | 'timeout'>;

/** The DNS flags as config overrides; bad flags are refused (exit 2) before the database is opened. */
export async function dnsFlagOverrides(opts: DnsFlags): Promise<ConfigOverrides> {
  const { splitList } = await import('../config.ts');
  const dnsServers = opts.dns !== undefined ? splitList(opts.dns) : undefined;
  if (opts.dns !== undefined && !dnsServers?.length) throw new UsageError('--dns needs at least one HOST:PORT');
  dnsServers?.forEach(parseServer);
  return {
    mx: {
      dnsServers,
      concurrency: intFlag('--concurrency', opts.concurrency, { min: 1 }),
      qps: positiveFlag('--qps', opts.qps, 'queries per second'),
      timeoutMs: intFlag('--timeout', opts.timeout, { min: 1, unit: 'milliseconds' }),
    },
  };
}

/** Adds the DNS options, declared once for check-mx and the nightly job. */
export function withDnsOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--dns <servers>', 'name servers HOST:PORT[,HOST:PORT] (default: AUDIENCE_DNS_SERVERS, else /etc/resolv.conf)'))
    .addOption(new Option('--concurrency <n>', 'domains in flight at once (config mx.concurrency, default 64)'))
    .addOption(new Option('--qps <n>', 'cap on DNS queries per second (config mx.qps, default no cap)'))
    .addOption(new Option('--timeout <ms>', 'deadline of one DNS query attempt in ms (config mx.timeoutMs, default 2000)'));
}
