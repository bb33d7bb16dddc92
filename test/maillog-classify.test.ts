import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classify, classifyCached, classifyStats, maskRelay, normalizeReason, SENDER_SIDE, type BounceClass } from '../src/maillog/classify.ts';
import { describeWithSamples, samplePath } from './helpers/samples.ts';

const said = (reply: string, stage = 'RCPT TO') => `host mx.example[192.0.2.1] said: ${reply} (in reply to ${stage} command)`;

/** The exact texts providers send, and the class the product must give each. */
const PROVIDER_TEXTS: [name: string, status: string, dsn: string, reason: string, expected: BounceClass][] = [
  ['Gmail unknown user', 'bounced', '5.1.1', said("550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser x - gsmtp"), 'recipient_invalid'],
  ['Gmail disabled', 'bounced', '5.2.1', said('550 5.2.1 The email account that you tried to reach is disabled. x - gsmtp'), 'recipient_invalid'],
  ['Gmail over quota (temporary)', 'deferred', '4.2.2', said("452-4.2.2 The recipient's inbox is out of storage space. Please direct the 452-4.2.2 recipient to 452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp x - gsmtp"), 'mailbox_full'],
  ['Gmail over quota (permanent)', 'bounced', '5.2.2', said('552-5.2.2 The email account that you tried to reach is over quota. ?p=OverQuotaPerm'), 'mailbox_full'],
  ['Gmail 550-5.7.1 likely unsolicited', 'bounced', '5.7.1', said('550-5.7.1 [IP 12] Our system has detected that this 550-5.7.1 message is likely unsolicited mail. To reduce the amount of spam sent 550-5.7.1 to Gmail, this message has been blocked. ?p=UnsolicitedMessageError', 'end of DATA'), 'content_spam'],
  ['Gmail 550-5.7.1 IP reputation', 'bounced', '5.7.1', said('550-5.7.1 [104.248.27.183 1] Our system has detected an unusual rate of 550-5.7.1 unsolicited mail originating from your IP address. To protect our 550-5.7.1 users from spam, mail sent from your IP address has been blocked. ?p=UnsolicitedIPError', 'end of DATA'), 'reputation_block'],
  ['Gmail 421-4.7.28 rate limit', 'deferred', '4.7.28', said('421-4.7.28 [IP 4] Our system has detected an unusual rate of 421-4.7.28 unsolicited mail originating from your IP address. To protect our 421-4.7.28 users from spam, mail sent from your IP address has been temporarily 421-4.7.28 rate limited. ?p=UnsolicitedRateLimitError', 'end of DATA'), 'rate_limited'],
  ['Gmail 550-5.7.26 unauthenticated', 'bounced', '5.7.26', said('550-5.7.26 Your email has been blocked because the sender is unauthenticated. 550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.', 'end of DATA'), 'policy_auth'],
  ['Gmail DMARC', 'deferred', '4.7.32', said('421 4.7.32 rate limited because there is no DMARC alignment'), 'policy_auth'],
  ['Gmail low domain reputation', 'deferred', '4.7.0', said('421 4.7.0 suspicious due to the very low reputation of the sending domain'), 'reputation_block'],
  ['Yahoo TSS04', 'deferred', '4.7.0', said('421 4.7.0 [TSS04] Messages from 78.225.183.108 temporarily deferred due to user complaints - 4.16.55.1; see https://help.yahoo.com/kb/postmaster/SLN3434.html', 'MAIL FROM'), 'rate_limited'],
  ['Yahoo TSS04 current wording', 'deferred', '4.7.0', said('421 4.7.0 [TSS04] Messages from 198.51.100.5 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes', 'MAIL FROM'), 'rate_limited'],
  ['Yahoo policy 5.7.9', 'bounced', '5.7.9', said('554 5.7.9 Message not accepted for policy reasons. See https://postmaster.yahooinc.com/error-codes', 'end of DATA'), 'policy_auth'],
  ['Yahoo PH01', 'bounced', '5.0.0', said('554 Message not allowed - [PH01] Email not accepted for policy reasons.', 'end of DATA'), 'policy_auth'],
  ['Yahoo no account', 'bounced', '5.0.0', said("554 delivery error: dd This user doesn't have a yahoo.com account (x) [-9]", 'end of DATA'), 'recipient_invalid'],
  ['Yahoo disabled', 'bounced', '5.0.0', said('554 delivery error: dd This mailbox is disabled (554.30)', 'end of DATA'), 'recipient_invalid'],
  ['Yahoo Spamhaus', 'bounced', '5.7.1', said("553 5.7.1 [BL21] Connections will not be accepted from 198.51.100.5, because the ip is in Spamhaus's list", 'MAIL FROM'), 'reputation_block'],
  ['Microsoft S3150', 'bounced', '5.7.1', said("550 5.7.1 Unfortunately, messages from [198.51.100.5] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).", 'MAIL FROM'), 'reputation_block'],
  ['Microsoft 4.7.650', 'deferred', '4.7.650', said('451 4.7.650 The mail server [198.51.100.5] has been temporarily rate limited due to IP reputation. (S843)', 'MAIL FROM'), 'rate_limited'],
  ['Microsoft banned IP', 'bounced', '5.7.606', said('550 5.7.606 Access denied, banned sending IP [198.51.100.5]. To request removal https://sender.office.com/'), 'reputation_block'],
  ['M365 DBEB 5.4.1', 'bounced', '5.4.1', said('550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [x.eop-nam02.prod.protection.outlook.com]'), 'recipient_invalid'],
  ['Outlook mailbox unavailable', 'bounced', '5.5.0', said('550 5.5.0 Requested action not taken: mailbox unavailable. [x.prod.protection.outlook.com]'), 'recipient_invalid'],
  ['Outlook per-hour limit', 'bounced', '5.2.122', said('554 5.2.122 The recipient has exceeded their limit for the number of messages they can receive per hour'), 'rate_limited'],
  ['Comcast not our customer', 'bounced', '5.1.1', said('550 5.1.1 Not our Customer'), 'recipient_invalid'],
  ['Comcast too many recent', 'deferred', '4.1.1', said('452 4.1.1 <x> too many recent messages; Try again later'), 'rate_limited'],
  ['Postfix receiver unknown user', 'bounced', '5.1.1', said('550 5.1.1 <x@y>: Recipient address rejected: User unknown in relay recipient table'), 'recipient_invalid'],
  ['qmail code in text', 'bounced', '5.0.0', said('550 Invalid recipient x@y (#5.1.1)'), 'recipient_invalid'],
  ['Mimecast code in text', 'bounced', '5.0.0', said('550 #5.1.0 Address rejected.'), 'recipient_invalid'],
  ['icloud over quota', 'bounced', '5.2.2', said('552 5.2.2 <x@icloud.com>: user is overquota'), 'mailbox_full'],
  ['NXDOMAIN', 'bounced', '5.4.4', 'Host or domain name not found. Name service error for name=defunct-freight.test type=MX: Host not found', 'domain_dead'],
  ['DNS try again is transient', 'deferred', '4.4.3', 'Host or domain name not found. Name service error for name=flaky-dns.test type=MX: Host not found, try again', 'transient_network'],
  ['null MX', 'bounced', '5.1.10', 'Domain nullmx-carrier.test does not accept mail (nullMX)', 'domain_dead'],
  ['connect timeout', 'deferred', '4.4.1', 'connect to mx.b.example[192.0.2.1]:25: Connection timed out', 'transient_network'],
  ['suspended connect timeout', 'deferred', '4.4.1', 'delivery temporarily suspended: connect to mx.b.example[192.0.2.1]:25: Connection refused', 'transient_network'],
  ['lost connection', 'deferred', '4.4.2', 'lost connection with mx.b.example[192.0.2.1] while receiving the initial server greeting', 'transient_network'],
  ['TLS required', 'deferred', '4.7.4', 'TLS is required, but was not offered by host mx.b.example[192.0.2.1]', 'policy_auth'],
  ['greylisting', 'deferred', '4.7.1', said('450 4.7.1 <x@y>: Recipient address rejected: Greylisted for 5 minutes'), 'transient_network'],
  ['greeting refusal', 'deferred', '4.0.0', 'host mx.b.example[192.0.2.1] refused to talk to me: 554 5.7.1 Service unavailable; Client host [198.51.100.5] blocked using zen.spamhaus.org', 'reputation_block'],
  ['local unknown user', 'bounced', '5.1.1', 'unknown user: "cronreports"', 'recipient_invalid'],
  ['filter policy words never make a recipient verdict', 'bounced', '5.7.1', said('554 5.7.1 <x@y>: Recipient address rejected: BLOCK-RCPT.'), 'policy_auth'],
  ['4xx user unknown stays a class, not a bounce', 'deferred', '4.1.1', said('450 4.1.1 <x@y>: Recipient address rejected: User unknown in local recipient table'), 'recipient_invalid'],
  ['unmatched 4xx', 'deferred', '4.0.0', said('451 Temporary local problem - please try later'), 'transient_network'],
  ['unmatched 5xx', 'bounced', '5.0.0', said('550 Service unavailable'), 'unknown'],
];

