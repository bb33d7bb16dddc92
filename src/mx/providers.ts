/**
 * Who runs a domain's mailboxes, judged from its MX hosts. This is the one
 * suffix table of the project: the MX check classifies domains with it, and the bounce scrub
 * attributes relay hosts of mail.log lines with it. Pure data and pure functions: importing this
 * module has no side effects.
 *
 * The rule (a synthesis of KumoMTA's and reacher's): a domain belongs to provider X only when ALL
 * of its lowest-preference MX hosts end with one of X's suffixes on a label boundary, so that
 * `google.com.attacker.example` or `notgoogle.com` is never Google. Lowest-preference hosts that
 * belong to different providers make the domain `mixed`; hosts no suffix claims make it `other`.
 */

export const PROVIDERS = [
  'google',
  'microsoft365',
  'outlook_consumer',
  'yahoo',
  'apple',
  'zoho',
  'godaddy',
  'proofpoint',
  'mimecast',
  'barracuda',
  'other',
  'mixed',
] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Security gateways: the mailbox provider sits behind them, so they are kept apart from it. */
export const GATEWAY_PROVIDERS: ReadonlySet<Provider> = new Set(['proofpoint', 'mimecast', 'barracuda']);

/**
 * MX host suffix -> provider. Order does not matter: the longest matching suffix wins, which is
 * what keeps `olc.protection.outlook.com` (consumer Outlook.com) apart from
 * `protection.outlook.com` hosts of Microsoft 365. To add a provider: add its name to PROVIDERS and
 * its suffixes here, lower case, no leading or trailing dot.
 */
export const MX_SUFFIXES: ReadonlyArray<readonly [suffix: string, provider: Provider]> = [
  // Gmail (gmail-smtp-in.l.google.com) and Workspace (smtp.google.com, aspmx.l.google.com,
  // aspmx2.googlemail.com); very old Workspace domains still point at Postini (psmtp.com).
  ['google.com', 'google'],
  ['googlemail.com', 'google'],
  ['psmtp.com', 'google'],
  // Microsoft 365 tenants: <key>.mail.protection.outlook.com, DANE form <key>.<x>-v1.mx.microsoft,
  // legacy mail.eo.outlook.com and the German cloud.
  ['mail.protection.outlook.com', 'microsoft365'],
  ['mx.microsoft', 'microsoft365'],
  ['eo.outlook.com', 'microsoft365'],
  ['mail.protection.outlook.de', 'microsoft365'],
  // Outlook.com / Hotmail / Live consumer mailboxes.
  ['olc.protection.outlook.com', 'outlook_consumer'],
  // Yahoo, AOL, Verizon and Yahoo-hosted custom domains (mx-biz.mail.am0.yahoodns.net); legacy
  // small-business hosts under mail.yahoo.com. yahoo.co.jp (LY Corp) uses mail.yahoo.co.jp: not here.
  ['yahoodns.net', 'yahoo'],
  ['biz.mail.yahoo.com', 'yahoo'],
  // Apple iCloud, including iCloud+ custom domains.
  ['mail.icloud.com', 'apple'],
  // Zoho: one TLD per data centre.
  ['zoho.com', 'zoho'],
  ['zoho.eu', 'zoho'],
  ['zoho.in', 'zoho'],
  ['zoho.com.au', 'zoho'],
  ['zoho.jp', 'zoho'],
  ['zohocloud.ca', 'zoho'],
  // GoDaddy Workspace Email (its "Microsoft 365" plans use mail.protection.outlook.com).
  ['secureserver.net', 'godaddy'],
  // Gateways.
  ['pphosted.com', 'proofpoint'],
  ['ppe-hosted.com', 'proofpoint'],
  ['mimecast.com', 'mimecast'],
  ['mimecast.co.za', 'mimecast'],
  ['mimecast-offshore.com', 'mimecast'],
  ['barracudanetworks.com', 'barracuda'],
  ['cudasvc.com', 'barracuda'],
];

/** Lower case, no trailing dot: the one spelling of a host name we compare. */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.+$/, '');
}

/** True when `host` is `suffix` or ends with `.suffix` (label boundary). Both already normalized. */
export function hasSuffix(host: string, suffix: string): boolean {
  return host === suffix || (host.length > suffix.length && host.endsWith(suffix) && host[host.length - suffix.length - 1] === '.');
}

/**
 * The provider of one relay or MX host, or null when no suffix claims it. Used directly by the
 * bounce scrub for `relay=` hosts of mail.log lines (`relay=gmail-smtp-in.l.google.com[...]:25`
 * gives the host part only).
 */
export function providerOfRelayHost(host: string): Exclude<Provider, 'other' | 'mixed'> | null {
  const h = normalizeHost(host);
  if (!h) return null;
  let best: readonly [string, Provider] | undefined;
  for (const entry of MX_SUFFIXES) {
    if (hasSuffix(h, entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  return (best?.[1] as Exclude<Provider, 'other' | 'mixed'> | undefined) ?? null;
}

export interface MxRecord {
  exchange: string;
  priority: number;
}

/** The hosts of the lowest preference value (the ones a sender tries first), normalized. */
export function lowestPreferenceHosts(records: readonly MxRecord[]): string[] {
  if (!records.length) return [];
  const min = Math.min(...records.map((r) => r.priority));
  return [...new Set(records.filter((r) => r.priority === min).map((r) => normalizeHost(r.exchange)))].filter(Boolean);
}

/**
 * The provider of a domain from its lowest-preference MX hosts (pass those only; see
 * lowestPreferenceHosts). No hosts -> null (nothing to judge). Every host claimed by the same
 * provider -> that provider; none claimed -> `other`; anything else -> `mixed` (a vanity domain that
 * blends providers, or one provider in front of an unknown host).
 */
export function providerOfMxHosts(hosts: readonly string[]): Provider | null {
  const names = [...new Set(hosts.map(normalizeHost))].filter(Boolean);
  if (!names.length) return null;
  const found = new Set(names.map((h) => providerOfRelayHost(h) ?? 'other'));
  if (found.size === 1) return [...found][0]!;
  return 'mixed';
}
