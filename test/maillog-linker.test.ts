import { describe, expect, it } from 'vitest';
import { expandState, Linker, type LinkerOptions, type LinkerState, type LinkerStateV1, type LinkerStateV3 } from '../src/maillog/linker.ts';
import { TraditionalClock, ZoneClock } from '../src/maillog/timestamp.ts';

const zone = new ZoneClock('UTC');

function linker(over: Partial<LinkerOptions> = {}, state?: LinkerState) {
  const l = new Linker(
    { zone, campaignClients: new Map([['172.18.0.5', 'trucking']]), ownDomains: new Set(['firm.example']), maxOpen: 1000, maxOpenAgeMs: 7 * 86_400_000, ...over },
    state,
  );
  l.beginFile(new TraditionalClock(zone, new Date('2026-12-31T00:00:00Z')));
  return l;
}

function feed(l: Linker, text: string) {
  let n = 0;
  for (const line of text.trim().split('\n')) l.feed(line.trim(), ++n);
  return l.takeBatch();
}

const T = (s: number) => `2026-11-25T10:00:${String(s).padStart(2, '0')}.000000+00:00`;

const CAMPAIGN = `
${T(1)} app1 postfix/smtpd[10]: 3A1F0C2B10: client=unknown[172.18.0.5], sasl_method=PLAIN, sasl_username=listmonk
${T(2)} app1 postfix/cleanup[11]: 3A1F0C2B10: message-id=<abc@firm.example>
${T(3)} app1 opendkim[12]: 3A1F0C2B10: DKIM-Signature field added (s=mail, d=firm.example)
${T(4)} app1 postfix/qmgr[13]: 3A1F0C2B10: from=<bounces@firm.example>, size=100, nrcpt=2 (queue active)
${T(5)} app1 postfix/out05/smtp[14]: Untrusted TLS connection established to mx.b.example[192.0.2.1]:25: TLSv1.3 with cipher X
${T(5)} app1 postfix/out05/smtp[14]: 3A1F0C2B10: host mx.b.example[192.0.2.1] said: 421 4.7.0 try later (in reply to MAIL FROM command)
${T(6)} app1 postfix/out05/smtp[14]: 3A1F0C2B10: to=<a@b.example>, relay=mx.b.example[192.0.2.1]:25, delay=1, delays=0/0/0.5/0.5, tls=may, dsn=2.0.0, status=sent (250 ok)
${T(7)} app1 postfix/out05/smtp[14]: 3A1F0C2B10: to=<c@b.example>, relay=mx.b.example[192.0.2.1]:25, delay=1, delays=0/0/0.5/0.5, dsn=4.4.2, status=deferred (lost connection with mx.b.example[192.0.2.1] while sending RCPT TO)
${T(8)} app1 postfix/qmgr[13]: 3A1F0C2B10: from=<bounces@firm.example>, status=expired, returned to sender
${T(9)} app1 postfix/qmgr[13]: 3A1F0C2B10: removed
`;

