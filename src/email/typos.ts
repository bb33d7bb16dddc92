/**
 * Misspelled domains of the big mailbox providers, with the intended domain. An address at one of
 * these is never mailed as given (the mail bounces or, worse, reaches a typo-squatter's catch-all,
 * a known spam trap), and never corrected silently either: `typo_domain` records the suggestion so
 * an operator can fix the carrier's record.
 *
 * Maintained as data: name misspellings observed in registration data and the mailcheck.js /
 * email-spell-checker default tables, plus each provider's name with common mistyped TLDs.
 * Corporate domains of ISPs (comcast.com, verizon.com, cox.com) are real mail domains and are not
 * listed. Entries must never be a real provider domain (test/email-lists.test.ts checks this).
 */

/** Misspelled registrable names of providers, by intended domain. */
const NAME_TYPOS: Readonly<Record<string, readonly string[]>> = {
  'gmail.com': [
    'gmial.com', 'gmal.com', 'gmai.com', 'gamil.com', 'gmaill.com', 'gmali.com', 'gnail.com', 'gmsil.com', 'gmaio.com',
    'gmeil.com', 'gmil.com', 'gmaul.com', 'gmakl.com', 'gmaik.com', 'gimal.com', 'gamail.com', 'gmailc.om',
    'gmaiil.com', 'ggmail.com', 'gmmail.com', 'gemail.com', 'gmall.com', 'gmaim.com', 'gmajl.com', 'gnmail.com',
  ],
  'yahoo.com': ['yaho.com', 'yahooo.com', 'yhoo.com', 'yahho.com', 'yaoo.com', 'yahool.com', 'yahou.com', 'yhaoo.com', 'yahoi.com', 'tahoo.com', 'uahoo.com', 'yahpp.com', 'yaboo.com'],
  'hotmail.com': ['hotmial.com', 'hotmal.com', 'hotmai.com', 'hotmil.com', 'hotamil.com', 'hotmaill.com', 'hotnail.com', 'hotmali.com', 'hotmsil.com', 'hotmaik.com', 'homail.com', 'hotail.com', 'hptmail.com', 'htomail.com', 'hormail.com'],
  'outlook.com': ['outlok.com', 'outllok.com', 'outlool.com', 'outloo.com', 'outook.com', 'oulook.com', 'otlook.com', 'outlookk.com', 'outloook.com', 'ourlook.com'],
  'aol.com': ['aoll.com', 'aoil.com', 'aoln.com'],
  'icloud.com': ['iclod.com', 'icoud.com', 'iclould.com', 'icould.com', 'icluod.com', 'iclud.com'],
  'comcast.net': ['comcat.net', 'comcst.net', 'concast.net', 'comast.net', 'comcas.net'],
  'sbcglobal.net': ['sbcglobal.com', 'sbcgloabl.net', 'sbcgobal.net', 'sbglobal.net', 'sbcglobel.net', 'sbcgloble.net'],
  'att.net': ['att.ne', 'attt.net'],
  'bellsouth.net': ['bellsouth.com', 'belsouth.net', 'bellsout.net', 'bellsoth.net'],
  'verizon.net': ['verison.net', 'verizion.net', 'verizn.net'],
  'live.com': ['livee.com'],
  'charter.net': ['chater.net', 'charte.net'],
};

/** Providers whose name, with a mistyped TLD, is a typo (`gmail.con`, `yahoo.cmo`, ...). */
const TLD_TYPO_PROVIDERS = ['gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'aol.com', 'icloud.com', 'live.com', 'msn.com', 'ymail.com'] as const;
const COM_TYPOS = ['con', 'cmo', 'ocm', 'comm', 'vom', 'xom', 'cpm', 'coom', 'clm', 'comn', 'co', 'om', 'cim', 'cm'] as const;

function buildTable(): ReadonlyMap<string, string> {
  const table = new Map<string, string>();
  for (const [intended, typos] of Object.entries(NAME_TYPOS)) for (const t of typos) table.set(t, intended);
  for (const provider of TLD_TYPO_PROVIDERS) {
    const name = provider.slice(0, provider.lastIndexOf('.'));
    for (const tld of COM_TYPOS) table.set(`${name}.${tld}`, provider);
  }
  return table;
}

/** typo domain -> the domain it most likely meant. */
export const TYPO_DOMAINS: ReadonlyMap<string, string> = buildTable();

/** The intended domain when `domain` (ASCII, lower case) is a known misspelling, else null. */
export function typoSuggestion(domain: string): string | null {
  return TYPO_DOMAINS.get(domain) ?? null;
}
