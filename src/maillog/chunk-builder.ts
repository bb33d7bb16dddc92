/**
 * The chunk a parser is building (chunk-builder.ts < string-path.ts < parse.ts: one class chain, so
 * every call on the per-line path stays a direct call on one receiver shape): the record arrays and
 * bytes of records.ts, the host and tag ids of the chunk, and the fields of the line being parsed
 * that either path (bytes or string) fills before it writes a record.
 */
import { fnv1a } from '../text/fnv1a.ts';
import { TS_RFC3339, TS_TRADITIONAL } from './header.ts';
import { RelayCodes } from './outcome-provider.ts';
import { LOCAL_AGENTS } from './prefilter.ts';
import { emptyParseCounts, F_FIELD, F_UTF8, INT_STRIDE, NUM_STRIDE, parsedChunk, tagFields, type FailedDelivery, type ParsedChunk, type TagFields } from './records.ts';
import { rawLine, type SkippedLine, type SkipReason } from './skipped-lines.ts';
import { parseRfc3339, type TraditionalClock } from './timestamp.ts';

/** Records a chunk starts with room for (grown by doubling). */
const INITIAL_RECORDS = 4096;

export class ChunkBuilder {
  /** Hand over each skipped line's text (scrub-bounces --rejects); off, skipped lines are only counted. */
  keepSkipped = false;

  protected readonly relayCodes = new RelayCodes();
  protected clock: TraditionalClock | null = null;
  /** This chunk's ids of hosts and tags (the byte path's tags keep theirs on the interned TagInfo, for this `gen`). */
  protected hostIds = new Map<string, number>();
  protected tagIds = new Map<string, number>();
  protected gen = 1;
  protected lastHost = '';
  protected lastHostId = -1;

  // The chunk being built.
  protected n = 0;
  protected ints = new Int32Array(INITIAL_RECORDS * INT_STRIDE);
  protected nums = new Float64Array(INITIAL_RECORDS * NUM_STRIDE);
  protected out = Buffer.allocUnsafeSlow(1 << 16);
  protected outLen = 0;
  /** ints index of the record being written. */
  protected k = 0;
  protected failures: FailedDelivery[] = [];
  protected counts = emptyParseCounts();
  protected skipped: SkippedLine[] = [];
  protected stringPathLines = 0;
  protected hosts: string[] = [];
  protected tags: TagFields[] = [];

  // The line being parsed: its host, tag and timestamp, filled by either path.
  protected hostId = 0;
  protected tagId = 0;
  protected tsKind = 0;
  protected tsRaw = '';
  /** Byte path: the timestamp is tsBuf[tsStart, tsEnd), read only when the record needs a time. */
  protected tsBuf: Buffer | null = null;
  protected tsStart = 0;
  protected tsEnd = 0;
  /** The queue id: bytes qBuf[qStart, qEnd) on the byte path, else qStr. */
  protected qBuf: Buffer | null = null;
  protected qStart = 0;
  protected qEnd = 0;
  protected qStr = '';
  /** The line being parsed, lb[lStart, lEnd): what a skipped line's text is taken from. */
  protected lb: Buffer = Buffer.alloc(0);
  protected lStart = 0;
  protected lEnd = 0;
  /** Index of the next NUL byte in the chunk's buffer at or after the line being parsed; Infinity when none. */
  protected nul = Infinity;

  /** Traditional timestamps of the next lines take their year from this file's clock. */
  beginFile(clock: TraditionalClock): void {
    this.clock = clock;
  }

  constructor() {
    // Every field a chunk resets is stored twice before the first line, so V8 compiles it as a
    // mutable field from the start: a field stored once is compiled as a constant, and the first
    // chunk's end deoptimized the parser's per-line code.
    this.startChunk();
    // The record arrays and bytes are replaced when they grow: the same, for the same reason.
    this.ints = new Int32Array(INITIAL_RECORDS * INT_STRIDE);
    this.nums = new Float64Array(INITIAL_RECORDS * NUM_STRIDE);
    this.out = Buffer.allocUnsafeSlow(1 << 16);
  }

  protected take(lines: number, endOffset: number): ParsedChunk {
    const out = parsedChunk({
      lines,
      endOffset,
      n: this.n,
      ints: this.ints.slice(0, this.n * INT_STRIDE),
      nums: this.nums.slice(0, this.n * NUM_STRIDE),
      // A copy of its own (transferable), the size of what was written.
      bytes: new Uint8Array(this.out.subarray(0, this.outLen)),
      // Copies, so the arrays the parser pushes to are always the same ones (one elements kind):
      // a fresh [] of each chunk made its first push leave the parser's optimized code.
      failures: this.failures.slice(),
      counts: this.counts,
      skipped: this.skipped.slice(),
      stringPathLines: this.stringPathLines,
      hosts: this.hosts.slice(),
      tags: this.tags.slice(),
    });
    this.startChunk();
    return out;
  }

