/**
 * `dns`: every name server check-mx would ask (--dns, AUDIENCE_DNS_SERVERS, mx.dnsServers, else
 * /etc/resolv.conf) answers its canaries (src/mx/canaries.ts: names that exist get NOERROR, a
 * random name that cannot exist gets NXDOMAIN), each on its own, with the latency of its MX answer.
 * One attempt per question, bounded by the time box: doctor reports a slow server, it does not wait
 * it out.
 */
import { AudienceError } from '../errors.ts';
import { canaryFix, checkResolver, describeFailures } from '../mx/canaries.ts';
import { fail, pass, type CheckOutcome } from './check.ts';
import type { DoctorContext } from './context.ts';
import type { CheckSpec } from './run-checks.ts';

export function dnsCheck(ctx: DoctorContext): CheckSpec {
  const from = ctx.config.mx.dnsServers.length ? 'flags or config' : 'resolv.conf';
  return {
    name: 'dns',
    timeoutFix: canaryFix(from),
    async run(): Promise<CheckOutcome> {
      // One attempt per question, ending well inside the time box so the report is the server's, not the box's.
      const timeoutMs = Math.max(50, Math.min(ctx.config.mx.timeoutMs, Math.floor(ctx.timeoutMs * 0.8)));
      let report;
      try {
        report = await checkResolver(ctx.config, { timeoutMs, retries: 0 });
      } catch (e) {
        if (!(e instanceof AudienceError)) throw e;
        return fail(e.message, 'list the name servers check-mx should ask in AUDIENCE_DNS_SERVERS (HOST:PORT, comma-separated), or fix /etc/resolv.conf.');
      }
      const servers = report.servers.map((s) => {
        // The MX question about the first name that must exist: the answer a check-mx run waits for.
        const mx = s.probes.find((p) => p.type === 'MX' && p.expect === 'exists') ?? s.probes[0]!;
        return { server: s.server, status: s.status, mx: mx.name, got: mx.got, ms: mx.ms };
      });
      const lines = servers.map((s) => `${s.server} ${s.status === 'trusted' ? 'answers' : s.status === 'lied' ? 'answers WRONGLY' : 'does NOT answer'} (MX ${s.mx}: ${s.got} in ${s.ms} ms)`);
      const data = { source: from, timeoutMs, servers };
      const bad = describeFailures(report);
      if (bad.length) return fail(`${lines.join('; ')}. ${bad.join('; ')}.`, canaryFix(from), data);
      return pass(lines.join('; ') + '.', { data });
    },
  };
}
