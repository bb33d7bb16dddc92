/**
 * Where the program speaks. With --json, stdout holds exactly one JSON object (the run summary)
 * and everything human (logs, warnings, progress) goes to stderr. Without it, the summary is
 * printed as text on stdout. Progress bars appear only when stderr is a terminal.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the absolute position (and optionally a new total). */
  update(value: number, total?: number): void;
  stop(): void;
}

export interface Output {
  readonly json: boolean;
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  progress(label: string, total: number): Progress;
  /** The run summary: printed once, at the end. `human` renders it as text when not --json. */
  result(summary: object, human?: (s: object) => string): void;
}

export interface OutputOptions {
  json: boolean;
  verbose?: boolean;
  quiet?: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

const NO_PROGRESS: Progress = { update() {}, stop() {} };

export function createOutput(o: OutputOptions): Output {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const tty = Boolean(stderr.isTTY);
  let printed = false;
  return {
    json: o.json,
    info(m) {
      if (!o.quiet) stderr.write(m + '\n');
    },
    warn(m) {
      stderr.write(`warning: ${m}\n`);
    },
    debug(m) {
      if (o.verbose) stderr.write(`debug: ${m}\n`);
    },
    progress(label, total) {
      if (!tty || o.quiet) return NO_PROGRESS;
      const bar = new cliProgress.SingleBar(
        { format: `${label} [{bar}] {percentage}% {value}/{total}`, stream: stderr as NodeJS.WriteStream, hideCursor: true, clearOnComplete: true },
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
      if (o.json) stdout.write(JSON.stringify(summary) + '\n');
      else stdout.write((human ? human(summary) : renderPlain(summary)) + '\n');
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
