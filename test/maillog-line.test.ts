import { describe, expect, it } from 'vitest';
import { cleanAddress, parseDelivery, relayHost, smtpStage } from '../src/maillog/delivery.ts';
import { parseLine, queueIdOf, type LogLine } from '../src/maillog/line.ts';
import { parseRfc3339, TraditionalClock, ZoneClock } from '../src/maillog/timestamp.ts';

function line(raw: string): LogLine {
  const l = parseLine(raw);
  if (typeof l === 'string') throw new Error(`not a log line: ${l}`);
  return l;
}

describe('syslog headers', () => {
  it('reads RFC 3339 with microseconds and offset, with or without a colon, and Z', () => {
    expect(parseRfc3339('2023-03-14T00:00:31.185246+01:00')).toBe(Date.UTC(2023, 2, 13, 23, 0, 31, 185));
    expect(parseRfc3339('2023-03-14T00:00:31+0100')).toBe(Date.UTC(2023, 2, 13, 23, 0, 31));
    expect(parseRfc3339('2026-06-17T19:31:22.123456-05:00')).toBe(Date.UTC(2026, 5, 18, 0, 31, 22, 123));
    expect(parseRfc3339('2026-06-17T19:31:22Z')).toBe(Date.UTC(2026, 5, 17, 19, 31, 22));
    expect(parseRfc3339('2026-06-17 19:31:22')).toBeNull();
  });

  it('reads traditional, space-padded, zero-padded (postlogd) and single-space days in the firm zone', () => {
    const zone = new ZoneClock('America/Chicago');
    const clock = new TraditionalClock(zone, new Date('2026-07-01T00:00:00Z'));
    // June in Chicago is CDT, UTC-5.
    expect(clock.parse('Jun 17 19:31:19')).toBe(Date.UTC(2026, 5, 18, 0, 31, 19));
    expect(clock.parse('Jun  7 19:31:19')).toBe(Date.UTC(2026, 5, 8, 0, 31, 19));
    expect(clock.parse('Jun 07 19:31:19')).toBe(Date.UTC(2026, 5, 8, 0, 31, 19));
    expect(clock.parse('Mar 7 12:00:00')).toBe(Date.UTC(2026, 2, 7, 18, 0, 0));
    expect(clock.parse('Foo 7 12:00:00')).toBeNull();
  });

  it('infers the year across New Year from the file mtime', () => {
    const zone = new ZoneClock('UTC');
    const clock = new TraditionalClock(zone, new Date('2027-01-02T08:00:00Z'));
    expect(new Date(clock.parse('Dec 31 23:59:59')!).toISOString()).toBe('2026-12-31T23:59:59.000Z');
    expect(new Date(clock.parse('Jan  1 00:00:01')!).toISOString()).toBe('2027-01-01T00:00:01.000Z');
    const december = new TraditionalClock(zone, new Date('2026-12-31T23:59:59Z'));
    expect(new Date(december.parse('Dec 15 07:46:27')!).toISOString()).toBe('2026-12-15T07:46:27.000Z');
  });

  it('splits host, syslog instance, service and program', () => {
    const a = line('Jun 17 19:31:21 host postfix-2526/smtp[125]: 4A1B2C3D50: to=<d@b.example>, relay=x, dsn=5.1.1, status=bounced (x)');
    expect([a.tsKind, a.host, a.instance, a.service, a.program]).toEqual(['traditional', 'host', 'postfix-2526', '', 'smtp']);
    const b = line('2026-06-17T19:31:22.123456-05:00 host postfix/out05/smtp[126]: 4A1B2C3D51: to=<e@b.example>');
    expect([b.tsKind, b.tsRaw, b.instance, b.service, b.program]).toEqual(['rfc3339', '2026-06-17T19:31:22.123456-05:00', 'postfix', 'out05', 'smtp']);
    const c = line('Mar  7 10:00:00 mail postfix-smo/submission/smtpd[1]: connect from x[192.0.2.1]');
    expect([c.instance, c.service, c.program]).toEqual(['postfix-smo', 'submission', 'smtpd']);
    const d = line('Mar  7 10:00:00 mail opendkim[688]: 3A1F0C2B13: DKIM-Signature field added (s=mail, d=firm.example)');
    expect([d.instance, d.program, d.message]).toEqual(['opendkim', 'opendkim', '3A1F0C2B13: DKIM-Signature field added (s=mail, d=firm.example)']);
  });

  it('accepts container prefixes, busybox headers and stripped headers; CRLF is removed', () => {
    const compose = line('postfix-mailcow-1  | Apr 14 14:13:57 1230db0bd489 postfix/smtp[32918]: 4A1B2C3D4E: to=<a@b.example>');
    expect([compose.tsKind, compose.host, compose.program]).toEqual(['traditional', '1230db0bd489', 'smtp']);
    const busybox = line('3:03:59 c49364445807 mail.info postfix/smtpd[2468]: connect from x');
    expect([busybox.tsKind, busybox.host, busybox.program]).toEqual(['none', 'c49364445807', 'smtpd']);
    const bare = line('vps postfix/smtp[5327]: E72EF24640FF: to=<a@b.example>');
    expect([bare.tsKind, bare.host, bare.program]).toEqual(['none', 'vps', 'smtp']);
    expect(line('Dec 15 07:46:27 phoenix postfix/pickup[28944]: B4C5A1100935: uid=0 from=<root>\r').message).toBe('B4C5A1100935: uid=0 from=<root>');
  });

  it('classifies what is not a program line', () => {
    expect(parseLine('# a comment')).toBe('comment');
    expect(parseLine('')).toBe('blank');
    expect(parseLine('\r')).toBe('blank');
    expect(parseLine('orig_to=<x@y>, relay=192.168.1.25[192.168.1.25]:25, status=sent')).toBe('malformed');
    expect(parseLine('Aug 30 07:05:12 activeweb1 dovecot: imap-login: Disconnected')).toBe('malformed');
  });
});

