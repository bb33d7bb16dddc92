/**
 * Bounce/deferral classification: the class of one deferral or bounce, which decides whether the
 * policies may suppress (a transient failure is never a permanent verdict).
 *
 * Order of evidence: Postfix's own texts (DNS, connect, TLS), then provider texts, then generic
 * wording, then the enhanced status code (dsn, or a `#5.1.1` written in the text), then the SMTP
 * stage. Provider text beats the code because providers misuse codes: Gmail's 550-5.7.1 is an IP
 * or content block (the sender's problem), Microsoft's 550 5.4.1 "Access denied" is a missing
 * recipient. Only recipient-level wording or codes make `recipient_invalid`/`domain_dead`; the
 * policies then suppress only on *bounced* (5xx, final) events of those classes.
 */
import { smtpStage } from './delivery.ts';
import { PATTERN_RULES } from './classify-rules.ts';

export const CLASSES = [
  'recipient_invalid',
  'domain_dead',
  'mailbox_full',
  'reputation_block',
  'content_spam',
  'rate_limited',
  'policy_auth',
  'transient_network',
  'expired',
  'unknown',
] as const;
export type BounceClass = (typeof CLASSES)[number];

/** Classes about the sender (IP, content, volume, authentication): holds and alerts, never a recipient suppression. */
export const SENDER_SIDE: ReadonlySet<BounceClass> = new Set(['reputation_block', 'content_spam', 'rate_limited', 'policy_auth']);

export interface Classification {
  class: BounceClass;
  /** Which rule decided, for `explain` and the conformance report. */
  rule: string;
}

/**
 * The reason with its names masked, so that the rules judge the words of the reply and never a
 * name: the relay where Postfix's own framing names it (`host NAME[IP] said: `, `host NAME[IP]
 * refused to talk to me: `, `connect to NAME[IP]:25: `, `lost connection with NAME[IP] while`,
 * `conversation with NAME[IP] timed out`), the domain of `Name service error for name=DOMAIN`, the
 * addresses a reply echoes, and Gmail's per-message id. A relay mx.bulk-haulers.example, or a
 * `550 5.1.1 <dmarc@carrier.example>: … User unknown`, read as content_spam and policy_auth (a
 * sender-side hold, no suppression) before; a relay [5.1.1.9] could read as code 5.1.1. It also
 * makes one provider's reply to many recipients one text, which is what lets classifyCached hit
 * on a bulk night (each relay, recipient and message id made a new key).
 */
