/**
 * A practical RFC 5321 subset for addresses we would send to: dot-atom local part (no quoted
 * strings, no SMTPUTF8), a domain name (no address literals). Each check returns the problem in
 * words, which becomes the evidence of `invalid_syntax`, or null when the part is fine.
 */

/** RFC 5322 atext, the characters of a dot-atom local part. */
const ATEXT = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** A TLD is letters (2-63), or an IDNA A-label (xn--...). All-numeric TLDs do not exist. */
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** The characters OWASP lists as starting a spreadsheet formula (the local part has no tab or CR). */
const FORMULA_START = /^[=+\-@]/;

export const MAX_LOCAL = 64;
export const MAX_DOMAIN = 253;
export const MAX_LABEL = 63;

export function localPartProblem(local: string): string | null {
  if (local.length === 0) return 'nothing before the @';
  if (local.length > MAX_LOCAL) return `local part is ${local.length} characters (at most ${MAX_LOCAL})`;
  if (local.startsWith('"')) return 'quoted local part (not accepted)';
  if (/[^\x21-\x7e]/.test(local)) return 'local part has non-ASCII or control characters (SMTPUTF8 not supported)';
  if (local.startsWith('.') || local.endsWith('.')) return 'local part starts or ends with a dot';
  // RFC 5321 allows these, but a spreadsheet runs a cell starting with one as a formula, and the
  // address travels into CSV files people open (exports, rejects, Listmonk's own exports). The
  // mailbox providers this audience uses do not issue such addresses (Gmail and Outlook.com local
  // parts start with a letter or digit), so refusing them costs no real recipient.
  if (FORMULA_START.test(local)) return `local part starts with "${local[0]}", which spreadsheets run as a formula (not mailed)`;
  if (local.includes('..')) return 'local part has consecutive dots';
  for (const atom of local.split('.')) if (!ATEXT.test(atom)) return `local part has a character not allowed in an address: ${JSON.stringify(firstBad(atom))}`;
  return null;
}

/** `domain` is already ASCII (after IDNA) and lower case, without a trailing dot. */
export function domainProblem(domain: string): string | null {
  if (domain.length === 0) return 'nothing after the @';
  if (domain.startsWith('[')) return 'address literal domain (not accepted)';
  if (domain.length > MAX_DOMAIN) return `domain is ${domain.length} characters (at most ${MAX_DOMAIN})`;
  if (domain.startsWith('.') || domain.endsWith('.')) return 'domain starts or ends with a dot';
  if (domain.includes('..')) return 'domain has consecutive dots';
  const labels = domain.split('.');
  if (labels.length < 2) return 'domain has no top-level domain (no dot)';
  for (const label of labels) {
    if (label.length > MAX_LABEL) return `domain label "${label.slice(0, 20)}..." is ${label.length} characters (at most ${MAX_LABEL})`;
    if (!LABEL.test(label)) {
      if (label.startsWith('-') || label.endsWith('-')) return `domain label "${label}" starts or ends with a hyphen`;
      return `domain label "${label}" has a character not allowed in a host name: ${JSON.stringify(firstBad(label, /[a-z0-9-]/))}`;
    }
  }
  const tld = labels[labels.length - 1]!;
  if (!TLD.test(tld)) return `"${tld}" is not a top-level domain (letters only)`;
  return null;
}

function firstBad(s: string, ok = /[a-z0-9!#$%&'*+/=?^_`{|}~-]/): string {
  for (const ch of s) if (!ok.test(ch)) return ch;
  return s;
}
