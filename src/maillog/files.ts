/**
 * Which files to read, in which order, and how to recognise one again.
 *
 * Rotation sets: `mail.log`, `mail.log.1` (uncompressed: delaycompress), `mail.log.2.gz`…, the
 * dateext forms `mail.log-20260617[.gz]`, and postfix's own `mail.log.20260617-000000[.gz]`.
 * Read oldest first: highest number first, then dates ascending, the live file last.
 *
 * Identity: a hash of the first line plus the inode. The hash is the key: logrotate renames
 * (`mail.log` -> `.1`, same inode) and then compresses (`.1` -> `.2.gz`, new inode, same first
 * line once decompressed), so only the content follows a file through its whole rotation. The
 * inode is kept to report what happened (renamed, rewritten).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, statSync, createReadStream } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { ConfigError, InputError } from '../errors.ts';

export interface LogFile {
  path: string;
  gz: boolean;
  /** The file a daemon may still be writing: its last line may be incomplete, so it waits. */
  live: boolean;
}

export interface FileIdentity {
  firstLineHash: string;
  inode: number;
  size: number;
  mtime: Date;
}

const GZ_MAGIC = [0x1f, 0x8b];

/** A gzip file whose data breaks before its first line ends: nothing of it can be read. */
export class DamagedLogError extends InputError {}

/** The InputError of a log file that cannot be opened or read, saying what to do. */
export function unreadableLog(file: string, e: unknown): InputError {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return new InputError(`${file} does not exist. Check the path (plain or .gz mail log).`, { cause: e });
    case 'EACCES':
    case 'EPERM':
      return new InputError(`${file} cannot be read (permission denied): run audience as a user who may read the mail log (on Debian, a member of group adm), or copy the file somewhere readable.`, { cause: e });
    case 'EISDIR':
      return new InputError(`${file} is a directory: pass the log files in it, oldest first (e.g. ${path.join(file, 'mail.log.1')} ${path.join(file, 'mail.log')}).`, { cause: e });
    default:
      return new InputError(`cannot read ${file} (${err.message}). Check the file and pass a plain or .gz mail log.`, { cause: e });
  }
}

export function isGzip(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw unreadableLog(file, e);
  }
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === GZ_MAGIC[0] && b[1] === GZ_MAGIC[1];
  } catch (e) {
    throw unreadableLog(file, e);
  } finally {
    closeSync(fd);
  }
}

/**
 * Sort key of a rotation of `base`, older first: numbered rotations (`.4.gz` before `.1`), then
 * dated ones (ascending), then the live file. null: not a rotation of `base`.
 */
function rotationKey(base: string, name: string): [group: number, order: number] | null {
  if (name === base) return [2, 0];
  if (!name.startsWith(base)) return null;
  const suffix = name.slice(base.length).replace(/\.gz$/, '');
  let m = /^\.(\d{1,3})$/.exec(suffix);
  if (m) return [0, -Number(m[1])];
  m = /^[-.](\d{8})(?:-(\d{6}))?$/.exec(suffix);
  if (m) return [1, Number(m[1]) * 1_000_000 + Number(m[2] ?? 0)];
  return null;
}

/** `base` and its rotations, oldest first. The base file itself may be missing (just rotated). */
export function discoverRotations(base: string): LogFile[] {
  const dir = path.dirname(base);
  const name = path.basename(base);
  if (isDirectory(base))
    throw new ConfigError(`the mail log ${base} (AUDIENCE_MAILLOG or maillog.path) is a directory: set it to the log file itself, e.g. ${path.join(base, 'mail.log')}.`);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    throw new InputError(`cannot list ${dir} (${(e as Error).message}). Check AUDIENCE_MAILLOG (now ${base}) and that this user may read the log directory.`);
  }
  const found = entries
    .map((n) => ({ n, key: rotationKey(name, n) }))
    // A directory or a device with a rotation's name is not a log (links to files are).
    .filter((x): x is { n: string; key: [number, number] } => x.key !== null && isFile(path.join(dir, x.n)))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1]);
  if (!found.length) throw new InputError(`no mail log at ${base} (nor rotations of it). Set AUDIENCE_MAILLOG or pass the files: audience scrub-bounces /var/log/mail.log`);
  return found.map(({ n }) => {
    const p = path.join(dir, n);
    return { path: p, gz: isGzip(p), live: n === name };
  });
}

/** Explicit FILE arguments, in the order given. Only the last plain file may still be growing. */
export function explicitFiles(paths: readonly string[]): LogFile[] {
  return paths.map((p, i) => {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      throw unreadableLog(p, e);
    }
    if (st.isDirectory()) throw unreadableLog(p, Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
    if (!st.isFile()) throw new InputError(`${p} is not a regular file (a pipe, socket or device): pass a mail log file, plain or .gz. To scrub a stream, save it to a file first.`);
    const gz = isGzip(p);
    return { path: p, gz, live: !gz && i === paths.length - 1 };
  });
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Reads the first complete line (decompressed for .gz). null when the file has none yet. */
async function firstLine(file: LogFile): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  const raw = createReadStream(file.path, { highWaterMark: 64 * 1024 });
  const stream = file.gz ? raw.pipe(createGunzip()) : raw;
  // pipe() does not forward the file's own errors: they end the decompressor being read.
  if (stream !== raw) raw.on('error', (e) => stream.destroy(e));
  try {
    for await (const c of stream as AsyncIterable<Buffer>) {
      const nl = c.indexOf(0x0a);
      if (nl >= 0) {
        chunks.push(c.subarray(0, nl));
        return Buffer.concat(chunks);
      }
      chunks.push(c);
      total += c.length;
      // A "line" of a megabyte is not a syslog line: identify by its first megabyte.
      if (total > 1 << 20) return Buffer.concat(chunks);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code?.startsWith('Z_'))
      throw new DamagedLogError(`${file.path} is a damaged gzip file (${(e as Error).message}) whose first line cannot be read: it was skipped. Restore it from a copy, or remove it.`, { cause: e });
    throw unreadableLog(file.path, e);
  } finally {
    raw.destroy();
  }
  return null;
}

export async function identify(file: LogFile): Promise<FileIdentity | null> {
  let st;
  try {
    st = statSync(file.path);
  } catch (e) {
    throw unreadableLog(file.path, e);
  }
  const line = await firstLine(file);
  if (!line) return null;
  return { firstLineHash: createHash('sha256').update(line).digest('hex').slice(0, 32), inode: st.ino, size: st.size, mtime: st.mtime };
}