describe('classifier: provider texts', () => {
  it.each(PROVIDER_TEXTS)('%s', (_name, status, dsn, reason, expected) => {
    expect(classify(status, dsn, reason).class).toBe(expected);
  });

  it('sender-side classes are exactly the four the policies hold on', () => {
    expect([...SENDER_SIDE].sort()).toEqual(['content_spam', 'policy_auth', 'rate_limited', 'reputation_block']);
  });

  it('joins multi-line replies and strips the suspension prefix', () => {
    expect(normalizeReason('host x said: 550-5.1.1 The email 550-5.1.1 account 550 5.1.1  does not exist')).toBe('host x said: 550 5.1.1 The email account does not exist');
    expect(normalizeReason('delivery temporarily suspended: connect to x: Connection timed out')).toBe('connect to x: Connection timed out');
  });
});

describe('classifier: names in a reason never decide its class', () => {
  it('a relay, recipient domain or echoed address that contains rule words keeps the verdict of the reply', () => {
    const unknown = '550 5.1.1 <{to}>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)';
    // Trucking names: bulk haulers, and role mailboxes named after the very words the sender-side rules look for.
    for (const [relay, to] of [
      ['mx.bulk-haulers.example[203.0.113.9]', 'dispatch@bulk-haulers.example'],
      ['spam.filter.example[203.0.113.9]', 'ops@carrier.example'],
      ['mx.carrier.example[203.0.113.9]', 'dmarc@carrier.example'],
      ['mx.carrier.example[203.0.113.9]', 'spam@carrier.example'],
    ])
      expect(classify('bounced', '5.1.1', `host ${relay} said: ${unknown.replace('{to}', to!)}`).class).toBe('recipient_invalid');
    expect(classify('bounced', '5.4.4', 'Host or domain name not found. Name service error for name=reputation-freight.example type=MX: Host not found').class).toBe('domain_dead');
    expect(classify('deferred', '4.4.1', 'connect to mx.blacklist-transport.example[203.0.113.9]:25: Connection timed out').class).toBe('transient_network');
  });

  it('an address in brackets is not read as an enhanced status code', () => {
    // dsn 5.0.0 sends the classifier to the text for a code; [5.2.2.9] is the relay's address, not 5.2.2 (mailbox full).
    expect(classify('bounced', '5.0.0', 'host mx.carrier.example[5.2.2.9] said: 550 Service unavailable (in reply to RCPT TO command)').class).toBe('unknown');
  });

  it('masks exactly the names: the relay in the framing, addresses, Gmail\'s message id', () => {
    expect(maskRelay('host mx.a.example[192.0.2.1] said: 550 5.1.1 <Ops@A.example>: User unknown (in reply to RCPT TO command)')).toBe(
      'host * said: 550 5.1.1 <*@*>: User unknown (in reply to RCPT TO command)',
    );
    expect(maskRelay('delivery temporarily suspended: connect to mx.a.example[192.0.2.1]:25: Connection refused')).toBe('delivery temporarily suspended: connect to *: Connection refused');
    expect(maskRelay('lost connection with mx.a.example[192.0.2.1] while receiving the initial server greeting')).toBe('lost connection with * while receiving the initial server greeting');
    expect(maskRelay('host gmail-smtp-in.l.google.com[142.250.27.26] said: 550 5.2.1 The account is disabled. a1si1234567qtb.102 - gsmtp')).toBe(
      'host * said: 550 5.2.1 The account is disabled. * - gsmtp',
    );
    // The provider's words are untouched, host words included.
    expect(maskRelay('450 4.7.1 Client host rejected: cannot find your reverse hostname, [198.51.100.5]')).toBe('450 4.7.1 Client host rejected: cannot find your reverse hostname, [198.51.100.5]');
  });

  it('one reply to many recipients through many relays is one cache entry', () => {
    const before = classifyStats.misses;
    const results = new Set(
      Array.from({ length: 50 }, (_, i) => classifyCached('bounced', '5.1.1', `host mx${i}.carrier${i}.example[203.0.113.${i}] said: 550 5.1.1 <ops${i}@carrier${i}.example>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)`)),
    );
    expect(classifyStats.misses - before).toBe(1);
    expect([...results].map((c) => c.class)).toEqual(['recipient_invalid']);
  });
});

