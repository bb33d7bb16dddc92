/**
 * A realistic Postfix mail.log of a bulk sender, for `npm run bench:scrub`: Listmonk campaign mail
 * injected from the Docker bridge (smtpd connect/client/disconnect, cleanup, opendkim, qmgr,
 * smtp through out05..out20 with TLS lines, removed), about 8 lines per message. Outcomes follow a
 * bulk sender's mix: mostly sent, deferrals that later succeed, 5.1.1 bounces with their NDR
 * flow, expiries after days of timeouts, Gmail/Yahoo/Microsoft throttles; plus cron mail, inbound
 * rejects and anvil noise. Traditional timestamps (what pflogsumm reads best), spread over a week.
 * Deterministic (seeded), streamed to disk in large blocks.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mulberry32 as rng } from '../test/helpers/prng.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface Provider {
  weight: number;
  domains: string[];
  relay: (d: string) => string;
  ok: string;
  unknown: string;
  throttle: string;
  throttleDsn: string;
}

const PROVIDERS: Provider[] = [
  {
    weight: 0.35,
    domains: ['gmail.com'],
    relay: () => 'gmail-smtp-in.l.google.com[142.250.27.26]:25',
    ok: '250 2.0.0 OK  1732000000 a1si1234567qtb.101 - gsmtp',
    unknown: "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si1234567qtb.102 - gsmtp",
    throttle: '421-4.7.28 [198.51.100.5      15] Our system has detected an unusual rate of 421-4.7.28 unsolicited mail originating from your IP address. To protect our 421-4.7.28 users from spam, mail sent from your IP address has been temporarily 421-4.7.28 rate limited. 421 4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError a1si1234567qtb.103 - gsmtp',
    throttleDsn: '4.7.28',
  },
  {
    weight: 0.2,
    domains: [],
    relay: (d) => `${d.replace(/\./g, '-')}.mail.protection.outlook.com[52.101.40.12]:25`,
    ok: '250 2.6.0 <abc@firm.example> [InternalId=123, Hostname=BN8PR12MB3456.namprd12.prod.outlook.com] 21873 bytes in 0.412, 51.732 KB/sec Queued mail for delivery',
    unknown: '550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [BN8NAM12FT061.eop-nam12.prod.protection.outlook.com]',
    throttle: '451 4.7.650 The mail server [198.51.100.5] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S843)',
    throttleDsn: '4.7.650',
  },
  {
    weight: 0.05,
    domains: ['yahoo.com', 'aol.com'],
    relay: () => 'mta6.am0.yahoodns.net[67.195.204.72]:25',
    ok: '250 ok dirdel',
    unknown: "554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0] - mta4003.mail.bf1.yahoo.com",
    throttle: '421 4.7.0 [TSS04] Messages from 198.51.100.5 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
    throttleDsn: '4.7.0',
  },
  {
    weight: 0.4,
    domains: [],
    relay: (d) => `mx.${d}[203.0.113.${d.length % 250}]:25`,
    ok: '250 2.0.0 Ok: queued as 4XyZ9b1Kmpz9vGW',
    unknown: '550 5.1.1 <x>: Recipient address rejected: User unknown in virtual mailbox table',
    throttle: '450 4.7.1 Client host rejected: too many connections, try again later',
    throttleDsn: '4.7.1',
  },
];

export interface GenerateOptions {
  lines: number;
  seed?: number;
  /** First day of the log (UTC midnight); the log spans about a week. */
  start?: Date;
}

