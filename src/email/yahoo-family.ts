/**
 * The Yahoo family by static list: domains whose mail Yahoo Inc. receives (Yahoo Mail, the AOL
 * brands, verizon.net) or filters (AT&T's domains), as the Thunderbird ISPDB (@c6ad796) and the
 * providers' own statements confirm them. One complaint or spam-trap hit
 * there defers the IP at Yahoo and hurts Gmail and Microsoft reputation too, so these are never
 * mailed, and an allowlist entry cannot override them (src/rules/engine.ts).
 *
 * This is the only copy of the list. The `yahoo_family` rule by list (src/rules/yahoo-family-list.ts)
 * matches it on the normalized domain and its subdomains; the MX rule (#5) adds every domain whose
 * lowest-preference MX hosts are all under yahoodns.net, because AT&T's gateways are their own and
 * custom domains hosted by Yahoo are not on any list. Both report the same code.
 *
 * Deliberately absent: yahoo.co.jp and ymail.ne.jp (LY Corporation, its own MX, not Yahoo Inc.);
 * the tier B yahoo.* country domains (left to the MX check, which sees yahoodns.net); frontier.com,
 * btinternet.com, sky.com, comcast.net, telus.net (their own or Google's mail today).
 */

export type YahooFamilyGroup = 'Yahoo Mail' | 'AOL' | 'Verizon (AOL Mail)' | 'AT&T (Yahoo back end)' | 'Cox (Yahoo Mail)' | 'Rogers (Yahoo Mail)';

const GROUPS: Readonly<Record<YahooFamilyGroup, readonly string[]>> = {
  // ISPDB yahoo.com.xml (yahoo.co.in, myyahoo.com 2025-08; yahoo.ca 2025-11).
  'Yahoo Mail': [
    'yahoo.com', 'yahoo.ca', 'yahoo.de', 'yahoo.it', 'yahoo.fr', 'yahoo.es', 'yahoo.se', 'yahoo.co.in', 'yahoo.co.uk',
    'yahoo.co.nz', 'yahoo.com.au', 'yahoo.com.ar', 'yahoo.com.br', 'yahoo.com.mx', 'ymail.com', 'myyahoo.com', 'rocketmail.com',
  ],
  // ISPDB aol.com.xml brands and country domains; love.com, ygm.com, games.com, wow.com per the
  // mailcheck wiki list of AOL domains.
  AOL: [
    'aol.com', 'aim.com', 'netscape.net', 'netscape.com', 'compuserve.com', 'cs.com', 'wmconnect.com', 'aol.de', 'aol.it',
    'aol.fr', 'aol.es', 'aol.se', 'aol.co.uk', 'aol.co.nz', 'aol.com.au', 'aol.com.ar', 'aol.com.br', 'aol.com.mx',
    'love.com', 'ygm.com', 'games.com', 'wow.com',
  ],
  // MX cut over to AOL on 2017-06-20 (wordtothewise.com, quoting AOL; ISPDB verizon.net.xml).
  'Verizon (AOL Mail)': ['verizon.net'],
  // ISPDB att.net.xml: AT&T's 12 domains. Their MX is AT&T's own (*.prodigy.net), so only a list catches them.
  'AT&T (Yahoo back end)': [
    'att.net', 'ameritech.net', 'bellsouth.net', 'currently.com', 'flash.net', 'nvbell.net', 'pacbell.net', 'prodigy.net',
    'sbcglobal.net', 'snet.net', 'swbell.net', 'wans.net',
  ],
  // ISPDB added cox.net to yahoo.com.xml on 2024-06-21 ("cox.net is now hosted by Yahoo").
  'Cox (Yahoo Mail)': ['cox.net'],
  // "Rogers Yahoo! Mail" (rogers.com support pages).
  'Rogers (Yahoo Mail)': ['rogers.com'],
};

/** domain -> the group it belongs to. */
export const YAHOO_FAMILY_DOMAINS: ReadonlyMap<string, YahooFamilyGroup> = new Map(
  (Object.entries(GROUPS) as [YahooFamilyGroup, readonly string[]][]).flatMap(([group, domains]) => domains.map((d) => [d, group] as const)),
);

/**
 * The listed Yahoo-family domain that `domain` (normalized: ASCII, lower case) is or is under,
 * with its group; null when it is not on the list. `mail.yahoo.com` matches `yahoo.com`;
 * `yahoo.co.jp` and `notyahoo.com` do not.
 */
export function yahooFamilyMatch(domain: string): { domain: string; group: YahooFamilyGroup } | null {
  let d = domain.toLowerCase().replace(/\.+$/, '');
  for (;;) {
    const group = YAHOO_FAMILY_DOMAINS.get(d);
    if (group) return { domain: d, group };
    const dot = d.indexOf('.');
    if (dot < 0) return null;
    d = d.slice(dot + 1);
  }
}
