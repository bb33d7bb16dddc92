/**
 * FNV-1a over the bytes buf[s, e): the 32-bit hash of the in-process hash tables that key on raw
 * bytes (the scrub's interned strings, the first normalize's address ids). Cheap, well spread in
 * its low bits, and the same on every run; not for anything an adversary chooses to collide.
 */
export function fnv1a(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h;
}
