/**
 * The simulated MTA: Postfix sends what Listmonk (the double) sends. At each campaign's send time
 * Listmonk starts it and mails its recipients as Listmonk would (never a blocklisted subscriber
 * nor an unsubscribed subscription); Postfix logs each message (smtpd, cleanup, OpenDKIM, qmgr,
 * smtp, removed) in the line formats of the scrub's fixtures (test/fixtures/maillog/flows.ts), to
 * one mail.log the nightly scrub reads incrementally.
 *
 * Outcomes: a dead mailbox bounces 5.1.1; some messages are deferred (connection timed out) and
 * then delivered; on the Gmail episode day Google refuses campaign mail with 550-5.7.1; on the
 * Yahoo episode day the firm's own (non-campaign) mail to Yahoo is deferred with TSS04; on the
 * small-host episode day the one server behind two self-hosted domains (mail.smallhost.test)
 * refuses to talk ("550 Too many invalid recipients"), to campaign and other mail alike; on the
 * DKIM outage day OpenDKIM signs nothing.
 */
import { appendFileSync } from 'node:fs';
import { LogBuilder, said } from '../fixtures/maillog/flows.ts';
import type { ListmonkDouble } from '../listmonk-double/index.ts';
import { chance, DOMAIN_BY_NAME, domainOf, type Rng } from './world.ts';

export const CAMPAIGN_CLIENT = '172.18.0.5';
const APP_CLIENT = '172.18.0.9';

const UNKNOWN_USER = (to: string) => said(`550 5.1.1 <${to}>: Recipient address rejected: User unknown in virtual mailbox table`, 'RCPT TO', `mx.${domainOf(to)}[192.0.2.10]`);
const GMAIL_RELAY = 'gmail-smtp-in.l.google.com[192.0.2.27]:25';
const GMAIL_BLOCK = said(
  '550-5.7.1 [198.51.100.5 1] Our system has detected an unusual rate of 550-5.7.1 unsolicited mail originating from your IP address. has been blocked. ?p=UnsolicitedIPError',
  'end of DATA',
  'gmail-smtp-in.l.google.com[192.0.2.27]',
);
const YAHOO_RELAY = 'mta5.am0.yahoodns.net[192.0.2.40]:25';
const TSS04 = said('421 4.7.0 [TSS04] Messages from 198.51.100.5 temporarily deferred due to user complaints', 'MAIL FROM', 'mta5.am0.yahoodns.net[192.0.2.40]');
/** The server behind cascade-moving.test and cascade-hauling.test (world.ts), provider `other`. */
export const SMALLHOST = 'mail.smallhost.test';
const SMALLHOST_RELAY = `${SMALLHOST}[192.0.2.61]:25`;
const SMALLHOST_REFUSAL = `host ${SMALLHOST}[192.0.2.61] refused to talk to me: 550 Too many invalid recipients`;
const TIMED_OUT = (to: string) => `connect to mx.${domainOf(to)}[192.0.2.10]:25: Connection timed out`;

export interface DayEpisodes {
  gmailBlock: boolean;
  yahooTss04: boolean;
  smallhostBlock: boolean;
  dkimOutage: boolean;
}

export interface MailedDay {
  /** Campaign recipients mailed, by address. */
  mailed: string[];
  campaigns: number;
  bounced: number;
  unsigned: number;
}

export class Mta {
  private readonly log = new LogBuilder();
  private written = 0;

  constructor(
    readonly file: string,
    private readonly rng: Rng,
  ) {}

  /** Sends every scheduled campaign of the double whose time is in [from, to). */
  sendDue(lm: ListmonkDouble, from: Date, to: Date, deadMailboxes: ReadonlySet<string>, ep: DayEpisodes): MailedDay {
    const m = lm.model;
    const day: MailedDay = { mailed: [], campaigns: 0, bounced: 0, unsigned: 0 };
    for (const c of [...m.campaigns.values()].sort((a, b) => a.id - b.id)) {
      if (c.status !== 'scheduled' || !c.send_at) continue;
      const at = new Date(c.send_at);
      if (at < from || at >= to) continue;
      m.start(c);
      day.campaigns++;
      let k = 0;
      for (const subId of m.recipients(c)) {
        const email = m.subscribers.get(subId)!.email.toLowerCase();
        const when = new Date(at.getTime() + ++k * 20_000);
        const provider = DOMAIN_BY_NAME.get(domainOf(email))?.provider;
        let outcomes: Parameters<LogBuilder['flow']>[0]['outcomes'];
        let relay: string | undefined;
        if (deadMailboxes.has(email)) {
          outcomes = [['bounced', '5.1.1', UNKNOWN_USER(email)]];
          day.bounced++;
        } else if (ep.gmailBlock && provider === 'google') {
          outcomes = [['bounced', '5.7.1', GMAIL_BLOCK]];
          relay = GMAIL_RELAY;
          day.bounced++;
        } else if (ep.smallhostBlock && (DOMAIN_BY_NAME.get(domainOf(email))?.mx ?? []).includes(SMALLHOST)) {
          outcomes = [['deferred', '4.0.0', SMALLHOST_REFUSAL]];
          relay = SMALLHOST_RELAY;
        } else if (chance(this.rng, 0.1)) outcomes = [['deferred', '4.4.1', TIMED_OUT(email)], ['sent', '2.0.0', '250 2.0.0 Ok: queued as 4XyZ1']];
        else outcomes = [['sent', '2.0.0', '250 2.0.0 Ok: queued as 4XyZ1']];
        this.log.flow({ at: when, to: email, client: CAMPAIGN_CLIENT, signed: !ep.dkimOutage, outcomes, ...(relay ? { relay } : {}) });
        if (ep.dkimOutage) day.unsigned++;
        day.mailed.push(email);
      }
      c.sent = c.to_send;
      c.status = 'finished';
    }
    if (ep.yahooTss04)
      for (let i = 0; i < 3; i++)
        this.log.flow({ at: new Date(to.getTime() - 3_600_000 * (4 - i)), to: `customer${i}@yahoo.com`, client: APP_CLIENT, relay: YAHOO_RELAY, outcomes: [['deferred', '4.7.0', TSS04]] });
    if (ep.smallhostBlock)
      for (let i = 0; i < 2; i++)
        this.log.flow({ at: new Date(to.getTime() - 3_600_000 * (6 - i)), to: `orders${i}@cascade-moving.test`, client: APP_CLIENT, relay: SMALLHOST_RELAY, outcomes: [['deferred', '4.0.0', SMALLHOST_REFUSAL]] });
    return day;
  }

  /** Appends the lines logged since the last flush to mail.log (Postfix writes as it goes). */
  flush(): void {
    const lines = this.log.lines.slice(this.written);
    this.written = this.log.lines.length;
    if (lines.length) appendFileSync(this.file, lines.map((l) => l + '\n').join(''));
  }
}
