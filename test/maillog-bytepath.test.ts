import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMaillog } from '../bench/maillog-generator.ts';
import { isGzip, type LogFile } from '../src/maillog/files.ts';
import { Linker } from '../src/maillog/linker.ts';
import { readChunks } from '../src/maillog/reader.ts';
import { TraditionalClock, ZoneClock } from '../src/maillog/timestamp.ts';
import { describeWithSamples, samplePath } from './helpers/samples.ts';

/**
 * The linker reads standard headers from bytes (header.ts) and everything else through parseLine.
 * The string path is the reference: over whole logs, the byte path must produce the very same
 * outcomes, sent counts, DKIM counters, line counts and open-message state, batch by batch.
 */
async function run(file: LogFile, bytePath: boolean, chunkBytes: number) {
  const zone = new ZoneClock('Europe/Berlin');
  const linker = new Linker({
    zone,
    campaignClients: new Map([['172.18.0.5', 'trucking']]),
    ownDomains: new Set(['firm-logistics.example']),
    maxOpen: 200_000,
    maxOpenAgeMs: 7 * 86_400_000,
  });
  linker.bytePath = bytePath;
  linker.beginFile(new TraditionalClock(zone, statSync(file.path).mtime));
  const batches = [];
  let lineNo = 0;
  for await (const chunk of readChunks(file, 0, { chunkBytes })) {
    lineNo += linker.feedChunk(chunk, lineNo + 1);
    batches.push(linker.takeBatch());
  }
  return { batches, state: linker.serialize(), stringPathLines: linker.stringPathLines };
}

async function expectSame(file: LogFile, chunkBytes = 1 << 16) {
  const bytes = await run(file, true, chunkBytes);
  const strings = await run(file, false, chunkBytes);
  expect(bytes.batches.length).toBe(strings.batches.length);
  for (let i = 0; i < bytes.batches.length; i++) expect(bytes.batches[i], `${file.path} batch ${i}`).toEqual(strings.batches[i]);
  expect(bytes.state).toEqual(strings.state);
  return bytes;
}

describeWithSamples('byte path = string path over the sample corpus', () => {
  const dirs = ['real', 'fragments', 'issues'];
  const files = () => dirs.flatMap((d) => readdirSync(samplePath(`maillog/${d}`)).map((f) => samplePath(`maillog/${d}/${f}`)));
  it('every file of ../shared/samples/maillog gives identical records both ways', async () => {
    const all = files();
    expect(all.length).toBeGreaterThanOrEqual(16);
    for (const p of all) await expectSame({ path: p, gz: isGzip(p), live: false });
  });
  it('small chunks (lines split across reads) change nothing', async () => {
    const p = samplePath('maillog/real/pflgviewer.mail.log');
    await expectSame({ path: p, gz: false, live: false }, 4096);
  });
});

