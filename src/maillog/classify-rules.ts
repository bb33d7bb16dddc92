/**
 * Text rules of the classifier, first match wins. Each provider text is one that provider's servers
 * are known to send (test/maillog-classify.test.ts holds them); the order encodes "Postfix-local facts, then provider texts, then generic
 * wording". Texts are matched after normalizeReason() (continuation codes joined).
 */
import type { BounceClass } from './classify.ts';

export interface PatternRule {
  name: string;
  re: RegExp;
  class: BounceClass;
  /** Applies only when the reply is permanent (5xx): e.g. "does not exist" in a 4xx is a retry. */
  onlyPermanent?: boolean;
  /**
   * Generic wording that is ignored when the status code is X.7.x (security/policy): "551 5.7.1
   * Domain not found" is about the sender's domain, and a policy refusal must never suppress.
   */
  notPolicyCode?: boolean;
}

const r = (name: string, re: RegExp, cls: BounceClass, onlyPermanent = false): PatternRule => ({ name, re, class: cls, onlyPermanent });
const generic = (name: string, re: RegExp, cls: BounceClass, onlyPermanent = false): PatternRule => ({ name, re, class: cls, onlyPermanent, notPolicyCode: true });

export const PATTERN_RULES: readonly PatternRule[] = [
  // --- Postfix's own texts (no remote reply) -------------------------------------------------
  r('postfix: DNS temporary failure', /Name service error for name=\S+ type=\S+: Host not found, try again/i, 'transient_network'),
  r('postfix: NXDOMAIN', /Host or domain name not found\. Name service error for name=\S+ type=\S+: Host not found\b/i, 'domain_dead'),
  r('postfix: no MX/A records', /Name service error for name=\S+ type=\S+: (?:No address associated with hostname|no data)/i, 'domain_dead', true),
  r('postfix: null MX', /does not accept mail \(nullMX\)/i, 'domain_dead'),
  r('postfix: mail loops back', /mail for \S+ loops back to myself/i, 'domain_dead', true),
  r('postfix: TLS required', /TLS is required, but (?:was not offered|our TLS engine is unavailable)|Server certificate not (?:verified|trusted)|TLS handshake failed|Cannot start TLS/i, 'policy_auth'),
  r('postfix: connect failure', /^connect to \S+: (?:Connection (?:timed out|refused)|No route to host|Network is unreachable|Operation timed out|Connection reset)/i, 'transient_network'),
  r('postfix: lost connection', /^(?:lost connection with|conversation with) \S+ (?:while|timed out)/i, 'transient_network'),
  r('postfix: local transport error', /unknown mail transport error|mail transport unavailable|Temporary lookup failure|temporary failure\. Command output/i, 'transient_network'),
  r('postfix local: unknown user', /^unknown user: /i, 'recipient_invalid'),

  // --- Gmail ----------------------------------------------------------------------------------
  r('gmail: IP rate limited (4.7.28)', /unusual rate of unsolicited mail originating from your IP address.*temporarily\b.*rate limited|UnsolicitedRateLimitError/i, 'rate_limited'),
  r('gmail: IP blocked (UnsolicitedIPError)', /unusual rate of unsolicited mail originating from your IP address|UnsolicitedIPError/i, 'reputation_block'),
  r('gmail: low domain/IP reputation', /very low reputation of the sending (?:domain|IP)|poor reputation/i, 'reputation_block'),
  r('gmail: message likely unsolicited', /likely unsolicited mail|UnsolicitedMessageError|suspicious due to the nature of the content/i, 'content_spam'),
  r('gmail: DMARC/authentication', /sender is unauthenticated|requires all senders to authenticate|This mail is unauthenticated|no DMARC alignment|DMARC policy|does not pass DMARC|not pass authentication checks|(?:SPF|DKIM) (?:check|validation|record)s? (?:failed|did not pass)/i, 'policy_auth'),
  r('gmail: receiving at a rate', /receiving mail (?:at a rate|too quickly)|exceeded the rate limit|ReceivingRate/i, 'rate_limited'),
  r('gmail: disabled user', /account that you tried to reach is (?:disabled|inactive)|DisabledUser/i, 'recipient_invalid'),
  r('gmail: over quota', /out of storage space|OverQuota(?:Temp|Perm)|over quota|overquota|quota exceeded|exceeded (?:its|their|the) (?:storage )?quota/i, 'mailbox_full'),

  // --- Yahoo / AOL -----------------------------------------------------------------------------
  r('yahoo: throttled (TSS/IPTS/TS)', /\[(?:TSS0\d|IPTS0\d|TS0\d)\]|temporarily deferred due to (?:unexpected volume or )?user complaints/i, 'rate_limited'),
  r('yahoo: Spamhaus/blocklist (BL)', /\[BL2\d\]/i, 'reputation_block'),
  r('yahoo: policy (PH01, 5.7.9)', /\[PH0\d\]|Message not accepted for policy reasons/i, 'policy_auth'),
  r('yahoo: user unknown/disabled', /dd This user doesn't have|is no longer valid|This mailbox is disabled|\(554\.30\)/i, 'recipient_invalid'),

  // --- Microsoft -----------------------------------------------------------------------------
  r('microsoft: block list (S3150/S3140)', /\(A?S31[45]0\)|part of their network is on our block list|banned sending IP|5\.7\.606|5\.7\.511|messages from \[?[\d.]+\]? weren.t sent/i, 'reputation_block'),
  r('microsoft: IP rate limited (4.7.650/651)', /4\.7\.65[01]|temporarily rate limited due to IP reputation|5\.2\.12[12]|exceeded (?:their|the) limit for the number of messages/i, 'rate_limited'),
  r('microsoft 365: recipient rejected (DBEB 5.4.1)', /Recipient address(?:es)? rejected ?: Access denied/i, 'recipient_invalid'),
  r('outlook: mailbox unavailable (5.5.0)', /5\.5\.0 Requested action not taken: mailbox unavailable/i, 'recipient_invalid'),

  // --- Comcast and other ISPs ----------------------------------------------------------------
  r('comcast: not our customer', /Not our Customer|recipient mailbox unallocated/i, 'recipient_invalid'),
  r('comcast: too many recent messages', /too many recent messages/i, 'rate_limited'),

  // --- Generic sender-side wording -------------------------------------------------------------
  r('blocklist (DNSBL, Spamhaus, RBL)', /blocked using |spamhaus|\bblack ?list(?:ed)?\b|\bblock ?list(?:ed)?\b|\bRBL\b|\bDNSBL\b|listed (?:at|on|in) \S+|barracudacentral|sorbs\.net|spamcop|\bbanned\b.*\bIP\b|IP .*\b(?:banned|blocked)\b|reputation/i, 'reputation_block'),
  r('missing reverse DNS / PTR', /reverse (?:DNS|hostname|lookup)|\bPTR\b|Client host rejected: cannot find your (?:hostname|reverse)/i, 'policy_auth'),
  r('recipient filter block (not a verdict on the address)', /Recipient address rejected: (?:[\w-]*BLOCK[\w-]*|Blocked|Policy|NO-DOMAIN|[\w-]*Customized-Block)/i, 'policy_auth'),
  r('administrative prohibition', /Administrative prohibition|Rule imposed mailbox access for \S+ refused(?!: Invalid User)|Policy Rejection/i, 'policy_auth'),
  r('message too big', /message size limit|message (?:is )?too (?:big|large)|exceeds? (?:the )?(?:maximum )?(?:message )?size/i, 'content_spam'),
  generic('mailbox full', /mailbox (?:is )?full|mailbox size limit|insufficient (?:system )?storage|exceeds? (?:its |the )?(?:storage|size) (?:limit|allocation)|Mailbox size limit exceeded/i, 'mailbox_full'),
  r('relay/authentication refused', /Relay access denied|relaying denied|not permitted to relay|relay not permitted|authentication required|Sender address rejected|sender verify failed|Sender domain must resolve|SPF|DKIM|DMARC/i, 'policy_auth'),
  r('content looks like spam or a virus', /\bspam\b|\bvirus\b|malware|content (?:rejected|denied)|banned content|message content|message filtered|\bUCE\b|\bbulk\b|advertis|phish/i, 'content_spam'),
  r('greylisting', /greylist|graylist|grey-list|try again later.*(?:4\.2\.0|4\.7\.1)|(?:4\.2\.0|4\.7\.1).*try again later/i, 'transient_network'),
  r('rate limiting', /rate limit|too many (?:connections|messages|mails|sessions|concurrent)|Max message per connection|excessive volume|throttl|slow down|temporarily deferred|exceeded .*limit|limit exceeded|try again in \d/i, 'rate_limited'),
  r('greeting refused', /refused to talk to me: 5\d\d/i, 'reputation_block'),
  r('greeting refused (temporary)', /refused to talk to me: 4\d\d/i, 'transient_network'),

  // --- Generic recipient wording -----------------------------------------------------------------
  generic('domain unroutable', /Unrouteable address|domain (?:not found|does not exist|has no MX)|No such domain|unknown domain|host unknown/i, 'domain_dead', true),
  r(
    'unknown recipient',
    /user unknown|unknown user|no such (?:user|recipient|mailbox|address)|invalid (?:recipient|mailbox|address|user)|recipient (?:address )?(?:unknown|not found|invalid|does not exist)|Recipient address rejected: (?:User|Invalid|Unknown|Inactive|Not in recipient list|No such|Mailbox)|unknown recipient|mailbox (?:unavailable|not found|does not exist|disabled|inactive|unknown)|(?:account|address|user|recipient|mailbox) (?:does not exist|doesn.t exist|not found|is disabled|has been disabled|is inactive|is unavailable)|does not exist|undeliverable address|no mailbox here|not a valid (?:mailbox|recipient|user)|Requested action not taken: mailbox|Recipient unavailable|User not found|Bad destination mailbox/i,
    'recipient_invalid',
    true,
  ),
];