describe('message linker', () => {
  it('links client, stream, DKIM and sender to outcomes; only final lines are outcomes; expiry closes what is pending', () => {
    const b = feed(linker(), CAMPAIGN);
    expect(b.counts).toMatchObject({ sent: 1, deferred: 1, expired: 1, received: 1 });
    expect(b.sent).toEqual([{ day: '2026-11-25', transport: 'postfix/out05/smtp', stream: 'trucking', ownDomain: false, count: 1 }]);
    expect(b.sentDomains).toEqual(new Map([['b.example', Date.parse('2026-11-25T10:00:06Z')]]));
    const [deferred, expired] = b.events;
    expect(deferred).toMatchObject({ status: 'deferred', recipient: 'c@b.example', class: 'transient_network', clientIp: '172.18.0.5', stream: 'trucking', sender: 'bounces@firm.example', provider: null });
    expect(expired).toMatchObject({ status: 'expired', recipient: 'c@b.example', class: 'expired', causeClass: 'transient_network', dsn: '4.4.2' });
    expect(b.events).toHaveLength(2); // a@ was sent: not expired
    expect(b.daily.get('2026-11-25')).toEqual({ campaignMessages: 1, dkimSigned: 1, byStream: new Map([['trucking', { campaignMessages: 1, dkimSigned: 1 }]]) });
  });

  it('counts DKIM coverage per stream: each client its own, header-marked mail from an unmapped client as `listmonk`', () => {
    const b = feed(
      linker({ campaignClients: new Map([['172.18.0.5', 'trucking'], ['172.18.0.25', 'healthcare']]) }),
      `
${T(1)} app1 postfix/smtpd[10]: 6A0000000A: client=unknown[172.18.0.5]
${T(1)} app1 opendkim[12]: 6A0000000A: DKIM-Signature field added (s=mail, d=firm.example)
${T(2)} app1 postfix/qmgr[13]: 6A0000000A: removed
${T(3)} app1 postfix/smtpd[10]: 6A0000000B: client=unknown[172.18.0.25]
${T(4)} app1 postfix/qmgr[13]: 6A0000000B: removed
${T(5)} app1 postfix/smtpd[10]: 6A0000000C: client=unknown[172.18.0.25]
${T(5)} app1 opendkim[12]: 6A0000000C: DKIM-Signature field added (s=mail, d=firm.example)
${T(6)} app1 postfix/qmgr[13]: 6A0000000C: removed
${T(7)} app1 postfix/smtpd[10]: 6A0000000D: client=unknown[172.18.0.99]
${T(7)} app1 postfix/cleanup[11]: 6A0000000D: info: header X-Listmonk-Campaign: 7 from unknown[172.18.0.99]; from=<bounces@firm.example> to=<a@b.example>
${T(8)} app1 postfix/qmgr[13]: 6A0000000D: removed
${T(9)} app1 postfix/smtpd[10]: 6A0000000E: client=localhost[127.0.0.1]
${T(9)} app1 postfix/qmgr[13]: 6A0000000E: removed
`,
    );
    expect(b.daily.get('2026-11-25')).toEqual({
      campaignMessages: 4,
      dkimSigned: 2,
      byStream: new Map([
        ['trucking', { campaignMessages: 1, dkimSigned: 1 }],
        ['healthcare', { campaignMessages: 2, dkimSigned: 1 }],
        ['listmonk', { campaignMessages: 1, dkimSigned: 0 }],
      ]),
    });
  });

  it('a recipient named like a prototype member is pending like any other, across a saved state', () => {
    const lines = CAMPAIGN.replace('to=<c@b.example>', 'to=<__proto__>').trim().split('\n');
    // Deferred in one run, saved with the state, expired in the next.
    const first = linker();
    let n = 0;
    for (const line of lines.slice(0, 8)) first.feed(line.trim(), ++n);
    const state = JSON.parse(JSON.stringify(first.serialize())) as LinkerState;
    const b = feed(linker({}, state), lines.slice(8).join('\n'));
    expect(b.events).toMatchObject([{ status: 'expired', recipient: '__proto__', causeClass: 'transient_network', dsn: '4.4.2' }]);
  });

  it('a reused short queue id after `removed` starts a new message; instances never share state', () => {
    const b = feed(
      linker(),
      `
${T(1)} app1 postfix/smtpd[10]: 4B2C3D4E5F: client=unknown[172.18.0.5]
${T(2)} app1 postfix/qmgr[13]: 4B2C3D4E5F: removed
${T(3)} app1 postfix/smtpd[10]: 4B2C3D4E5F: client=localhost[127.0.0.1]
${T(4)} app1 postfix-2526/smtpd[20]: 4B2C3D4E60: client=unknown[172.18.0.5]
${T(5)} app1 postfix/smtp[14]: 4B2C3D4E5F: to=<x@gmail.com>, relay=gmail-smtp-in.l.google.com[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (host gmail-smtp-in.l.google.com[192.0.2.9] said: 550 5.1.1 nope (in reply to RCPT TO command))
${T(6)} app1 postfix/smtp[14]: 4B2C3D4E60: to=<y@gmail.com>, relay=gmail-smtp-in.l.google.com[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (host gmail-smtp-in.l.google.com[192.0.2.9] said: 550 5.1.1 nope (in reply to RCPT TO command))
`,
    );
    expect(b.events[0]).toMatchObject({ recipient: 'x@gmail.com', clientIp: '127.0.0.1', stream: null, provider: 'google', relayHost: 'gmail-smtp-in.l.google.com' });
    // postfix/smtp belongs to instance "postfix": the 2526 message is another queue.
    expect(b.events[1]).toMatchObject({ recipient: 'y@gmail.com', clientIp: null });
    expect(b.daily.get('2026-11-25')).toEqual({ campaignMessages: 1, dkimSigned: 0, byStream: new Map([['trucking', { campaignMessages: 1, dkimSigned: 0 }]]) });
  });

  it("reports the firm's own mail apart: local agents and configured own domains", () => {
    const b = feed(
      linker(),
      `
${T(1)} app1 postfix/local[30]: 5C3D4E5F60: to=<cron@app1.firm.example>, orig_to=<cron>, relay=local, delay=0, delays=0/0/0/0, dsn=5.1.1, status=bounced (unknown user: "cron")
${T(2)} app1 postfix/smtp[31]: 5C3D4E5F61: to=<ops@firm.example>, relay=mx.firm.example[192.0.2.3]:25, delay=0, delays=0/0/0/0, dsn=5.1.1, status=bounced (host mx said: 550 5.1.1 unknown (in reply to RCPT TO command))
${T(3)} app1 postfix/smtp[31]: 5C3D4E5F62: to=<ops@b.example>, relay=mx.b.example[192.0.2.3]:25, delay=0, delays=0/0/0/0, dsn=5.1.1, status=bounced (host mx said: 550 5.1.1 unknown (in reply to RCPT TO command))
`,
    );
    expect(b.counts).toMatchObject({ bounced: 1, ownBounced: 2 });
    expect(b.events.map((e) => e.ownDomain)).toEqual([true, true, false]);
  });

  it('keeps memory bounded: the oldest open messages are evicted beyond maxOpen and beyond the age limit', () => {
    const l = linker({ maxOpen: 100, maxOpenAgeMs: 3600_000 });
    let n = 0;
    for (let i = 0; i < 20_000; i++) {
      const ts = new Date(Date.UTC(2026, 10, 25) + i * 1000).toISOString().replace('Z', '+00:00');
      l.feed(`${ts} app1 postfix/smtpd[10]: ${(0xa00000 + i).toString(16).toUpperCase()}: client=unknown[172.18.0.5]`, ++n);
    }
    expect(l.openMessages).toBeLessThanOrEqual(100 + 5000);
    // Evicted campaign messages still count for DKIM coverage (unsigned here).
    const b = l.takeBatch();
    const total = [...b.daily.values()].reduce((s, c) => s + c.campaignMessages, 0);
    expect(total + l.openMessages).toBe(20_000);
  });

  it('open messages keep their insertion order through opens, closes, reused queue ids, evictions and restarts (a reference model)', () => {
    // The model: a Map's insertion order (a reused key goes to the end once deleted), as the Set
    // the linker kept before its list; the host index as a Map from qid to the latest key.
    let seed = 7;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const maxOpen = 40;
    let l = linker({ maxOpen });
    const order = new Map<string, { signed: boolean; sender: string | null }>();
    const hostIdx = new Map<string, string>();
    let created = 0;
    let sweeps = 0;
    let lineNo = 0;
    const keyOf = (inst: string, qid: string) => `app1\t${inst}\t${qid}`;
    const close = (key: string) => {
      order.delete(key);
      const qid = key.slice(key.lastIndexOf('\t') + 1);
      if (hostIdx.get(qid) === key) hostIdx.delete(qid);
    };
    const create = (key: string) => {
      order.set(key, { signed: false, sender: null });
      hostIdx.set(key.slice(key.lastIndexOf('\t') + 1), key);
      if (++created >= 5000) {
        created = 0;
        sweeps++;
        for (const k of [...order.keys()]) {
          if (order.size <= maxOpen) break;
          close(k);
        }
      }
    };
    for (let i = 0; i < 100_000; i++) {
      const inst = rnd(4) === 0 ? 'postfix-out' : 'postfix';
      const qid = (0xa00000 + rnd(120)).toString(16).toUpperCase();
      const key = keyOf(inst, qid);
      const ts = T(i % 60);
      switch (rnd(5)) {
        case 0:
          l.feed(`${ts} app1 ${inst}/smtpd[10]: ${qid}: client=unknown[192.0.2.${rnd(9)}]`, ++lineNo);
          if (order.has(key)) close(key);
          create(key);
          break;
        case 1: {
          const sender = `s${rnd(3)}@firm.example`;
          l.feed(`${ts} app1 ${inst}/qmgr[13]: ${qid}: from=<${sender}>, size=1, nrcpt=1 (queue active)`, ++lineNo);
          if (!order.has(key)) create(key);
          const m = order.get(key)!;
          m.sender ??= sender;
          break;
        }
        case 2: {
          l.feed(`${ts} app1 opendkim[12]: ${qid}: DKIM-Signature field added (s=mail, d=firm.example)`, ++lineNo);
          const k = hostIdx.get(qid);
          if (k) order.get(k)!.signed = true;
          break;
        }
        default:
          l.feed(`${ts} app1 ${inst}/qmgr[13]: ${qid}: removed`, ++lineNo);
          if (order.has(key)) close(key);
      }
      if (i % 29_989 === 0) {
        // A restart: the saved state, read back, must go on in the same order.
        l.takeBatch();
        l = linker({ maxOpen }, JSON.parse(JSON.stringify(l.serialize())));
        // A new linker counts toward its next sweep from zero.
        created = 0;
      }
      if (i % 101 === 0 || i === 99_999) {
        const saved = expandState(l.serialize()).messages;
        expect(saved.map((m) => m[0])).toEqual([...order.keys()]);
        expect(saved.map((m) => [(m[6] & 2) !== 0, m[7], (m[6] & 4) !== 0])).toEqual(
          [...order].map(([k, m]) => [m.signed, m.sender, hostIdx.get(k.slice(k.lastIndexOf('\t') + 1)) === k]),
        );
        expect(l.openMessages).toBe(order.size);
      }
    }
    expect(sweeps).toBeGreaterThan(2);
  });

  it('a state saved in an earlier format (v1, v2) restores to the same linker, and v3 expands to the v2 of the same messages', () => {
    const lines = CAMPAIGN.trim().split('\n');
    for (let cut = 1; cut < lines.length; cut++) {
      const first = linker();
      feed(first, lines.slice(0, cut).join('\n'));
      const v3 = first.serialize();
      const v2 = expandState(JSON.parse(JSON.stringify(v3)) as LinkerStateV3);
      // What v1 wrote: the open map's entries and the host+qid index in full.
      const v1: LinkerStateV1 = {
        version: 1,
        lastTs: v2.lastTs,
        messages: v2.messages.map(([key, host, qid, firstTs, clientIp, stream, flags, sender, pending]) => [
          key,
          { host, qid, firstTs, clientIp, stream, campaign: (flags & 1) !== 0, signed: (flags & 2) !== 0, sender, pending },
        ]),
        byHostQid: v2.messages.filter((m) => m[6] & 4).map((m) => [m[1] + '\t' + m[2], m[0]]),
      };
      const fromV1 = linker({}, JSON.parse(JSON.stringify(v1)));
      const fromV2 = linker({}, JSON.parse(JSON.stringify(v2)));
      const fromV3 = linker({}, JSON.parse(JSON.stringify(v3)));
      expect(fromV1.serialize()).toEqual(v3);
      expect(fromV2.serialize()).toEqual(v3);
      expect(fromV3.serialize()).toEqual(v3);
      const rest = feed(fromV3, lines.slice(cut).join('\n'));
      expect(feed(fromV1, lines.slice(cut).join('\n'))).toEqual(rest);
      expect(feed(fromV2, lines.slice(cut).join('\n'))).toEqual(rest);
    }
  });

  it('state survives a restart: two runs split anywhere give the events of one', () => {
    const lines = CAMPAIGN.trim().split('\n');
    const one = feed(linker(), CAMPAIGN);
    for (let cut = 1; cut < lines.length; cut++) {
      const first = linker();
      const a = feed(first, lines.slice(0, cut).join('\n'));
      const second = linker({}, JSON.parse(JSON.stringify(first.serialize())));
      const b = feed(second, lines.slice(cut).join('\n'));
      const strip = (e: { lineNo: number }) => ({ ...e, lineNo: 0 });
      expect([...a.events, ...b.events].map(strip)).toEqual(one.events.map(strip));
      expect(a.counts.sent + b.counts.sent).toBe(one.counts.sent);
      expect((a.daily.get('2026-11-25')?.dkimSigned ?? 0) + (b.daily.get('2026-11-25')?.dkimSigned ?? 0)).toBe(1);
    }
  });

  it('counts and skips what it cannot use, never throws', () => {
    const b = feed(
      linker(),
      `
# comment
garbage without any tag
${T(1)} app1 dovecot[1]: imap-login: Login: user=<x>
${T(2)} app1 postfix/smtp[14]: 6D4E5F6071: to=<a@b.example>, relay=x, dsn=2.0.0, status=bogus (x)
${T(3)} app1 postfix/smtpd[10]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <a@b>: Relay access denied; from=<s@x> to=<a@b> proto=ESMTP helo=<x>
${T(4)} app1 postfix/smtpd[10]: warning: hostname x does not resolve to address 192.0.2.1
`,
    );
    expect(b.counts).toMatchObject({ comment: 1, malformed: 2, foreign: 1, rejected: 1, sent: 0 });
  });

  it('counts successes per day and receiving provider: the Yahoo family by domain, else the relay host, else other', () => {
    const sent = (s: number, to: string, relay: string) =>
      `${T(s)} app1 postfix/out05/smtp[14]: 5C0000${s}DE: to=<${to}>, relay=${relay}, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)`;
    const lines = [
      sent(10, 'a@gmail.com', 'gmail-smtp-in.l.google.com[192.0.2.9]:25'),
      sent(11, 'b@workspace-carrier.example', 'aspmx.l.google.com[192.0.2.10]:25'),
      sent(12, 'c@tenant.example', 'tenant-example.mail.protection.outlook.com[192.0.2.11]:25'),
      sent(13, 'd@hotmail.com', 'hotmail-com.olc.protection.outlook.com[192.0.2.12]:25'),
      // AT&T's domains have MX hosts of their own: only the Yahoo-family list knows them.
      sent(14, 'e@att.net', 'al-ip4-mx-vip1.prodigy.net[192.0.2.13]:25'),
      sent(15, 'f@yahoo.com', 'mta6.am0.yahoodns.net[192.0.2.14]:25'),
      sent(16, 'g@small-fleet.example', 'mail.small-fleet.example[192.0.2.15]:25'),
      // Quoted as in a string-path line (not the <addr> fast path): the same relay reading.
      `${T(17)} app1 postfix/out05/smtp[14]: 5C000017DE: to="h i"@gmail.com, relay=gmail-smtp-in.l.google.com[192.0.2.9]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)`,
      // The firm's own mail is not a provider's.
      sent(18, 'ops@firm.example', 'mx.firm.example[192.0.2.16]:25'),
      `${T(19)} app1 postfix/local[15]: 5C000019DE: to=<root@app1.firm.example>, relay=local, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)`,
    ];
    for (const bytePath of [true, false]) {
      const l = linker();
      l.bytePath = bytePath;
      const b = feed(l, lines.join('\n'));
      const byProvider = Object.fromEntries(b.sentProviders.map((r) => [r.provider, r.count]));
      expect(b.sentProviders.every((r) => r.day === '2026-11-25')).toBe(true);
      expect(byProvider, `bytePath ${bytePath}`).toEqual({ google: 3, microsoft365: 1, outlook_consumer: 1, yahoo: 2, other: 1 });
      expect(b.counts.sent).toBe(8);
    }
  });
});
