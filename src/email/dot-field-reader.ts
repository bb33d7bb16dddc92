/**
 * Rows of a (bigint, text) query such as `select dot_number, email_raw` in COPY's binary format,
 * chunk by chunk: each row's DOT number, its text (null when NULL), and the row's bytes, which are
 * also a valid (dot_number, email_raw) row of email_sources.
 */
export class DotFieldReader {
  private carry: Buffer | null = null;
  private header = true;

  push(data: Uint8Array, onRow: (dot: number, raw: string | null, row: Uint8Array) => void): void {
    let buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.carry) buf = Buffer.concat([this.carry, buf]);
    this.carry = null;
    let p = 0;
    if (this.header) {
      // Signature (11), flags (4), header extension length (4) and the extension.
      if (buf.length < 19) {
        this.carry = buf;
        return;
      }
      p = 19 + buf.readInt32BE(15);
      this.header = false;
    }
    while (p + 2 <= buf.length) {
      const fields = buf.readInt16BE(p);
      if (fields === -1) {
        p += 2;
        break;
      }
      // int16 count, int32 8 + the bigint, int32 length (-1: NULL) + the text.
      if (p + 18 > buf.length) break;
      const len = buf.readInt32BE(p + 14);
      const end = p + 18 + Math.max(len, 0);
      if (end > buf.length) break;
      const dot = Number(buf.readBigInt64BE(p + 6));
      onRow(dot, len < 0 ? null : buf.toString('utf8', p + 18, end), buf.subarray(p, end));
      p = end;
    }
    if (p < buf.length) this.carry = Buffer.from(buf.subarray(p));
  }

  /** The end of one COPY: the next starts with its own header. */
  end(): void {
    this.carry = null;
    this.header = true;
  }
}

