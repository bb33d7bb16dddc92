/**
 * Domain to ASCII (IDNA / UTS #46) with tr46, the implementation whatwg-url (and so jsdom) uses.
 * Chosen over node:url domainToASCII because: its result does not depend on the ICU/ada build of
 * the Node binary (pinned at 5.1.1, so the same input gives the same stored address on every
 * machine and Node upgrade); it applies STD3 rules, bidi, joiner and DNS-length checks on request
 * and reports failure as null, where domainToASCII returns '' or silently rewrites
 * URL-host forms (`0x7f.1` becomes `127.0.0.1`, `a_b.com` passes).
 */
import { toASCII } from 'tr46';

const OPTIONS = {
  useSTD3ASCIIRules: true,
  checkBidi: true,
  checkJoiners: true,
  // Our own validator reports edge hyphens with a clear message; the UTS #46 "--" at positions
  // 3-4 check would reject registered ASCII names such as ab--cd.com.
  checkHyphens: false,
  verifyDNSLength: true,
  transitionalProcessing: false,
} as const;

// Domains repeat heavily (gmail.com, yahoo.com...): a bounded cache saves most tr46 calls at 2M rows.
const CACHE_MAX = 50_000;
const cache = new Map<string, string | null>();

/**
 * The ASCII form of `domain` (lower case, fullwidth and other compatibility forms mapped, U-labels
 * to xn-- A-labels), or null when it is not a valid IDNA domain name. Pure-ASCII domains skip
 * tr46 except for case folding.
 */
export function domainToAscii(domain: string): string | null {
  if (/^[a-z0-9.-]*$/.test(domain)) return domain;
  const hit = cache.get(domain);
  if (hit !== undefined || cache.has(domain)) return hit ?? null;
  const ascii = toASCII(domain, OPTIONS);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(domain, ascii);
  return ascii;
}