/** sisimai 4.25 reasons mapped onto our classes, for the agreement figure. */
const SISIMAI: Record<string, BounceClass> = {
  userunknown: 'recipient_invalid', hasmoved: 'recipient_invalid', suspend: 'recipient_invalid', filtered: 'recipient_invalid',
  hostunknown: 'domain_dead', notaccept: 'domain_dead', mailboxfull: 'mailbox_full',
  blocked: 'reputation_block', badreputation: 'reputation_block',
  spamdetected: 'content_spam', virusdetected: 'content_spam', contenterror: 'content_spam', mesgtoobig: 'content_spam', exceedlimit: 'content_spam',
  speeding: 'rate_limited', toomanyconn: 'rate_limited',
  authfailure: 'policy_auth', requireptr: 'policy_auth', norelaying: 'policy_auth', policyviolation: 'policy_auth', securityerror: 'policy_auth', failedstarttls: 'policy_auth', rejected: 'policy_auth',
  networkerror: 'transient_network', systemerror: 'transient_network', expired: 'expired',
};

/**
 * Where we knowingly disagree with sisimai, and why (each a rule of src/maillog/classify.ts):
 * a text matching one of these with sisimai's label -> our class is a documented difference.
 */
const DOCUMENTED: { why: string; label: string; ours: BounceClass; re: RegExp }[] = [
  { why: 'a connect timeout is a retry; sisimai labels the message that later expired', label: 'expired', ours: 'transient_network', re: /connect to .*(?:timed out|refused)/i },
  { why: 'DNS "try again" (4.4.3) is temporary: never a dead domain', label: 'hostunknown', ours: 'transient_network', re: /Host not found, try again/ },
  { why: 'Yahoo TSS04 is a volume/complaint throttle: rate_limited (holds the provider)', label: 'blocked', ours: 'rate_limited', re: /\[TSS0\d\]/ },
  { why: 'Gmail 421-4.7.28 is a rate limit', label: 'spamdetected', ours: 'rate_limited', re: /4\.7\.28/ },
  { why: 'Gmail 550-5.7.1 unusual rate from your IP is an IP block (reputation)', label: 'spamdetected', ours: 'reputation_block', re: /unusual rate of/ },
  { why: 'Gmail "likely unsolicited" is a content block', label: 'securityerror', ours: 'content_spam', re: /likely unsolicited/ },
  { why: 'a greeting refusal for too many invalid recipients is about the sender', label: 'userunknown', ours: 'reputation_block', re: /refused to talk to me/ },
  { why: 'spam/virus wording at DATA is content, whatever the code', label: 'securityerror', ours: 'content_spam', re: /spam|virus|Access denied \(in reply to end of DATA/i },
  { why: 'a recipient filter rejection names the recipient: recipient-level by wording', label: 'securityerror', ours: 'recipient_invalid', re: /Recipient rejected \(R\d\)|Recipient address rejected: (?:Inactive|User email|Not in recipient)/i },
  { why: '"Rule imposed mailbox access … Invalid User" names an invalid user', label: 'rejected', ours: 'recipient_invalid', re: /Invalid User/ },
  { why: 'a forwarding loop is the recipient\'s configuration: no verdict', label: 'networkerror', ours: 'unknown', re: /forwarding loop/ },
];

function readTsv(rel: string): Record<string, string>[] {
  const rows = readFileSync(samplePath(rel), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  const head = rows.shift()!.split('\t');
  return rows.map((r) => Object.fromEntries(r.split('\t').map((v, i) => [head[i]!, v])));
}

describeWithSamples('classifier vs sisimai labels (samples/maillog/responses)', () => {
  it('real log responses: ≥ 85% agreement, and every disagreement is a documented one', () => {
    const rows = readTsv('maillog/responses/real-log-responses-sisimai-labels.tsv');
    let compared = 0;
    let agreed = 0;
    const undocumented: string[] = [];
    for (const r of rows) {
      const expected = SISIMAI[r['sisimai_4.25_match']!];
      if (!expected) continue;
      compared++;
      const ours = classify(r.status!, r.dsn!, r.reason_text!).class;
      if (ours === expected) agreed++;
      else if (!DOCUMENTED.some((d) => d.label === r['sisimai_4.25_match'] && d.ours === ours && d.re.test(r.reason_text!)))
        undocumented.push(`${r['sisimai_4.25_match']} -> ours ${ours}: ${r.reason_text!.slice(0, 140)}`);
    }
    expect(compared).toBeGreaterThan(450);
    expect(agreed / compared).toBeGreaterThanOrEqual(0.85);
    expect(undocumented).toEqual([]);
  });

  it('field-manual provider responses: ≥ 65% agreement where sisimai has a label, never a recipient verdict on a sender-side text', () => {
    const rows = readTsv('maillog/responses/smtp-field-manual-provider-responses.tsv');
    let compared = 0;
    let agreed = 0;
    const wrongVerdicts: string[] = [];
    for (const r of rows) {
      const text = r.response!.replace(/^smtp;\s*/i, '');
      const status = r.reply!.startsWith('4') ? 'deferred' : 'bounced';
      const ours = classify(status, r.status!.replace(/-\d+$/, ''), text).class;
      const expected = SISIMAI[r['sisimai_4.25_match']!];
      if (expected) {
        compared++;
        if (expected === ours) agreed++;
      }
      // The mistakes that cost real recipients: a recipient verdict on a block, reputation or
      // authentication text, or a dead domain from a temporary reply.
      if (/block ?list|blacklist|spamhaus|reputation|S3150|TSS0|\bDMARC\b|unauthenticated/i.test(text) && ours === 'recipient_invalid') wrongVerdicts.push(text);
      if (status === 'deferred' && ours === 'domain_dead') wrongVerdicts.push(text);
    }
    expect(compared).toBeGreaterThan(140);
    expect(agreed / compared).toBeGreaterThanOrEqual(0.65);
    expect(wrongVerdicts).toEqual([]);
  });
});
