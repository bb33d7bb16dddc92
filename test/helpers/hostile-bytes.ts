/**
 * fast-check generators of hostile input files: real lines of a sample, damaged the ways files get
 * damaged (a NUL, bytes that are not UTF-8 or not Windows-1252, a stray CR or quote, a line of
 * a hundred kilobytes, random bytes, escape sequences), for the fuzz properties of the census
 * scanner and the mail.log reader (issue #18). Lines are bytes without their line break.
 */
import fc from 'fast-check';

const b = (s: string) => Buffer.from(s, 'latin1');

/** Inserts `bytes` at a position of `line` chosen by `at` (0..1). */
const insertAt = (line: Buffer, bytes: Buffer, at: number) => {
  const i = Math.floor(at * (line.length + 1));
  return Buffer.concat([line.subarray(0, i), bytes, line.subarray(i)]);
};

/** One damaged line made from a sample line (a Buffer without LF). */
export function hostileLine(samples: readonly Buffer[], opts: { huge?: boolean } = {}): fc.Arbitrary<Buffer> {
  const sample = fc.constantFrom(...samples);
  const at = fc.double({ min: 0, max: 1, noNaN: true });
  const noLf = (u: Uint8Array) => Buffer.from(u.map((x) => (x === 0x0a ? 0x20 : x)));
  const arbs: { weight: number; arbitrary: fc.Arbitrary<Buffer> }[] = [
    { weight: 8, arbitrary: sample },
    { weight: 2, arbitrary: fc.tuple(sample, at).map(([l, a]) => insertAt(l, Buffer.from([0]), a)) },
    { weight: 1, arbitrary: fc.tuple(sample, fc.integer({ min: 1, max: 4096 })).map(([l, n]) => Buffer.concat([Buffer.alloc(n), l])) },
    { weight: 2, arbitrary: fc.tuple(sample, at, fc.constantFrom(b('\xff'), b('\xc3'), b('\x80\x80'), b('\xed\xa0\x80'), b('\x81'), b('\x9d'))).map(([l, a, x]) => insertAt(l, x, a)) },
    { weight: 2, arbitrary: fc.tuple(sample, at, fc.constantFrom(b('\r'), b('"'), b('""'), b(','), b('"\n"'))).map(([l, a, x]) => insertAt(l, x, a)) },
    { weight: 1, arbitrary: fc.tuple(sample, at, fc.constantFrom(b('\x1b[2J\x1b[31m'), b('\x1b]0;pwned\x07'), Buffer.from('\u202e\u009b', 'utf8'), b('=cmd|\' /C calc\'!A0'))).map(([l, a, x]) => insertAt(l, x, a)) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map(noLf) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 1, arbitrary: fc.tuple(sample, fc.integer({ min: 1, max: 80 })).map(([l, n]) => l.subarray(0, Math.max(0, l.length - n))) },
  ];
  if (opts.huge) arbs.push({ weight: 1, arbitrary: fc.tuple(fc.integer({ min: 65_000, max: 140_000 }), fc.constantFrom(0x41, 0x00, 0xff)).map(([n, c]) => Buffer.alloc(n, c)) });
  return fc.oneof(...arbs);
}

/** A file's bytes: hostile lines joined by LF (sometimes CRLF), with or without a final line break. */
export function hostileText(samples: readonly Buffer[], opts: { huge?: boolean; maxLines?: number } = {}): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.array(hostileLine(samples, opts), { maxLength: opts.maxLines ?? 40, size: 'max' }), fc.boolean(), fc.boolean())
    .map(([lines, crlf, finalBreak]) => {
      const sep = Buffer.from(crlf ? '\r\n' : '\n');
      const parts: Buffer[] = [];
      lines.forEach((l, i) => {
        parts.push(l);
        if (i < lines.length - 1 || finalBreak) parts.push(sep);
      });
      return Buffer.concat(parts);
    });
}

/** Splits `bytes` into pieces at the given cut points (fractions): how a stream may hand them over. */
export function pieces(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    if (c > from) out.push(bytes.subarray(from, c));
    from = Math.max(from, c);
  }
  out.push(bytes.subarray(from));
  return out.filter((p) => p.length > 0);
}
