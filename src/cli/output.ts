/**
 * Where the program speaks. With --json, stdout holds exactly one JSON object (the run summary)
 * and everything human (logs, warnings, progress) goes to stderr. Without it, the summary is
 * printed as text on stdout. Progress bars appear only when stderr is a terminal.
 *
 * Everything printed goes through terminalText (src/text/control-chars.ts) or, for JSON, jsonText:
 * bounce reasons, census names and file names come from outside, and a terminal would obey the
 * escape sequences in them.
 */
import cliProgress from 'cli-progress';
import type { Output, Progress } from '../context.ts';
import { terminalText } from '../text/control-chars.ts';

export type { Output, Progress } from '../context.ts';

export interface OutputOptions {
  json: boolean;
  verbose?: boolean;
  quiet?: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

const NO_PROGRESS: Progress = { update() {}, stop() {} };

/**
 * One JSON line, with the characters a terminal may act on that JSON.stringify leaves as they are
 * (DEL, C1 controls, bidi controls, line and paragraph separators) written as \u escapes: the
 * same JSON value, safe on a terminal. JSON syntax is ASCII, so these only occur inside strings.
 */
export function jsonText(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function createOutput(o: OutputOptions): Output {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const tty = Boolean(stderr.isTTY);
  let printed = false;
  return {
    json: o.json,
    info(m) {
      if (!o.quiet) stderr.write(terminalText(m) + '\n');
    },
    warn(m) {
      stderr.write(`warning: ${terminalText(m)}\n`);
    },
    debug(m) {
      if (o.verbose) stderr.write(`debug: ${terminalText(m)}\n`);
    },
    progress(label, total) {
      if (!tty || o.quiet) return NO_PROGRESS;
      const bar = new cliProgress.SingleBar(
        { format: `${terminalText(label).replaceAll('{', '(').replaceAll('}', ')')} [{bar}] {percentage}% {value}/{total}`, stream: stderr as NodeJS.WriteStream, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
      return {
        update(v, t) {
          if (t !== undefined) bar.setTotal(t);
          bar.update(v);
        },
        stop() {
          bar.stop();
        },
      };
    },
    result(summary, human) {
      if (printed) throw new Error('Output.result() called twice: stdout must hold exactly one summary');
      printed = true;
      if (o.json) stdout.write(jsonText(summary) + '\n');
      else stdout.write(terminalText(human ? human(summary) : renderPlain(summary)) + '\n');
    },
  };
}

/** A readable default rendering of a summary: `key: value` lines, nested objects indented. */
export function renderPlain(v: unknown, indent = ''): string {
  if (v === null || typeof v !== 'object') return String(v);
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== 'object')) return v.join(', ');
    return v.map((x) => `${indent}- ${renderPlain(x, indent + '  ').trimStart()}`).join('\n');
  }
  return Object.entries(v)
    .map(([k, x]) => (x !== null && typeof x === 'object' && Object.keys(x).length ? `${indent}${k}:\n${renderPlain(x, indent + '  ')}` : `${indent}${k}: ${renderPlain(x, indent)}`))
    .join('\n');
}