export async function generateMaillog(file: string, opts: GenerateOptions): Promise<{ lines: number; bytes: number; messages: number }> {
  const rand = rng(opts.seed ?? 20261128);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out = createWriteStream(file, { highWaterMark: 1 << 22 });
  const start = (opts.start ?? new Date(Date.UTC(2026, 10, 20))).getTime();
  const spanMs = 7 * 86_400_000;
  const perLine = spanMs / opts.lines;
  const companyDomains = Array.from({ length: 20_000 }, (_, i) => `carrier${i}.${pick(['example', 'test', 'example.com', 'example.net'])}`);
  const m365Domains = Array.from({ length: 3000 }, (_, i) => `fleet${i}.example.org`);

  let lines = 0;
  let bytes = 0;
  let messages = 0;
  let qid = 0x1a2b3c4d00;
  let pid = 20000;
  let buf: string[] = [];
  let t = start;
  // Messages waiting for a retry or an expiry, in a min-heap by due time.
  const later = new DueHeap();

  // "Nov 20 00:00:02" without a Date per line: day prefixes and two-digit numbers precomputed.
  const two = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
  const dayPrefix = Array.from({ length: 40 }, (_, i) => {
    const d = new Date(start + i * 86_400_000);
    const dd = d.getUTCDate();
    return `${MONTHS[d.getUTCMonth()]} ${dd < 10 ? ' ' + dd : dd} `;
  });
  const stamp = () => {
    const sec = Math.floor((t - start) / 1000);
    const s = sec % 86_400;
    return dayPrefix[Math.floor(sec / 86_400)] + two[Math.floor(s / 3600)]! + ':' + two[Math.floor(s / 60) % 60]! + ':' + two[s % 60]!;
  };
  const emit = (tag: string, msg: string) => {
    t += perLine * (0.5 + rand());
    const l = `${stamp()} app1 ${tag}: ${msg}\n`;
    buf.push(l);
    bytes += l.length;
    lines++;
  };
  const flush = async () => {
    if (!out.write(buf.join(''))) await once(out, 'drain');
    buf = [];
  };

  const newQid = () => (qid += 1 + Math.floor(rand() * 40)).toString(16).toUpperCase();

  function campaignMessage() {
    messages++;
    const q = newQid();
    const spid = (pid = (pid + 1) % 60000);
    const prov = (() => {
      let r = rand();
      for (const p of PROVIDERS) if ((r -= p.weight) <= 0) return p;
      return PROVIDERS[3]!;
    })();
    const domain = prov.domains.length ? pick(prov.domains) : prov === PROVIDERS[1] ? pick(m365Domains) : pick(companyDomains);
    const rcpt = `${pick(['dispatch', 'office', 'safety', 'ops', 'info', 'owner', 'fleet', 'billing'])}${Math.floor(rand() * 5000)}@${domain}`;
    const relay = prov.relay(domain);
    const host = relay.slice(0, relay.indexOf(':'));
    const transport = `postfix/out${String(5 + Math.floor(rand() * 16)).padStart(2, '0')}/smtp`;
    emit(`postfix/smtpd[${spid}]`, `connect from unknown[172.18.0.5]`);
    emit(`postfix/smtpd[${spid}]`, `${q}: client=unknown[172.18.0.5], sasl_method=PLAIN, sasl_username=listmonk-trucking`);
    emit(`postfix/cleanup[${spid + 1}]`, `${q}: message-id=<${q.toLowerCase()}x7Hq3kT0aZ9xYcVbN2mL@firm-logistics.example>`);
    if (rand() > 0.002) emit(`opendkim[688]`, `${q}: DKIM-Signature field added (s=mail, d=firm-logistics.example)`);
    emit(`postfix/qmgr[1187]`, `${q}: from=<bounces@firm-logistics.example>, size=${18000 + Math.floor(rand() * 9000)}, nrcpt=1 (queue active)`);
    emit(`postfix/smtpd[${spid}]`, `disconnect from unknown[172.18.0.5] ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6`);
    const deliver = (status: string, dsn: string, reason: string) => {
      if (rand() < 0.7) emit(`${transport}[${spid + 2}]`, `Trusted TLS connection established to ${host}:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256`);
      const d = (0.5 + rand() * 3).toFixed(1);
      emit(`${transport}[${spid + 2}]`, `${q}: to=<${rcpt}>, relay=${relay}, delay=${d}, delays=0.05/0.01/0.3/${(Number(d) - 0.36).toFixed(2)}, dsn=${dsn}, status=${status} (${reason})`);
    };
    const ndr = () => {
      const n = newQid();
      emit(`postfix/bounce[${spid + 3}]`, `${q}: sender non-delivery notification: ${n}`);
      emit(`postfix/cleanup[${spid + 1}]`, `${n}: message-id=<${n}@app1.firm-logistics.example>`);
      emit(`postfix/qmgr[1187]`, `${n}: from=<>, size=4210, nrcpt=1 (queue active)`);
      emit(`postfix/local[${spid + 4}]`, `${n}: to=<bounces@firm-logistics.example>, relay=local, delay=0.01, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)`);
      emit(`postfix/qmgr[1187]`, `${n}: removed`);
    };
    const said = (reply: string, stage = 'RCPT TO') => `host ${host} said: ${reply} (in reply to ${stage} command)`;
    const r = rand();
    if (r < 0.86) {
      deliver('sent', '2.0.0', said(prov.ok, 'end of DATA').replace(/^host \S+ said: /, '').replace(/ \(in reply to end of DATA command\)$/, ''));
      emit(`postfix/qmgr[1187]`, `${q}: removed`);
    } else if (r < 0.92) {
      deliver('deferred', prov.throttleDsn, said(prov.throttle, 'MAIL FROM'));
      later.push({
        due: t + 3_600_000 * (0.5 + rand() * 3),
        run: () => {
          deliver('sent', '2.0.0', prov.ok);
          emit(`postfix/qmgr[1187]`, `${q}: removed`);
        },
      });
    } else if (r < 0.96) {
      deliver('bounced', '5.1.1', said(prov.unknown.replace('<x>', `<${rcpt}>`)));
      ndr();
      emit(`postfix/qmgr[1187]`, `${q}: removed`);
    } else {
      // A dead mail host: timeouts for days, then expiry.
      const timeout = () =>
        emit(`${transport}[${spid + 2}]`, `${q}: to=<${rcpt}>, relay=none, delay=${Math.floor(rand() * 400000)}, delays=0.1/0/30/0, dsn=4.4.1, status=deferred (connect to ${host}:25: Connection timed out)`);
      timeout();
      later.push({ due: t + 86_400_000, run: timeout });
      later.push({
        due: t + 5 * 86_400_000,
        run: () => {
          emit(`postfix/qmgr[1187]`, `${q}: from=<bounces@firm-logistics.example>, status=expired, returned to sender`);
          ndr();
          emit(`postfix/qmgr[1187]`, `${q}: removed`);
        },
      });
    }
  }

  function noise() {
    const r = rand();
    const spid = (pid = (pid + 1) % 60000);
    if (r < 0.5) {
      emit(`postfix/smtpd[${spid}]`, `connect from unknown[192.0.2.${Math.floor(rand() * 250)}]`);
      emit(`postfix/smtpd[${spid}]`, `NOQUEUE: reject: RCPT from unknown[192.0.2.7]: 554 5.7.1 <spam@elsewhere.example>: Relay access denied; from=<x@spam.example> to=<spam@elsewhere.example> proto=ESMTP helo=<spam.example>`);
      emit(`postfix/smtpd[${spid}]`, `disconnect from unknown[192.0.2.7] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4`);
    } else if (r < 0.8) {
      emit(`postfix/anvil[3001]`, `statistics: max connection rate 12/60s for (smtp:172.18.0.5) at ${stamp()}`);
    } else {
      const q = newQid();
      emit(`postfix/pickup[3002]`, `${q}: uid=33 from=<www-data>`);
      emit(`postfix/cleanup[${spid}]`, `${q}: message-id=<${q}@app1.firm-logistics.example>`);
      emit(`postfix/qmgr[1187]`, `${q}: from=<www-data@app1.firm-logistics.example>, size=812, nrcpt=1 (queue active)`);
      emit(`postfix/local[${spid + 1}]`, `${q}: to=<cronreports@app1.firm-logistics.example>, orig_to=<cronreports>, relay=local, delay=0.02, delays=0.01/0/0/0.01, dsn=5.1.1, status=bounced (unknown user: "cronreports")`);
      emit(`postfix/qmgr[1187]`, `${q}: removed`);
    }
  }

  while (lines < opts.lines) {
    const next = later.peek();
    if (next && next.due <= t) later.pop()!.run();
    else if (rand() < 0.97) campaignMessage();
    else noise();
    if (buf.length >= 20_000) await flush();
  }
  await flush();
  out.end();
  await once(out, 'finish');
  return { lines, bytes, messages };
}

interface Due {
  due: number;
  run: () => void;
}

/** Binary min-heap on `due`. */
class DueHeap {
  private readonly a: Due[] = [];
  peek(): Due | undefined {
    return this.a[0];
  }
  push(x: Due): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.due <= a[i]!.due) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): Due | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.due < a[m]!.due) m = l;
        if (r < a.length && a[r]!.due < a[m]!.due) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