export function maskRelay(reason: string): string {
  let r = reason;
  const m = FRAMED_RELAY.exec(r);
  if (m) r = m[1]! + '*' + r.slice(m[0].length);
  if (r.includes('Name service error for name=')) r = r.replace(NAME_SERVICE, 'name=* type=');
  if (r.includes('@')) r = r.replace(ADDRESS, '*@*');
  if (r.endsWith(' - gsmtp')) r = r.replace(GSMTP_ID, ' * - gsmtp');
  return r;
}
const FRAMED_RELAY = /^((?:delivery temporarily suspended: )?(?:host |connect to |lost connection with |conversation with ))[^\s[\]]*\[[^\s\]]*\](?::\d+)?(?=[: ])/;
const NAME_SERVICE = /name=\S+ type=/;
/** An address the reply echoes (`<x@carrier.example>: Recipient address rejected`, `(x@yahoo.com)`). */
const ADDRESS = /[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.?/g;
/** Gmail ends every reply with a per-message id: `… a1si1234567qtb.102 - gsmtp`. */
const GSMTP_ID = / \S+ - gsmtp$/;

/**
 * Joins a multi-line SMTP reply the way KumoMTA's to_single_line does: `550-5.1.1 a 550-5.1.1 b
 * 550 5.1.1 c` -> `550 5.1.1 a b c`. Also strips qmgr's `delivery temporarily suspended: ` prefix,
 * whose remainder is the earlier reason.
 */
export function normalizeReason(reason: string): string {
  let r = reason;
  if (r.startsWith('delivery temporarily suspended: ')) r = r.slice(32);
  const first = /\b(\d{3})[ -](\d\.\d{1,3}\.\d{1,3})\s+/.exec(r);
  if (first) {
    const head = r.slice(0, first.index) + `${first[1]} ${first[2]} `;
    const tail = r.slice(first.index + first[0].length).replace(/\b\d{3}[ -]\d\.\d{1,3}\.\d{1,3}\s+/g, '').replace(/\b\d{3}-(?=\S)/g, '');
    r = head + tail;
  } else {
    // `550-Too many 550-lines` without enhanced codes: keep the first reply code, drop the rest.
    let seen = false;
    r = r.replace(/\b(\d{3})-(?=\S)/g, (_m, code: string) => {
      if (seen) return '';
      seen = true;
      return `${code} `;
    });
  }
  return r.replace(/\s+/g, ' ');
}

const CODE_IN_TEXT = /(?:^|[\s(#\[])#?([245])\.(\d{1,3})\.(\d{1,3})\b/;

/** The enhanced status code: dsn unless it is the X.0.0 Postfix writes when the reply had none. */
export function effectiveCode(dsn: string, text: string): string {
  if (/^[245]\.\d{1,3}\.\d{1,3}$/.test(dsn) && !/^\d\.0\.0$/.test(dsn)) return dsn;
  const m = CODE_IN_TEXT.exec(text);
  if (m) return `${m[1]}.${m[2]}.${m[3]}`;
  return dsn;
}

function byCode(code: string, stage: string | null): Classification | null {
  const m = /^([245])\.(\d{1,3})\.(\d{1,3})$/.exec(code);
  if (!m) return null;
  const [cls, subj, det] = [m[1]!, Number(m[2]), Number(m[3])];
  const at = (c: BounceClass, r: string): Classification => ({ class: c, rule: `code ${code}${r}` });
  if (subj === 1) {
    if (det === 2 || det === 10) return at('domain_dead', '');
    if ([0, 1, 3, 6].includes(det)) return at('recipient_invalid', '');
    if (det === 7 || det === 8) return at('policy_auth', ' (sender address)');
  }
  if (subj === 2) {
    if (det === 2) return at('mailbox_full', '');
    if (det === 1) return at('recipient_invalid', ' (mailbox disabled)');
    if (det === 3) return at('content_spam', ' (message too big)');
  }
  if (subj === 4) {
    if (det === 4 && cls === '5') return at('domain_dead', '');
    // X.4.6 is a loop: "loops back to myself" (an MX pointing at us) is caught by text; a
    // forwarding loop is the recipient's configuration, not a verdict on the address.
    if (det === 6) return at('unknown', ' (mail loop)');
    if (det === 7) return at('expired', '');
    return at('transient_network', '');
  }
  if (subj === 3) return at(det === 4 ? 'content_spam' : 'transient_network', '');
  if (subj === 5 && det === 3) return at('rate_limited', ' (too many recipients)');
  if (subj === 7) {
    if ([4, 10, 23, 24, 25, 26, 27, 32, 9].includes(det)) return at('policy_auth', '');
    if (det === 28) return at('rate_limited', '');
    if (det === 1) {
      if (stage === 'end of DATA' || stage === 'DATA') return at('content_spam', ' at DATA');
      if (stage === 'MAIL FROM' || stage === 'greeting' || stage === 'HELO' || stage === 'EHLO') return at('reputation_block', ' before RCPT');
      return at('policy_auth', '');
    }
    return at('policy_auth', '');
  }
  return null;
}

export function classify(status: string, dsn: string, reason: string): Classification {
  return classifyMasked(status, dsn, maskRelay(reason));
}

function classifyMasked(status: string, dsn: string, masked: string): Classification {
  const text = normalizeReason(masked);
  const code = effectiveCode(dsn, text);
  const policyCode = /^\d\.7\./.test(code);
  const permanent = code.startsWith('5') || / said: 5\d\d\b|^5\d\d\b/.test(text);
  for (const rule of PATTERN_RULES) {
    if (rule.re.test(text)) {
      if (rule.onlyPermanent && !permanent) continue;
      if (rule.notPolicyCode && policyCode) continue;
      return { class: rule.class, rule: rule.name };
    }
  }
  const stage = smtpStage(text);
  const c = byCode(code, stage);
  if (c) return c;
  if (code.startsWith('4') || status === 'deferred') return { class: 'transient_network', rule: 'temporary (4xx) without a known cause' };
  if (stage === 'RCPT TO' && /\b(user|recipient|mailbox|address)\b/i.test(text)) return { class: 'recipient_invalid', rule: 'recipient wording at RCPT TO' };
  return { class: 'unknown', rule: 'no rule matched' };
}

/** Work of classifyCached since the process started (the bench's breakdown reads it). */
export const classifyStats = { calls: 0, misses: 0, ms: 0 };
const memo = new Map<string, Classification>();

/**
 * classify() memoized on its input with the relay masked (maskRelay: classify reads nothing else).
 * Deferral texts repeat across a night (a provider's throttle, the same timeout), and a miss costs
 * a normalization and up to ~40 regexes. Bounded: cleared when full, the entries are only a cache.
 */
export function classifyCached(status: string, dsn: string, reason: string): Classification {
  classifyStats.calls++;
  const masked = maskRelay(reason);
  const k = status + '\u0000' + dsn + '\u0000' + masked;
  let c = memo.get(k);
  if (!c) {
    const t0 = performance.now();
    c = classifyMasked(status, dsn, masked);
    classifyStats.ms += performance.now() - t0;
    classifyStats.misses++;
    if (memo.size >= 20_000) memo.clear();
    memo.set(k, c);
  }
  return c;
}
