import { describe, expect, it } from 'vitest';
import { CensusScanner, MAX_RAW_BYTES, MAX_RECORD_LINES, parseDot, rawText, type RecordWriter, type ScanOptions } from '../../src/census/scanner.ts';

/** A writer that writes a checked record's fields back as they are in the file (the RowTyper has its own tests). */
const asFiled: RecordWriter = {
  valueColumns: 3,
  overhead: 0,
  reject: null,
  write(buf, starts, ends, out, pos) {
    for (let i = 0; i < 3; i++) {
      if (i) out[pos++] = 0x2c;
      pos += buf.copy(out, pos, starts[i], ends[i]);
    }
    return pos;
  },
};

/** Scans `input` fed in pieces of `step` bytes; returns the COPY rows as latin1 lines and the stats. */
function scan(input: Buffer | string, opts: Partial<ScanOptions> = {}, step = Infinity) {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const scanner = new CensusScanner({ fieldCount: 3, dotIndex: 0, encoding: 'WIN1252', firstLine: 2, chunkBytes: 64, writer: asFiled, ...opts });
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += step === Infinity ? bytes.length : step) out.push(...scanner.push(bytes.subarray(i, i + (step === Infinity ? bytes.length : step))));
  out.push(...scanner.end());
  const rows = Buffer.concat(out).toString('latin1').split('\n');
  expect(rows.pop()).toBe('');
  return { rows, stats: scanner.stats };
}

const reject = (line: number, reason: RegExp | string, rows: string[]) => {
  // A reject carries no DOT number (the scan could not trust it) and no values: then reason and raw text.
  const row = rows.find((r) => r.startsWith(`${line},,,,,"`));
  expect(row, `line ${line} rejected`).toBeDefined();
  expect(row!.slice(`${line},,,,,"`.length)).toMatch(reason);
  expect(row!.endsWith('"')).toBe(true);
};

describe('census scanner: records to COPY', () => {
  it('prefixes good records with their line number and DOT number, and strips CR', () => {
    const { rows, stats } = scan('1,"A","B"\r\n22,"C, D","E ""F"""\r\n');
    expect(rows).toEqual(['2,1,1,"A","B"', '3,22,22,"C, D","E ""F"""']);
    expect(stats).toMatchObject({ read: 2, accepted: 2, rejected: 0 });
  });

  it('gives the same rows whatever the chunk boundaries (byte by byte, CRLF split)', () => {
    const input = '1,"A","B"\r\n2,"multi\r\nline","x"\r\n\r\n3,"9","ok"';
    const whole = scan(input);
    for (const step of [1, 2, 3, 7]) expect(scan(input, {}, step)).toEqual(whole);
    // A quoted line break stays in the record (PostgreSQL reads it as data); the record keeps its first line's number.
    expect(whole.rows.join('\n')).toBe('2,1,1,"A","B"\n3,2,2,"multi\r\nline","x"\n6,3,3,"9","ok"');
  });

  it('skips blank lines without counting them and keeps counting physical lines', () => {
    const { rows, stats } = scan('\n1,a,b\n\r\n\n2,c,d\n');
    expect(rows).toEqual(['3,1,1,a,b', '6,2,2,c,d']);
    expect(stats.read).toBe(2);
  });

  it('accepts a quoted DOT number and leading zeros, and reports DOT numbers seen twice', () => {
    const { rows, stats } = scan('"7",a,b\n007,c,d\n8,e,f\n');
    expect(rows).toHaveLength(3);
    expect([...stats.duplicateDots]).toEqual([7]);
  });

  it('cuts output into chunks of whole records', () => {
    const input = Array.from({ length: 50 }, (_, i) => `${i + 1},"name ${i}","x"`).join('\n');
    const scanner = new CensusScanner({ fieldCount: 3, dotIndex: 0, encoding: 'WIN1252', firstLine: 2, chunkBytes: 64, writer: asFiled });
    const chunks = [...scanner.push(Buffer.from(input)), ...scanner.end()];
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c[c.length - 1]).toBe(0x0a);
  });
});

