/**
 * Which mailbox provider an outcome of mail.log went to, for the per-provider delivery counts
 * (maillog_sent_providers) and the report: the provider of the relay host that answered (the MX
 * suffix table of src/mx/providers.ts: Yahoo, AOL and Verizon answer from yahoodns.net); when the
 * relay is no known provider's, `yahoo` if the recipient's domain is on the Yahoo-family list
 * (AT&T's domains have MX hosts of their own: only the list knows them), else `other`.
 *
 * The parser, which may run in a worker thread, reads the relay of each success and hands its
 * provider over as a small code in the record's flags (bits 12-15): 0 is no known provider,
 * i + 1 is PROVIDERS[i]. The linker, which has the recipient's domain, applies the list.
 */
import { yahooFamilyMatch } from '../email/yahoo-family.ts';
import { PROVIDERS, providerOfRelayHost, type Provider } from '../mx/providers.ts';
import { relayHost } from './delivery.ts';

export const RELAY_CODE_SHIFT = 12;
export const RELAY_CODE_MASK = 0xf << RELAY_CODE_SHIFT;
/** The code of the Yahoo family (provider `yahoo`). */
export const YAHOO_CODE = PROVIDERS.indexOf('yahoo') + 1;
/** Codes 0..CODES-1: none, then one per provider. */
export const CODES = PROVIDERS.length + 1;

/** Slots of RelayCodes' byte-path cache (a power of two). */
const HOST_SLOTS = 1 << 16;

if (CODES > 16) throw new Error('outcome-provider: provider codes no longer fit in 4 bits of a record');

/** The provider name of a code; code 0 (no known provider) is `other`. */
export function providerOfCode(code: number): Provider {
  return code > 0 ? PROVIDERS[code - 1]! : 'other';
}

/**
 * Relay hosts -> code, kept per parser. The value after `relay=` holds the IP and port too, so the
 * host is cut out before the lookup; a bulk night to carriers' own servers has a relay host per
 * domain, tens of thousands, hence the bounds.
 */
export class RelayCodes {
  private readonly byHost = new Map<string, number>();
  /**
   * The byte path's cache: a direct-mapped table by FNV-1a hash of the lower-cased host bytes,
   * holding the host and its code. Most lines of a bulk night are successes, and a string per
   * line for the relay (then one for its host) cost more than the rest of reading the line; the
   * bytes are compared with the cached host, so a hash collision only costs a lookup. A table
   * slot rather than a Map entry: no hashing of the hash, and no heap number for a key beyond
   * the small-integer range.
   */
  private readonly hostOf: (string | undefined)[] = new Array(HOST_SLOTS);
  private readonly codeOf = new Uint8Array(HOST_SLOTS);

  /**
   * The code of a relay value read on its bytes buf[s, to) (from just after `, relay=` to the end
   * of the line), as `of(value)` gives it for the value up to the next comma.
   */
  ofBytes(buf: Uint8Array, s: number, to: number): number {
    let h = 0x811c9dc5;
    let e = s;
    // `[host]` (a bracketed relay) and non-ASCII bytes are rare: read as the string path reads them.
    if (buf[s] === 91) return this.ofText(buf, s, to);
    for (; e < to; e++) {
      let c = buf[e]!;
      if (c === 91 || c === 44) break;
      if (c >= 0x80) return this.ofText(buf, s, to);
      if (c >= 65 && c <= 90) c += 32;
      h = Math.imul(h ^ c, 0x01000193);
    }
    const slot = h & (HOST_SLOTS - 1);
    const hit = this.hostOf[slot];
    if (hit !== undefined && sameLower(hit, buf, s, e)) return this.codeOf[slot]!;
    const host = Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1').toLowerCase();
    const p = providerOfRelayHost(host);
    const code = p ? PROVIDERS.indexOf(p) + 1 : 0;
    this.hostOf[slot] = host;
    this.codeOf[slot] = code;
    return code;
  }

  private ofText(buf: Uint8Array, s: number, to: number): number {
    return this.of(Buffer.from(buf.buffer, buf.byteOffset + s, to - s).toString('utf8').split(',')[0]!);
  }

  /** The code of a delivery line's relay value (`gmail-smtp-in.l.google.com[142.250.1.27]:25`, `none`, `local`). */
  of(relay: string): number {
    const host = relayHost(relay);
    let code = this.byHost.get(host);
    if (code === undefined) {
      const p = providerOfRelayHost(host);
      code = p ? PROVIDERS.indexOf(p) + 1 : 0;
      if (this.byHost.size >= 1 << 16) this.byHost.clear();
      this.byHost.set(host, code);
    }
    return code;
  }
}

/** Whether buf[s, e) is `host` once lower-cased (ASCII). */
function sameLower(host: string, buf: Uint8Array, s: number, e: number): boolean {
  if (host.length !== e - s) return false;
  for (let i = 0; i < host.length; i++) {
    let c = buf[s + i]!;
    if (c >= 65 && c <= 90) c += 32;
    if (host.charCodeAt(i) !== c) return false;
  }
  return true;
}

/** The relay value of a delivery line's text: what follows its first `, relay=`, up to the next comma. */
export function relayValue(body: string): string {
  const i = body.indexOf(', relay=');
  if (i < 0) return '';
  const s = i + 8;
  const e = body.indexOf(',', s);
  return body.slice(s, e < 0 ? undefined : e);
}

/** Recipient domains -> in the Yahoo family (the linker's cache: the domains are interned strings). */
export class YahooDomains {
  private readonly known = new Map<string, boolean>();

  has(domain: string): boolean {
    let v = this.known.get(domain);
    if (v === undefined) {
      v = yahooFamilyMatch(domain) !== null;
      if (this.known.size >= 1 << 17) this.known.clear();
      this.known.set(domain, v);
    }
    return v;
  }
}
