/**
 * What `audience explain SUBJECT` was given: a USDOT number, an address, or a domain.
 */
import { UsageError } from '../errors.ts';
import { normalizeDomain, normalizeField, type NormalizedAddress } from './normalize.ts';
import { cleanText } from './split.ts';

export type SubjectKind = 'email' | 'domain' | 'dot';

export type Subject =
  | { kind: 'dot'; dot: number }
  | { kind: 'email'; address: NormalizedAddress }
  | { kind: 'domain'; domain: string };

const DOT = /^(?:us\s*dot|dot)?\s*(?:number|no\.?)?\s*#?\s*(\d{1,10})$/i;

export function parseSubject(raw: string): Subject {
  const text = cleanText(raw).trim();
  const dot = DOT.exec(text);
  if (dot) return { kind: 'dot', dot: Number(dot[1]) };
  if (text.includes('@')) {
    const addresses = normalizeField(text);
    if (addresses.length !== 1)
      throw new UsageError(`"${raw}" holds ${addresses.length} addresses; explain one at a time (audience explain ADDRESS).`);
    return { kind: 'email', address: addresses[0]! };
  }
  const domain = normalizeDomain(text);
  if (!domain) throw new UsageError(`"${raw}" is not an e-mail address, a domain or a USDOT number. Examples: audience explain jd@example.com | example.com | 1234567`);
  return { kind: 'domain', domain };
}
