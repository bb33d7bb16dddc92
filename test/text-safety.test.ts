import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { commandName } from '../src/cli/main.ts';
import { createOutput, jsonText } from '../src/cli/output.ts';
import { terminalText, visibleControls } from '../src/text/control-chars.ts';
import { csvField, peopleCsvField, readPeopleCsvField } from '../src/text/csv.ts';

/** Hostile text from logs, census rows and DNS answers (issue #18, points 4, 6 and 7). */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

function capture() {
  let text = '';
  const stream = { write: (s: string) => ((text += s), true), isTTY: false } as unknown as NodeJS.WritableStream & { isTTY: boolean };
  return { stream, text: () => text };
}

describe('terminal output', () => {
  it('strips escape sequences whole and other control characters, keeps tabs and line breaks', () => {
    const reason = '550 5.1.1 \x1b[2J\x1b[31mUser unknown\x1b[0m \x1b]0;pwned\x07\tdone\r\nnext \x9b31m\u202eevil\x00';
    expect(terminalText(reason)).toBe('550 5.1.1 User unknown \tdone\nnext evil');
    // An unterminated title string ends at the line break, not at the end of the output.
    expect(terminalText('a \x1b]0;title\nsummary line')).toBe('a \nsummary line');
  });

  it('no control character but tab and line break ever leaves terminalText (any input)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        expect(terminalText(s)).not.toMatch(CONTROL);
      }),
      { numRuns: 500 },
    );
  });

  it('the output module cleans every human line (info, warn, debug, the summary) and keeps --json lossless but terminal-safe', () => {
    const err = capture();
    const out = capture();
    const human = createOutput({ json: false, verbose: true, stdout: out.stream, stderr: err.stream });
    human.info('read \x1b[31mred');
    human.warn('reason \x1b]0;title\x07x');
    human.debug('\x9b2Jcleared');
    human.result({ reason: 'bounce \x1b[5mblink' });
    expect(err.text()).toBe('read red\nwarning: reason x\ndebug: cleared\n');
    expect(out.text()).toBe('reason: bounce blink\n');
    const j = capture();
    createOutput({ json: true, stdout: j.stream, stderr: capture().stream }).result({ reason: 'a\x1b[31m\x9b\u2028\u202eb' });
    expect(j.text()).not.toMatch(CONTROL);
    expect(JSON.parse(j.text())).toEqual({ reason: 'a\x1b[31m\x9b\u2028\u202eb' });
    expect(jsonText({ s: '\u0085' })).toBe('{"s":"\\u0085"}');
  });

  it('files for people show control characters as visible escapes', () => {
    expect(visibleControls('a\x00b\x1b[31m\x9bc\td\ne\u202e')).toBe('a\\x00b\\x1B[31m\\x9Bc\td\\x0Ae\\u202E');
  });
});

describe('CSV for people: formulas are neutralized the OWASP way, and read back exactly', () => {
  it('prefixes an apostrophe to a field starting with = + - @ TAB or CR, and quotes it', () => {
    expect(peopleCsvField('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(peopleCsvField("=cmd|' /C calc'!A0")).toBe(`"'=cmd|' /C calc'!A0"`);
    for (const c of ['+', '-', '@', '\t', '\r']) expect(peopleCsvField(`${c}1`)).toBe(`"'${c}1"`);
    expect(peopleCsvField('a=b')).toBe('a=b');
    expect(peopleCsvField(42)).toBe('42');
    // The Listmonk import keeps the data exact.
    expect(csvField('=SUM(A1)')).toBe('=SUM(A1)');
  });

  it('any value survives a round trip through a file written for people (check-mx --export, --import)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom("'", '=', '+', '-', '@', '\t', '\r', '\n', ',', '"', 'a', ' '), maxLength: 12 }), { minLength: 1, maxLength: 5 }), (fields) => {
        const line = fields.map(peopleCsvField).join(',');
        const [back] = parse(line + '\n', { relax_column_count: true }) as string[][];
        expect(back!.map(readPeopleCsvField)).toEqual(fields);
        // and no cell starts a formula
        for (const cell of back!) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
        // an apostrophe is added only where a formula could start
        fields.forEach((f, i) => expect(back![i]!.length - f.length).toBe(/^'*[=+\-@\t\r]/.test(f) ? 1 : 0));
      }),
      { numRuns: 300 },
    );
  });
});

describe('the command named in a JSON error', () => {
  it('skips global options and their values', () => {
    const name = (...a: string[]) => commandName(['node', 'audience', ...a]);
    expect(name('--config', 'audience.config.json', '--json', 'build')).toBe('build');
    expect(name('--config=x.json', '--json', 'status')).toBe('status');
    expect(name('-q', '--json', 'ingest', 'census', 'f.txt')).toBe('ingest census');
    expect(name('--json', 'no-such-command')).toBe('no-such-command');
    expect(name('--json')).toBe('audience');
  });
});
