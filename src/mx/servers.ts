/**
 * Which name servers the MX check asks: --dns, else AUDIENCE_DNS_SERVERS (both land in
 * config.mx.dnsServers), else the `nameserver` lines of /etc/resolv.conf. Never a built-in public
 * resolver: dns2's defaults (8.8.8.8, 114.114.114.114) must never be used.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, UsageError } from '../errors.ts';
import type { NameServer } from './resolver.ts';

/** `HOST`, `HOST:PORT`, `[V6]` or `[V6]:PORT` -> a server (port 53 by default). */
export function parseServer(spec: string): NameServer {
  const s = spec.trim();
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(s);
  const plain = /^([^\s:\[\],]+)(?::(\d{1,5}))?$/.exec(s);
  const m = v6 ?? plain;
  if (!m) throw new UsageError(`"${spec}" is not a name server. Use HOST or HOST:PORT, e.g. --dns 127.0.0.1:5353 (IPv6: [::1]:53).`);
  const port = m[2] ? Number(m[2]) : 53;
  if (port < 1 || port > 65535) throw new UsageError(`"${spec}": port must be 1-65535.`);
  return { host: m[1]!, port };
}

/** The `nameserver` entries of a resolv.conf text (IPv6 zone ids dropped). */
export function parseResolvConf(text: string): NameServer[] {
  const out: NameServer[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push({ host: m[1]!.replace(/%.*$/, ''), port: 53 });
  }
  return out;
}

export function resolveNameServers(configured: readonly string[], resolvConfPath = '/etc/resolv.conf'): NameServer[] {
  if (configured.length) return configured.map(parseServer);
  let fromFile: NameServer[] = [];
  try {
    if (existsSync(resolvConfPath)) fromFile = parseResolvConf(readFileSync(resolvConfPath, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${resolvConfPath} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Pass --dns HOST:PORT or set AUDIENCE_DNS_SERVERS.`);
  }
  if (!fromFile.length)
    throw new ConfigError(`no name server configured and ${resolvConfPath} lists none. Pass --dns HOST:PORT or set AUDIENCE_DNS_SERVERS.`);
  return fromFile;
}