describe('byte path = string path on generated and hand-made logs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bytepath-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the bench generator's bulk log (campaigns, deferrals, bounces, expiries, NDRs, noise)", async () => {
    const file = path.join(dir, 'gen.log');
    await generateMaillog(file, { lines: 60_000, seed: 7 });
    const r = await expectSame({ path: file, gz: false, live: false }, 1 << 18);
    // Every line of it has a standard header: the byte path read them all.
    expect(r.stringPathLines).toBe(0);
    const events = r.batches.flatMap((b) => b.events);
    // The log exercised what it should: outcomes of every status and linked campaign messages.
    expect(new Set(events.map((e) => e.status))).toEqual(new Set(['deferred', 'bounced', 'expired']));
    expect(events.some((e) => e.stream === 'trucking' && e.sender)).toBe(true);
    expect(r.batches.reduce((n, b) => n + [...b.daily.values()].reduce((s, d) => s + d.dkimSigned, 0), 0)).toBeGreaterThan(1000);
  });

  it('header shapes at the edge of the fast path: each is taken by one path and agrees with the other', async () => {
    const lines = [
      'Nov 20 00:00:01 app1 postfix/smtpd[1]: 1A2B3C4D5E: client=unknown[172.18.0.5]',
      'Nov 20 00:00:01 app1 opendkim[2]: 1A2B3C4D5E: DKIM-Signature field added (s=mail, d=x.example)',
      'Nov 20 00:00:02 app1 postfix/qmgr[3]: 1A2B3C4D5E: from=<Bounces@Firm-Logistics.example>, size=10, nrcpt=1 (queue active)',
      'Nov 20 00:00:03 app1 postfix/out05/smtp[4]: 1A2B3C4D5E: to=<A@Gmail.com>, relay=x[1.2.3.4]:25, delay=1, delays=0/0/0/1, dsn=4.7.28, status=deferred (421 4.7.28 rate limited UnsolicitedRateLimitError)\r',
      'Nov 20 00:00:04 app1 postfix/qmgr[3]: 1A2B3C4D5E: removed\r',
      'Nov 20 00:00:04 app1 postfix/qmgr[3]: 1A2B3C4D5E: removed ',
      'Nov  7 00:00:05 app1 postfix/smtpd[1]: 1A2B3C4D5F: client=unknown[172.18.0.5]',
      'Nov 07 00:00:05 app1 postfix/smtpd[1]: 1A2B3C4D60: client=unknown[172.18.0.5]',
      'Nov 20 00:00:06 app1 mail.info postfix/smtpd[1]: 1A2B3C4D61: client=unknown[172.18.0.5]',
      'Nov 20 0x:00:06 app1 postfix/smtpd[1]: 1A2B3C4D62: client=unknown[172.18.0.5]',
      'Foo 20 00:00:06 app1 postfix/smtpd[1]: 1A2B3C4D63: client=unknown[172.18.0.5]',
      '2026-11-20T00:00:07.123456+01:00 app1 postfix/smtpd[1]: 1A2B3C4D64: client=unknown[172.18.0.25]',
      '2026-11-20T00:00:08Z app1 postfix-2526/smtp[5]: 1A2B3C4D64: to=<b@example.com>, relay=none, delay=1, delays=0/0/1/0, dsn=5.1.2, tls=none, status=bounced (Host or domain name not found. Name service error for name=example.com type=MX: Host not found)',
      '2026-11-20 00:00:08 app1 postfix/smtpd[1]: 1A2B3C4D65: client=unknown[172.18.0.5]',
      '3:03:59 app1 mail.info postfix/smtpd[1]: 1A2B3C4D66: client=unknown[172.18.0.5]',
      'postfix-mailcow-1  | Nov 20 00:00:09 app1 postfix/smtpd[1]: 1A2B3C4D67: client=unknown[172.18.0.5]',
      'vps postfix/smtp[9]: 1A2B3C4D68: to=<c@example.org>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx.example.org[192.0.2.1]:25: Connection timed out)',
      'Nov 20 00:00:10 app1 postfix/smtpd[1 2]: 1A2B3C4D69: client=unknown[172.18.0.5]',
      'Nov 20 00:00:10 app1 postfix/smtpd[]: 1A2B3C4D6A: client=unknown[172.18.0.5]',
      'Nov 20 00:00:10 app1 /smtpd[1]: 1A2B3C4D6B: client=unknown[172.18.0.5]',
      'Nov 20 00:00:10 app1 postfix/[1]: 1A2B3C4D6C: client=unknown[172.18.0.5]',
      'Nov 20 00:00:11 hôte postfix/smtpd[1]: 1A2B3C4D6D: client=unknown[172.18.0.5]',
      'Nov 20 00:00:11 app1 postfix/smtp[1]: 1A2B3C4D6D: to=<jörg@exämple.de>, relay=mx.exämple.de[192.0.2.2]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (550 5.1.1 <jörg@exämple.de>: Recipient address rejected: User unknown)',
      'Nov 20 00:00:12 app1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.7]: 554 5.7.1 Relay access denied',
      'Nov 20 00:00:12 app1 postfix/smtpd[1]: 4PcV4K5FPLz3tBr: client=unknown[172.18.0.5]',
      'Nov 20 00:00:12 app1 postfix/smtpd[1]: warning: hostname unknown does not resolve',
      'Nov 20 00:00:13 app1 dovecot[7]: imap-login: Login: user=<x>',
      'Nov 20 00:00:13 app1 postfix/pickup[8]: 1A2B3C4D6E: uid=33 from=<www-data>',
      'Nov 20 00:00:13 app1 postfix/cleanup[8]: 1A2B3C4D6E: info: header X-Listmonk-Campaign: 12 from local',
      'Nov 20 00:00:14 app1 postfix/qmgr[3]: 1A2B3C4D6E: from=<www-data@app1.example>, status=expired, returned to sender',
      'Nov 20 00:00:15 app1 postfix/postsuper[9]: 1A2B3C4D6E: removed',
      'Nov 20 00:00:15 app1 postfix/local[9]: 1A2B3C4D6F: to=<root@app1.firm-logistics.example>, relay=local, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)',
      '# a comment',
      '',
      'Nov 20 00:00:16 app1 postfix/smtpd[1]:',
    ];
    const file = path.join(dir, 'edges.log');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await expectSame({ path: file, gz: false, live: false }, 1 << 16);
    const counts = r.batches[0]!.counts;
    expect(counts.lines).toBe(lines.length);
    expect(counts.received).toBeGreaterThan(5);
    // Both paths were exercised: the odd shapes went the string way, the standard ones did not.
    expect(r.stringPathLines).toBeGreaterThan(8);
    expect(r.stringPathLines).toBeLessThan(lines.length - 15);
  });
});
