/**
 * Splitting a census e-mail field into address tokens. Filers type anything into that box:
 * several addresses (`a@x.com; b@y.com`, `a@x.com / b@y.com`, `a@x.com or b@y.com`), a display
 * name (`John <john@x.com>`), `mailto:` links, stray quotes and full stops, fullwidth characters
 * from phone keyboards. We only undo what a human reader would undo; we never guess a missing @.
 */

// Characters that are invisible or format-only: removed (a copy-paste artefact, never data).
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g;
// Ideographic full stops are dots to a CJK keyboard user; UTS #46 maps them in domains only, we
// map them everywhere so a local part typed that way is read the same.
const IDEOGRAPHIC_STOP = /[\u3002\uff61]/g;
// Unicode spaces become ASCII spaces, so they separate like whitespace.
const UNICODE_SPACE = /[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/g;
const SEPARATORS = /(?:\s+or\s+|[;,/\s]+)/i;
// Wrapping and trailing punctuation around a token: <a@b.com>, "a@b.com", (a@b.com), a@b.com.
const WRAPPERS = /^[<([{"'`]+|[>)\]}"'`.:;,]+$/g;
const MAILTO = /^mailto:/i;

/** NFKC plus invisible-character removal: fullwidth ＠ and ．, ligatures and the like become ASCII. */
export function cleanText(raw: string): string {
  return raw.normalize('NFKC').replace(INVISIBLE, '').replace(IDEOGRAPHIC_STOP, '.').replace(UNICODE_SPACE, ' ');
}

function stripToken(token: string): string {
  let t = token;
  for (;;) {
    let next = t.replace(WRAPPERS, '').trim();
    if (MAILTO.test(next)) next = next.replace(MAILTO, '').replace(/\?.*$/, '');
    if (next === t) return t;
    t = next;
  }
}

/**
 * The tokens of one e-mail field, in order, not yet lower-cased or validated.
 * - A field with no @ at all is one token (e.g. `SHEEPSHEARR2YAHOO.COM`, `N/A`): it is reported
 *   as invalid as a whole, not split into fragments.
 * - In a field that has addresses, a fragment without @ is kept (as an invalid token) only when
 *   it contains a dot, i.e. looks like a mangled address (`bob.gmail.com`); bare words are display
 *   names or filler (`John Smith <js@x.com>`, `see above`) and are dropped.
 */
export function splitEmailField(raw: string | null | undefined): string[] {
  if (raw == null) return [];
  // "john @ x.com" is one address with stray spaces, not three tokens.
  const text = cleanText(raw).replace(/\s*@\s*/g, '@').trim();
  if (text === '') return [];
  if (!text.includes('@')) {
    const whole = stripToken(text.replace(/\s+/g, ' '));
    return whole === '' ? [] : [whole];
  }
  const tokens = text
    .split(SEPARATORS)
    .map(stripToken)
    .filter((t) => t !== '');
  return tokens.filter((t) => t.includes('@') || t.includes('.'));
}
