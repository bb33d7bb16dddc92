/**
 * The first normalize's rows, made while the census first load streams the file into carriers
 * (src/census/first-load.ts): each accepted row's e-mail field is taken from the scanner's bytes,
 * decoded as PostgreSQL will store it in carriers.email_raw, and normalized by NormalizePass into
 * spooled COPY rows. Node normalizes while PostgreSQL parses the carriers, and the normalize stage
 * after the load (first-normalize.ts) only COPies the rows in: nothing is read back.
 *
 * The rows are handed over only when they are exactly what a read-back would make: the load
 * committed, every DOT number came once (a superseded line's rows would have to be taken out
 * again), and DOT numbers are small enough for the ordering key. Otherwise they are dropped and
 * the normalize reads carriers back as before.
 */
import os from 'node:os';
import path from 'node:path';
import type { DetectedFormat } from '../census/formats.ts';
import type { Store } from '../db/store.ts';
import { decodeCp1252 } from '../text/cp1252.ts';
import { offerPreparedRows } from './first-normalize.ts';
import { MAX_ORDERED_DOT, NormalizePass } from './normalize-pass.ts';
import { removeOrphanTempFiles, Spool } from './row-spool.ts';

const QUOTE = 0x22;
/** Spool files are `${SPOOL_PREFIX}${pid}-${run}-${table}.bin`. */
const SPOOL_PREFIX = 'audience-census-emails-';

export class CensusEmailPass {
  private readonly pass: NormalizePass;
  private readonly spool: Spool;
  /** Field index of the e-mail column in the file, -1 when the format has none. */
  private readonly field: number;
  private readonly cp1252: boolean;
  private usable = true;
  private disposed = false;
  private readonly onExit = () => this.spool.remove();

  constructor(
    detected: DetectedFormat,
    sharedThreshold: number,
    /** The ingest-census run loading the file. */
    private readonly runId: number,
    /** Bytes of the file: a bound on its rows, so on its distinct addresses (see AddressIds). */
    fileBytes: number,
  ) {
    removeOrphanTempFiles(SPOOL_PREFIX);
    this.spool = new Spool(path.join(os.tmpdir(), `${SPOOL_PREFIX}${process.pid}-${runId}`), ['links', 'emails', 'reasons', 'sources']);
    // A census row is well over 100 bytes; a compressed file's guess falls short and the arrays grow.
    this.pass = new NormalizePass(this.spool, sharedThreshold, Math.max(1 << 16, Math.ceil(fileBytes / 100)));
    this.field = detected.positions.email_raw ?? -1;
    this.cp1252 = detected.format.encoding === 'WIN1252';
    // Files left by a run that ends before the normalize takes them.
    process.once('exit', this.onExit);
  }

  /** The scanner's hook for an accepted row (ScanOptions.onAccepted). */
  readonly onAccepted = (dot: number, buf: Buffer, starts: Int32Array, ends: Int32Array): void => {
    if (dot >= MAX_ORDERED_DOT) this.usable = false;
    this.pass.carrier(dot, this.field < 0 ? null : this.emailRaw(buf, starts[this.field]!, ends[this.field]!));
  };

  /**
   * The field as carriers.email_raw will hold it: the RowTyper writes its content as it is (an empty
   * one is NULL), quoted when it needs to be, so PostgreSQL undoes the doubled quotes and decodes it.
   */
  private emailRaw(buf: Buffer, s: number, e: number): string | null {
    let quoted = false;
    if (e - s >= 2 && buf[s] === QUOTE) {
      s++;
      e--;
      quoted = true;
    }
    if (e <= s) return null;
    const bytes = buf.subarray(s, e);
    const text = this.cp1252 ? decodeCp1252(bytes) : bytes.toString('utf8');
    return quoted && text.includes('"') ? text.replaceAll('""', '"') : text;
  }

  /**
   * After the load committed: hands the rows to the normalize stage that follows on `store`, unless
   * some DOT number came twice (`duplicates`) or was too big. The pass is done either way.
   */
  offer(store: Store, duplicates: number): boolean {
    if (this.disposed) return false;
    if (!this.usable || duplicates > 0) {
      this.dispose();
      return false;
    }
    this.spool.close();
    this.pass.ids.release();
    offerPreparedRows(store, { censusRunId: this.runId, pass: this.pass, spool: this.spool, dispose: () => this.dispose() });
    return true;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    process.removeListener('exit', this.onExit);
    this.pass.ids.release();
    this.spool.remove();
  }
}
