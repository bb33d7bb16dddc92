/**
 * Text from outside (carrier and domain names, mail.log replies, hold details) written into the
 * HTML report: the five characters HTML gives meaning to are escaped, and control characters
 * (ESC sequences, bidi overrides that would reorder what a reader sees) are shown as visible
 * escapes, as in every file meant for people (control-chars.ts). Use it for text content and for
 * attribute values in double quotes alike.
 */
import { visibleControls } from './control-chars.ts';

const HTML_SPECIAL = /[&<>"']/g;
const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return visibleControls(s).replace(HTML_SPECIAL, (c) => ENTITY[c]!);
}
