/**
 * Control characters in text that came from outside (mail.log replies, census fields, DNS
 * answers). A terminal obeys them: an ESC sequence in a bounce reason can recolour the screen,
 * move the cursor over earlier lines or retitle the window, and a bidi override can reorder what
 * is shown. Two treatments, one per destination:
 *
 * - terminalText: for everything printed to a terminal (the output module and the error handler
 *   call it on every line): ESC sequences are removed whole, other controls dropped.
 * - visibleControls: for files a person reads (the rejects' raw column): each control becomes a
 *   visible escape (`\x1B`, `\x9B`, `\u202E`), so the file shows what the bytes were and is safe to `cat`.
 *
 * terminalText keeps TAB and LF (our own messages are laid out with them); visibleControls keeps
 * TAB only (a raw line is one line). Controls are C0 (U+0000-U+001F),
 * DEL, C1 (U+0080-U+009F) and the bidi embeddings, overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069).
 */

/** ESC sequences: CSI (ESC [ ... final byte), OSC/DCS/PM/APC/SOS strings (up to BEL or ESC \), any other two-byte ESC x. */
const ESC_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[ -~]?)|\x9b[0-?]*[ -/]*[@-~]?|[\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_LF = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const ANY_OR_LF = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
/** A quick test: almost every line printed has no control at all. */
const ANY = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** `s` safe to print on a terminal: ESC sequences removed whole, other controls dropped (TAB and LF kept). */
export function terminalText(s: string): string {
  if (!ANY.test(s)) return s;
  return s.replace(ESC_SEQUENCE, '').replace(CONTROL, '');
}

/** `s` with each control character (LF included, TAB not) as a visible escape: `\x00`, `\x1B`, `\x9B`, `\u202E`. */
export function visibleControls(s: string): string {
  if (!ANY_OR_LF.test(s)) return s;
  return s.replace(CONTROL_OR_LF, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  });
}