  private startChunk(): void {
    this.n = 0;
    this.outLen = 0;
    this.failures.length = 0;
    this.counts = emptyParseCounts();
    this.skipped.length = 0;
    this.stringPathLines = 0;
    this.hosts.length = 0;
    this.tags.length = 0;
    this.hostIds = new Map();
    this.tagIds = new Map();
    this.gen++;
    this.lastHost = '';
  }

  protected record(kind: number, ts: number, lineNo: number): void {
    if (this.n * INT_STRIDE >= this.ints.length) {
      const ints = new Int32Array(this.ints.length * 2);
      ints.set(this.ints);
      this.ints = ints;
      const nums = new Float64Array(this.nums.length * 2);
      nums.set(this.nums);
      this.nums = nums;
    }
    const k = this.n * INT_STRIDE;
    this.k = k;
    this.ints[k] = kind;
    this.ints[k + 1] = this.hostId;
    this.ints[k + 2] = this.tagId;
    const j = this.n * NUM_STRIDE;
    this.nums[j] = ts;
    this.nums[j + 1] = lineNo;
    this.n++;
    // The queue id, every record's first string, and the hash the linker interns it by (taken
    // here, in the parse worker's thread, from the bytes just written).
    const q = this.outLen;
    if (this.qBuf) this.copy(this.qBuf, this.qStart, this.qEnd, false);
    else this.write(this.qStr);
    this.ints[k + 3] = this.ints[k + 4] = this.outLen;
    this.ints[k + 5] = fnv1a(this.out, q, this.outLen);
  }

  protected room(bytes: number): void {
    if (this.outLen + bytes <= this.out.length) return;
    const out = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, this.outLen + bytes));
    this.out.copy(out, 0, 0, this.outLen);
    this.out = out;
  }

  /** Appends buf[s, e) (ASCII), lower-cased if asked; false (nothing appended) at a non-ASCII byte. */
  protected copy(buf: Buffer, s: number, e: number, lower: boolean): boolean {
    this.room(e - s);
    const out = this.out;
    let p = this.outLen;
    for (let i = s; i < e; i++) {
      let c = buf[i]!;
      if (c >= 0x80) return false;
      if (lower && c >= 65 && c <= 90) c += 32;
      out[p++] = c;
    }
    this.outLen = p;
    return true;
  }

  /** Appends a string as UTF-8; returns whether it had non-ASCII characters. */
  protected write(v: string): boolean {
    this.room(v.length * 3);
    const n = this.out.write(v, this.outLen, 'utf8');
    this.outLen += n;
    return n !== v.length;
  }

  /** The record's field, from a string. */
  protected field(v: string): void {
    const utf8 = this.write(v);
    this.ints[this.k] = this.ints[this.k]! | F_FIELD | (utf8 ? F_UTF8 : 0);
    this.ints[this.k + 4] = this.outLen;
  }

  /** The record's field, from bytes, lower-cased if asked as toLowerCase would. */
  protected fieldBytes(buf: Buffer, s: number, e: number, lower: boolean): void {
    const at = this.outLen;
    if (this.copy(buf, s, e, lower)) {
      this.ints[this.k] = this.ints[this.k]! | F_FIELD;
      this.ints[this.k + 4] = this.outLen;
      return;
    }
    this.outLen = at;
    // Only a chunk with non-ASCII bytes gets here.
    const v = buf.toString('utf8', s, e);
    this.field(lower ? v.toLowerCase() : v);
  }

  protected hostIdOf(host: string): number {
    if (host === this.lastHost) return this.lastHostId;
    let id = this.hostIds.get(host);
    if (id === undefined) {
      id = this.hostIds.size;
      this.hostIds.set(host, id);
      this.hosts.push(host);
    }
    this.lastHost = host;
    this.lastHostId = id;
    return id;
  }

  protected tagIdOf(tag: string, instance: string, program: string): number {
    let id = this.tagIds.get(tag);
    if (id === undefined) {
      id = this.tagIds.size;
      this.tagIds.set(tag, id);
      this.tags.push(tagFields(tag, instance, program, LOCAL_AGENTS.has(program)));
    }
    return id;
  }

  protected timeOf(): number {
    let t: number | null = null;
    const buf = this.tsBuf;
    if (this.tsKind === TS_RFC3339) t = parseRfc3339(buf ? buf.toString('latin1', this.tsStart, this.tsEnd) : this.tsRaw);
    else if (this.tsKind === TS_TRADITIONAL && this.clock) t = buf ? this.clock.parseBytes(buf, this.tsStart, this.tsEnd) : this.clock.parse(this.tsRaw);
    if (t === null) {
      // The linker gives it the time of the line before it.
      this.counts.noTimestamp++;
      return NaN;
    }
    return t;
  }

  /** Counts the line being parsed as skipped, and keeps its text when asked. */
  protected skip(reason: SkipReason, lineNo: number): void {
    this.counts[reason]++;
    if (this.keepSkipped) this.skipped.push({ line: lineNo, reason, raw: rawLine(this.lb, this.lStart, this.lEnd) });
  }
}
