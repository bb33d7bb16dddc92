import { readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { isGzip } from '../src/maillog/files.ts';
import { scanFiles } from '../src/maillog/scan.ts';
import { describeWithSamples, samplePath } from './helpers/samples.ts';

/**
 * The corpus of ../shared/samples/maillog against pflogsumm 1.1.5
 * (pflogsumm-1.1.5-reference-counts.txt). "delivered" is compared with our sent + own (local)
 * sent, since pflogsumm counts every status=sent line; "deferrals" are deferred lines.
 * Where pflogsumm is wrong, `ours` holds the true count and `why` says what it misses.
 */
interface Expected {
  file: string;
  pflogsumm: { delivered: number; forwarded?: number; deferrals: number; bounced: number };
  ours?: { sent: number; deferred: number; bounced: number; why: string };
  expired?: number;
}

const CORPUS: Expected[] = [
  { file: 'real/NoLE-MailLog.mail.log', pflogsumm: { delivered: 182, deferrals: 0, bounced: 0 } },
  { file: 'real/digineo-postfix_exporter.testdata.mail.log', pflogsumm: { delivered: 2, deferrals: 0, bounced: 0 } },
  { file: 'real/fail2ban-tests-postfix.log', pflogsumm: { delivered: 0, deferrals: 0, bounced: 0 } },
  { file: 'real/kdent-postfix_log_analysis.mail.log', pflogsumm: { delivered: 504, deferrals: 91, bounced: 7 } },
  { file: 'real/pflgviewer.mail.log', pflogsumm: { delivered: 2447, deferrals: 120, bounced: 271 }, expired: 117 },
  {
    file: 'real/pflgviewer.postfix.log',
    pflogsumm: { delivered: 909, deferrals: 0, bounced: 0 },
    ours: { sent: 2693, deferred: 173, bounced: 294, why: 'pflogsumm needs to=<…> in angle brackets; this anonymised export has to=addr (grep counts agree with ours)' },
  },
  { file: 'real/youyo-postfix-log-parser.test-iso8601.log', pflogsumm: { delivered: 4, deferrals: 0, bounced: 0 } },
  { file: 'real/youyo-postfix-log-parser.test.log', pflogsumm: { delivered: 4, deferrals: 0, bounced: 0 } },
  { file: 'real/infohtreasure-Postfix-Maillog-Dump.maillog', pflogsumm: { delivered: 12, deferrals: 26, bounced: 1 } },
  // pflogsumm reports 3 of the 364 status=sent lines as "forwarded" (sent … forwarded as).
  { file: 'real/pixelpark-postfix-logsums.mail.log.gz', pflogsumm: { delivered: 361, forwarded: 3, deferrals: 0, bounced: 1 } },
  {
    file: 'fragments/SYNTHETIC-format-edge-cases.log',
    pflogsumm: { delivered: 1, deferrals: 1, bounced: 0 },
    ours: { sent: 2, deferred: 1, bounced: 2, why: 'pflogsumm drops Postfix ≥3.11 lines with tls= and ignores the postfix-2526 instance without --syslog-name' },
    expired: 1,
  },
  {
    file: 'issues/github-issue-postfix-lines.log',
    pflogsumm: { delivered: 0, deferrals: 9, bounced: 4 },
    ours: {
      sent: 0,
      deferred: 10,
      bounced: 5,
      why: 'pflogsumm needs a syslog date; pastes with the date stripped (`vps postfix/smtp[…]`) or busybox/compose prefixes are read by us. The one paste with neither header nor queue id is malformed for both',
    },
  },
];

describeWithSamples('conformance: the sample corpus against pflogsumm 1.1.5', () => {
  it.each(CORPUS)('$file', async (c) => {
    const path = samplePath(`maillog/${c.file}`);
    const r = await scanFiles([{ path, gz: isGzip(path), live: false }]);
    const sent = r.counts.sent + r.counts.ownSent;
    const deferred = r.counts.deferred + r.counts.ownDeferred;
    const bounced = r.counts.bounced + r.counts.ownBounced;
    if (c.ours) {
      expect({ sent, deferred, bounced }).toEqual({ sent: c.ours.sent, deferred: c.ours.deferred, bounced: c.ours.bounced });
      // Documented: we read more than pflogsumm, never less.
      expect(sent).toBeGreaterThanOrEqual(c.pflogsumm.delivered);
      expect(bounced).toBeGreaterThanOrEqual(c.pflogsumm.bounced);
    } else {
      expect({ sent, deferred, bounced }).toEqual({ sent: c.pflogsumm.delivered + (c.pflogsumm.forwarded ?? 0), deferred: c.pflogsumm.deferrals, bounced: c.pflogsumm.bounced });
    }
    if (c.expired !== undefined) expect(r.counts.expired + r.counts.ownExpired).toBe(c.expired);
  });

  it('every file of the corpus parses, none throws, and the unparsed share is small outside the noisy dumps', async () => {
    const dirs = ['real', 'fragments', 'issues'];
    const files = dirs.flatMap((d) => readdirSync(samplePath(`maillog/${d}`)).map((f) => samplePath(`maillog/${d}/${f}`)));
    expect(files.length).toBeGreaterThanOrEqual(16);
    for (const path of files) {
      const r = await scanFiles([{ path, gz: isGzip(path), live: false }]);
      expect(r.counts.lines, path).toBeGreaterThan(0);
      const postfixLines = r.counts.lines - r.counts.comment - r.counts.blank - r.counts.foreign - r.counts.malformed;
      // The tsv/txt fragments are message parts without a syslog header; the two dumps mix in
      // dovecot and Roundcube lines. Everything else is at least 95% Postfix we understand.
      if (/\.(log|maillog|gz)$/.test(path) && !/infohtreasure|NoLE|github-issue/.test(path)) expect(postfixLines / (r.counts.lines - r.counts.comment - r.counts.blank), path).toBeGreaterThan(0.95);
    }
  });

  it('links expiry to the recipients still pending, with the cause of their last deferral', async () => {
    const path = samplePath('maillog/real/pflgviewer.mail.log');
    const r = await scanFiles([{ path, gz: false, live: false }], { keepEvents: true });
    const expired = r.events.filter((e) => e.status === 'expired');
    expect(expired.length).toBeGreaterThanOrEqual(117);
    const withCause = expired.filter((e) => e.recipient && e.causeClass);
    expect(withCause.length).toBeGreaterThan(0);
    for (const e of withCause) expect(e.reason.length).toBeGreaterThan(0);
  });
});
