/**
 * Every file the program writes for its user (`--out`, `--rejects`, `--export`) goes through here.
 *
 * - The rows go into a new temporary file beside the target, created with O_CREAT|O_EXCL|
 *   O_NOFOLLOW: it cannot be a file or link someone placed there, and a reader of the target never
 *   sees half a file.
 * - The temporary file then takes the target's name. Without --force by link(2), which fails when
 *   the name exists in any form (file, link, dangling link) at that instant, so a file the run did
 *   not create is never replaced, even one created while the run was working. With --force by
 *   rename(2), which replaces the name itself: a symbolic link there would be replaced, never
 *   followed, but links are refused anyway (a link at the target is a mistake or an attack).
 * - The checks run twice: before the work (checkOutputTarget, so a two-hour ingest does not end on
 *   "file exists") and at the commit, where link/rename decide for real.
 *
 * Refusals are UsageErrors (exit 2) that say which flag to change; failing to write (disk full) is
 * an InputError.
 */
import { randomBytes } from 'node:crypto';
import { constants, lstatSync, statSync } from 'node:fs';
import { link, lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { InputError, UsageError } from '../errors.ts';

export interface OutputFileOptions {
  /** Replace a regular file that exists (never a link, a directory or a device). */
  force: boolean;
  /** The flag that named the file, for messages (`--rejects`, `--out`, `--export`). */
  flag: string;
}

/** Bytes gathered before a write(2): callers write a row or a page at a time. */
const FLUSH_BYTES = 256 * 1024;

/** Why `target` cannot be written, or null. `lstat` never follows a link. */
function targetProblem(target: string, o: OutputFileOptions): string | null {
  let st;
  try {
    st = lstatSync(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return `${target} cannot be checked (${(e as Error).message}): choose another path for ${o.flag}.`;
    return folderProblem(target, o);
  }
  if (st.isSymbolicLink()) return `${target} is a symbolic link: audience never writes through a link (the file it points to would get the rows). Remove the link, or choose another path for ${o.flag}.`;
  if (st.isDirectory()) return `${target} is a directory: ${o.flag} takes a file path, such as ${path.join(target, path.basename(target) + '.csv')}.`;
  if (!st.isFile()) return `${target} is not a regular file (a device, pipe or socket): choose a file path for ${o.flag}.`;
  if (!o.force) return `${target} already exists, and audience does not replace a file it did not create: pass --force to replace it, or choose another path for ${o.flag}.`;
  return folderProblem(target, o);
}

function folderProblem(target: string, o: OutputFileOptions): string | null {
  const dir = path.dirname(path.resolve(target));
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a folder: choose a path in an existing folder for ${o.flag}.`;
  } catch {
    return `the folder ${dir} does not exist: create it, or choose another path for ${o.flag}.`;
  }
  return null;
}

/** Throws the UsageError saying why `target` cannot be written; call it before the work starts. */
export function checkOutputTarget(target: string, o: OutputFileOptions): void {
  const problem = targetProblem(target, o);
  if (problem) throw new UsageError(problem);
}

/** A file being written: `write` as often as needed, then `commit` (or `discard`) once. */
export class OutputFile {
  private pending: (string | Buffer)[] = [];
  private pendingBytes = 0;
  private done = false;
  private placed = false;

  /** Whether the file has its name (commit succeeded). */
  get committed(): boolean {
    return this.placed;
  }

  private constructor(
    readonly target: string,
    private readonly temp: string,
    private readonly fh: FileHandle,
    private readonly o: OutputFileOptions,
  ) {}

  static async create(target: string, o: OutputFileOptions): Promise<OutputFile> {
    checkOutputTarget(target, o);
    const dir = path.dirname(path.resolve(target));
    // A hidden name of our own beside the target (same file system, so link/rename are atomic),
    // bounded so a long target name still leaves a valid temporary name.
    const temp = path.join(dir, `.${path.basename(target).slice(0, 160)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    let fh: FileHandle;
    try {
      fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
    } catch (e) {
      throw new UsageError(`cannot create a file in ${dir} (${(e as Error).message}): choose a writable folder for ${o.flag}.`, { cause: e });
    }
    return new OutputFile(target, temp, fh, o);
  }

  async write(data: string | Buffer): Promise<void> {
    if (this.done) throw new Error(`OutputFile ${this.target}: write after commit or discard`);
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.pending.length) return;
    const buf = Buffer.concat(this.pending.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    this.pending = [];
    this.pendingBytes = 0;
    try {
      await this.fh.write(buf);
    } catch (e) {
      throw new InputError(`cannot write ${this.target} (${(e as Error).message}). Free some space or choose another folder for ${this.o.flag}.`, { cause: e });
    }
  }

  /** Gives the written file its name; returns the target path. */
  async commit(): Promise<string> {
    if (this.done) throw new Error(`OutputFile ${this.target}: committed twice`);
    try {
      await this.flush();
      await this.fh.sync();
    } catch (e) {
      await this.discard();
      throw e;
    }
    this.done = true;
    await this.fh.close();
    try {
      await this.place();
    } catch (e) {
      await unlink(this.temp).catch(() => {});
      throw e;
    }
    this.placed = true;
    return this.target;
  }

  private async place(): Promise<void> {
    if (!this.o.force) {
      try {
        await link(this.temp, this.target);
        await unlink(this.temp);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new UsageError(targetProblem(this.target, this.o) ?? `${this.target} appeared while the run was writing it: choose another path for ${this.o.flag}.`);
        // File systems without hard links (some network and FAT mounts): check, then rename.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw new InputError(`cannot create ${this.target} (${(e as Error).message}).`, { cause: e });
      }
    }
    const st = await lstat(this.target).catch(() => null);
    if (st) {
      const problem = targetProblem(this.target, this.o);
      if (problem) throw new UsageError(problem);
    }
    try {
      await rename(this.temp, this.target);
    } catch (e) {
      throw new InputError(`cannot create ${this.target} (${(e as Error).message}).`, { cause: e });
    }
  }

  /** Removes the temporary file; the target is left as it was. Safe to call more than once. */
  async discard(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.pending = [];
    await this.fh.close().catch(() => {});
    await unlink(this.temp).catch(() => {});
  }
}

/** Writes a whole file through `fill`, committed when fill returns, discarded when it throws. */
export async function writeOutputFile<T>(target: string, o: OutputFileOptions, fill: (f: OutputFile) => Promise<T>): Promise<T> {
  const f = await OutputFile.create(target, o);
  try {
    const result = await fill(f);
    await f.commit();
    return result;
  } catch (e) {
    await f.discard();
    throw e;
  }
}
