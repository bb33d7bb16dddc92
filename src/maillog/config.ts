import { z } from 'zod';

/** `maillog` section: where mail.log is, who injects campaign mail, and the suppression/hold policy. */
export const maillogConfigSchema = z.strictObject({
  /** AUDIENCE_MAILLOG. Rotations `.1`, `.N.gz` beside it are read too, oldest first. */
  path: z.string().min(1).default('/var/log/mail.log'),
  /**
   * Injecting client IP (as Postfix's smtpd logs it in `client=name[IP]`) -> stream name, e.g.
   * `{"172.18.0.5": "trucking", "172.18.0.25": "healthcare"}` for two Listmonk containers on the
   * Docker bridge. Mail from these clients is campaign mail: its DKIM coverage is measured (and
   * holds everything when it drops), and status and doctor show each stream apart. Empty by
   * default: the addresses are the site's own. Without an entry, only mail carrying Listmonk's
   * X-Listmonk-Campaign header (logged by a cleanup header_checks INFO rule) counts, as stream
   * `listmonk`.
   */
  campaignClients: z
    .record(
      z.string().regex(/^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]+)$/, 'expected a client IP address as Postfix logs it, e.g. 172.18.0.5'),
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'expected a stream name: letters, digits, _ . - (e.g. trucking)'),
    )
    .default({}),
  /** The firm's own domains: bounces to them are reported apart, never recipient reputation. */
  ownDomains: z.array(z.string()).default([]),
  /** DKIM coverage of campaign mail below this sets a global hold. */
  dkimCoverageMin: z.number().min(0).max(1).default(0.95),
  /** Days a provider hold lasts after a reputation/content/rate/policy signal. */
  holdDays: z.number().int().positive().default(3),
  /** Days after which a suppression expires by itself (null = never). */
  suppressionExpiryDays: z.number().int().positive().nullable().default(null),
  /** mailbox_full must repeat on this many distinct days before the address is suppressed. */
  mailboxFullDays: z.number().int().positive().default(3),
  /** A domain is suppressed after failures to this many distinct recipients with no success in the window. */
  domainFailureRecipients: z.number().int().positive().default(3),
  domainFailureWindowDays: z.number().int().positive().default(14),
  /** Sender-side classes that put the recipient's provider on hold (the runbook's STOP signals). */
  holdClasses: z
    .array(z.enum(['reputation_block', 'content_spam', 'rate_limited', 'policy_auth']))
    .default(['reputation_block', 'content_spam', 'rate_limited', 'policy_auth']),
  /** DKIM coverage is judged only on a day with at least this many campaign messages (noise guard). */
  dkimMinMessages: z.number().int().positive().default(20),
  /** Days a DKIM-coverage global hold lasts unless a later covered day lifts it sooner. */
  dkimHoldDays: z.number().int().positive().default(7),
  /**
   * Lines per committed batch: a kill loses at most this much work (it is redone by the next run).
   * Each batch also saves the open messages (about 2 MB on a bulk night), so fewer, larger batches
   * cost less: 500k lines are a few seconds of work.
   */
  batchLines: z.number().int().positive().default(500_000),
  /** Bounded memory: open messages kept at most, and their maximal age in log time. */
  maxOpenMessages: z.number().int().positive().default(200_000),
  maxOpenAgeDays: z.number().int().positive().default(7),
});
export type MaillogConfig = z.infer<typeof maillogConfigSchema>;