describe('census scanner: bad rows are rejected with line and reason, and the scan goes on', () => {
  it('wrong field count, both ways', () => {
    const { rows, stats } = scan('1,a\n2,a,b,c\n3,a,b\n');
    reject(2, /^field_count: 2 fields, the header has 3/, rows);
    reject(3, /^field_count: 4 fields/, rows);
    expect(rows[2]).toBe('4,3,3,a,b');
    expect(stats).toMatchObject({ read: 3, accepted: 1, rejected: 2 });
  });

  it('bad DOT numbers: letters, empty, zero, too long, in another column', () => {
    const { rows } = scan('39O1,a,b\n,a,b\n0,a,b\n1234567890123456,a,b\n"12 ",a,b\n');
    for (const line of [2, 3, 4, 5, 6]) reject(line, /^bad_dot_number/, rows);
    const other = scan('a,12,b\nb,x,c\n', { dotIndex: 1 });
    expect(other.rows[0]).toBe('2,12,a,12,b');
    reject(3, /^bad_dot_number/, other.rows);
  });

  it('broken quoting: a quote inside an unquoted field, text after a closing quote', () => {
    const { rows } = scan('1,AB"C,d\n2,"JOHN "BIG" SMITH",x\n3,ok,ok\n');
    reject(2, /^broken_quoting: quote inside an unquoted field 2/, rows);
    reject(3, /^broken_quoting: text after a closing quote in field 2/, rows);
    expect(rows[2]).toBe('4,3,3,ok,ok');
  });

  it('an unterminated quote rejects only its own line; the next line is read normally', () => {
    const { rows, stats } = scan('1,"open,x\r\n2,"fine","y"\r\n3,a,b\r\n');
    reject(2, /^broken_quoting: a quoted field is not closed before the end of the line/, rows);
    expect(rows.slice(1)).toEqual(['3,2,2,"fine","y"', '4,3,3,a,b']);
    expect(stats).toMatchObject({ read: 3, accepted: 2, rejected: 1 });
  });

  it('an unterminated quote cannot swallow the rest of the file', () => {
    const tail = Array.from({ length: MAX_RECORD_LINES + 5 }, (_, i) => `${i + 10},plain text,more`).join('\n');
    const { rows, stats } = scan(`1,"never closed,x\n${tail}\n`);
    reject(2, /^broken_quoting/, rows);
    expect(stats.accepted).toBe(MAX_RECORD_LINES + 5);
  });

  it('an unterminated quote on the last line is rejected at the end of the file', () => {
    const { rows } = scan('1,a,b\n2,"open,x');
    reject(3, /^broken_quoting: quoted field 2 is not closed at the end of the file/, rows);
  });

  it('bytes undefined in Windows-1252 and NUL are rejected and shown escaped in the raw text', () => {
    const { rows } = scan(Buffer.concat([Buffer.from('1,"CONTROL'), Buffer.from([0x81]), Buffer.from('CHAR",x\n2,"NUL'), Buffer.from([0]), Buffer.from('",x\n3,"PE\xd1A",x\n', 'latin1')]));
    reject(2, /^undecodable_bytes: byte 0x81 is undefined in Windows-1252 \(field 2\)/, rows);
    reject(3, /^undecodable_bytes: NUL byte in field 2/, rows);
    expect(rows[0]).toContain('"1,""CONTROL\\x81CHAR"",x"');
    expect(rows[2]).toBe('4,3,3,"PE\xd1A",x');
  });

  it('UTF-8 files: invalid sequences rejected, valid ones kept', () => {
    const bad = Buffer.concat([Buffer.from('1,"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('",x\n')]);
    const good = Buffer.from('2,"TRANSPORTES PEÑA",x\n', 'utf8');
    const { rows } = scan(Buffer.concat([bad, good]), { encoding: 'UTF8' });
    reject(2, /^undecodable_bytes: invalid UTF-8/, rows);
    expect(Buffer.from(rows[1]!, 'latin1').toString('utf8')).toBe('3,2,2,"TRANSPORTES PEÑA",x');
  });

  it('a line longer than the raw limit is cut in the reject', () => {
    const long = `1,"${'x'.repeat(MAX_RAW_BYTES * 2)}`;
    const { rows } = scan(`${long}\n`);
    expect(rows[0]!.length).toBeLessThan(MAX_RAW_BYTES + 200);
    expect(rows[0]).toContain('[truncated]');
  });
});

describe('census scanner helpers', () => {
  it('parseDot reads 1-15 digits, optionally quoted', () => {
    const b = (s: string) => Buffer.from(s);
    expect(parseDot(b('1234567'), 0, 7)).toBe(1234567);
    expect(parseDot(b('"42"'), 0, 4)).toBe(42);
    expect(parseDot(b('12a'), 0, 3)).toBe(0);
    expect(parseDot(b(''), 0, 0)).toBe(0);
    expect(parseDot(b('""'), 0, 2)).toBe(0);
  });

  it('rawText quotes for CSV and escapes what PostgreSQL would refuse', () => {
    expect(rawText(Buffer.from('a"b'), 'WIN1252').toString('latin1')).toBe('"a""b"');
    expect(rawText(Buffer.from([0x41, 0x9d, 0x42]), 'WIN1252').toString('latin1')).toBe('"A\\x9DB"');
    expect(rawText(Buffer.from([0x41, 0xff, 0x00]), 'UTF8').toString('utf8')).toBe('"A\uFFFD\\x00"');
  });
});
