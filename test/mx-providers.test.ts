import { describe, expect, it } from 'vitest';
import { hasSuffix, lowestPreferenceHosts, MX_SUFFIXES, PROVIDERS, providerOfMxHosts, providerOfRelayHost } from '../src/mx/providers.ts';
import { parseResolvConf, parseServer } from '../src/mx/servers.ts';

describe('provider by MX host', () => {
  it.each([
    [['gmail-smtp-in.l.google.com', 'alt1.gmail-smtp-in.l.google.com'], 'google'],
    [['smtp.google.com'], 'google'],
    [['ASPMX.L.GOOGLE.COM.', 'aspmx2.googlemail.com'], 'google'],
    [['contoso-com.mail.protection.outlook.com'], 'microsoft365'],
    [['contosotest-com.o-v1.mx.microsoft'], 'microsoft365'],
    [['hotmail-com.olc.protection.outlook.com'], 'outlook_consumer'],
    [['eur.olc.protection.outlook.com'], 'outlook_consumer'],
    [['mta5.am0.yahoodns.net', 'mta6.am0.yahoodns.net', 'mta7.am0.yahoodns.net'], 'yahoo'],
    [['mx-aol.mail.gm0.yahoodns.net'], 'yahoo'],
    [['mx-biz.mail.am0.yahoodns.net'], 'yahoo'],
    [['mx01.mail.icloud.com', 'mx02.mail.icloud.com'], 'apple'],
    [['mx.zoho.com', 'mx2.zoho.com'], 'zoho'],
    [['mx.zoho.eu'], 'zoho'],
    [['mailstore1.secureserver.net', 'smtp.secureserver.net'], 'godaddy'],
    [['mxa-00123456.gslb.pphosted.com', 'mxb-00123456.gslb.pphosted.com'], 'proofpoint'],
    [['mx1-us1.ppe-hosted.com'], 'proofpoint'],
    [['us-smtp-inbound-1.mimecast.com', 'us-smtp-inbound-2.mimecast.com'], 'mimecast'],
    [['d123456a.ess.barracudanetworks.com'], 'barracuda'],
    [['mx.mesa-trucking.test'], 'other'],
    [['aspmx.l.google.com', 'mx.mesa-trucking.test'], 'mixed'],
    [['aspmx.l.google.com', 'contoso-com.mail.protection.outlook.com'], 'mixed'],
  ] as const)('%j -> %s', (hosts, provider) => {
    expect(providerOfMxHosts(hosts)).toBe(provider);
  });

  it('matches on label boundaries only: lookalikes are other', () => {
    expect(providerOfMxHosts(['aspmx.l.google.com.attacker.example'])).toBe('other');
    expect(providerOfMxHosts(['mx.notgoogle.com'])).toBe('other');
    expect(providerOfMxHosts(['evilyahoodns.net'])).toBe('other');
    expect(providerOfMxHosts(['mail.protection.outlook.com.evil.test'])).toBe('other');
    expect(hasSuffix('google.com', 'google.com')).toBe(true);
    expect(hasSuffix('xgoogle.com', 'google.com')).toBe(false);
  });

  it('the longest suffix wins: consumer Outlook.com is not Microsoft 365', () => {
    expect(providerOfRelayHost('outlook-com.olc.protection.outlook.com')).toBe('outlook_consumer');
    expect(providerOfRelayHost('x.mail.protection.outlook.com')).toBe('microsoft365');
  });

  it('relay hosts of mail.log lines: provider or null', () => {
    expect(providerOfRelayHost('gmail-smtp-in.l.google.com')).toBe('google');
    expect(providerOfRelayHost('MTA7.AM0.YAHOODNS.NET.')).toBe('yahoo');
    expect(providerOfRelayHost('mail.example.org')).toBeNull();
    expect(providerOfRelayHost('')).toBeNull();
  });

  it('no hosts: no provider', () => {
    expect(providerOfMxHosts([])).toBeNull();
  });

  it('lowest-preference hosts only, normalized and unique', () => {
    expect(
      lowestPreferenceHosts([
        { exchange: 'B.example.', priority: 10 },
        { exchange: 'a.example', priority: 10 },
        { exchange: 'b.example', priority: 10 },
        { exchange: 'backup.example', priority: 20 },
      ]),
    ).toEqual(['b.example', 'a.example']);
  });

  it('the suffix table is well-formed: known providers, lower case, no dots at the ends', () => {
    for (const [suffix, provider] of MX_SUFFIXES) {
      expect(PROVIDERS).toContain(provider);
      expect(suffix).toBe(suffix.toLowerCase());
      expect(suffix).not.toMatch(/^\.|\.$/);
    }
  });
});

describe('name servers', () => {
  it('parses HOST, HOST:PORT and [V6]:PORT', () => {
    expect(parseServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseServer('10.0.0.1')).toEqual({ host: '10.0.0.1', port: 53 });
    expect(parseServer('[::1]:5300')).toEqual({ host: '::1', port: 5300 });
    expect(() => parseServer('a b')).toThrow(/HOST:PORT/);
  });

  it('reads the nameserver lines of resolv.conf', () => {
    expect(parseResolvConf('# comment\nsearch x\nnameserver 10.255.255.53\nnameserver fe80::1%eth0\n')).toEqual([
      { host: '10.255.255.53', port: 53 },
      { host: 'fe80::1', port: 53 },
    ]);
  });
});