describe('queue ids', () => {
  it('takes short hex ids, long ids, and refuses words and NOQUEUE', () => {
    expect(queueIdOf('C3CD21F3E90: to=<x>')).toBe('C3CD21F3E90');
    expect(queueIdOf('81571C2D: removed')).toBe('81571C2D');
    expect(queueIdOf('4PcV4K5FPLz3tBr: client=x')).toBe('4PcV4K5FPLz3tBr');
    expect(queueIdOf('3mPVKl0Mhjz7sXv: removed')).toBe('3mPVKl0Mhjz7sXv');
    expect(queueIdOf('warning: hostname does not resolve')).toBe('');
    expect(queueIdOf('NOQUEUE: reject: RCPT from x')).toBe('');
    expect(queueIdOf('connect to mx.b.example[192.0.2.1]:25: Connection timed out')).toBe('');
    expect(queueIdOf('Untrusted TLS connection established to x')).toBe('');
  });
});

describe('delivery lines as key=value pairs', () => {
  it('reads the fields in any order, with tls= before dsn= (Postfix 3.11)', () => {
    const d = parseDelivery(
      'to=<f@b.example>, relay=mx.b.example[192.0.2.1]:25, delay=1.2, delays=0.01/0/0.6/0.59, tls=may, dsn=5.1.1, status=bounced (host mx.b.example[192.0.2.1] said: 550 5.1.1 <f@b.example>: Recipient address rejected: User unknown (in reply to RCPT TO command))',
    )!;
    expect(d).toMatchObject({ to: 'f@b.example', relay: 'mx.b.example[192.0.2.1]:25', tls: 'may', dsn: '5.1.1', status: 'bounced' });
    expect(d.reason).toBe('host mx.b.example[192.0.2.1] said: 550 5.1.1 <f@b.example>: Recipient address rejected: User unknown (in reply to RCPT TO command)');
    const reordered = parseDelivery('to=<a@b.example>, dsn=2.0.0, relay=local, conn_use=2, delay=0.1, status=sent (delivered to mailbox)')!;
    expect(reordered).toMatchObject({ to: 'a@b.example', relay: 'local', dsn: '2.0.0', status: 'sent', reason: 'delivered to mailbox' });
  });

  it('keeps orig_to, tolerates missing angle brackets, CSV quote artefacts and quoted local parts', () => {
    expect(parseDelivery('to=<root@h.example>, orig_to=<root>, relay=local, delay=0, dsn=2.0.0, status=sent (delivered)')!.origTo).toBe('root');
    expect(parseDelivery('to=recipient@externaldomain.com, relay=none, delay=1, dsn=4.4.1, status=deferred (connect to x: Connection timed out)')!.to).toBe(
      'recipient@externaldomain.com',
    );
    const csv = parseDelivery('to=<a@b.example>, relay=x[1.2.3.4]:25, delay=1, delays=1/1/1/1, dsn=5.0.0," status=bounced (host x said: 550 nope)')!;
    expect([csv.dsn, csv.status]).toEqual(['5.0.0', 'bounced']);
    expect(parseDelivery('to=<"a, b"@Example.COM>, relay=x, dsn=2.0.0, status=sent (ok)')!.to).toBe('"a, b"@example.com');
    expect(parseDelivery('to=<a@b.example>, relay=x, dsn=2.0.0, status=weird (ok)')).toBeNull();
    expect(parseDelivery('to=<a@b.example>, relay=x, dsn=2.0.0')).toBeNull();
  });

  it('extracts relay host and SMTP stage', () => {
    expect(relayHost('gmail-smtp-in.l.google.com[2a00:1450:4013:c06::1b]:25')).toBe('gmail-smtp-in.l.google.com');
    expect(relayHost('[192.0.2.1]:25')).toBe('192.0.2.1');
    expect(relayHost('local')).toBe('local');
    expect(smtpStage('host x said: 550 5.7.1 blocked (in reply to end of DATA command)')).toBe('end of DATA');
    expect(smtpStage('host x refused to talk to me: 554 go away')).toBe('greeting');
    expect(cleanAddress(' <Dispatch@Blue-Ox-Hauling.TEST> ')).toBe('dispatch@blue-ox-hauling.test');
  });
});
