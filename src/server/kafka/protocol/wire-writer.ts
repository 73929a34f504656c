const TWO_POW_32 = 4294967296;
/** Buffers at least this long are kept by reference instead of copied (record batches). */
const ZERO_COPY_BYTES = 512;

/** Writes Kafka's primitive types into a list of chunks; large byte strings are not copied. */
export class WireWriter {
  private readonly chunks: Buffer[] = [];
  private buf: Buffer;
  private start = 0;
  private pos = 0;
  private flushedBytes = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.flushedBytes + this.pos - this.start;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length - this.pos) {
      this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
      this.start = 0;
      this.pos = 0;
    }
  }

  private flush(): void {
    if (this.pos === this.start) return;
    this.chunks.push(this.buf.subarray(this.start, this.pos));
    this.flushedBytes += this.pos - this.start;
    this.start = this.pos;
  }

  int8(value: number): void {
    this.ensure(1);
    this.pos = this.buf.writeInt8(value, this.pos);
  }

  bool(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  int16(value: number): void {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(value, this.pos);
  }

  uint16(value: number): void {
    this.ensure(2);
    this.pos = this.buf.writeUInt16BE(value, this.pos);
  }

  int32(value: number): void {
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(value, this.pos);
  }

  uint32(value: number): void {
    this.ensure(4);
    this.pos = this.buf.writeUInt32BE(value, this.pos);
  }

  /** An int64 from a safe integer. */
  int64(value: number): void {
    this.ensure(8);
    const high = Math.floor(value / TWO_POW_32);
    this.buf.writeInt32BE(high, this.pos);
    this.buf.writeUInt32BE(value - high * TWO_POW_32, this.pos + 4);
    this.pos += 8;
  }

  float64(value: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleBE(value, this.pos);
  }

  /** An unsigned varint (compact lengths and tags). */
  uvarint(value: number): void {
    this.ensure(5);
    let rest = value;
    while (rest >= 0x80) {
      this.buf[this.pos++] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.buf[this.pos++] = rest;
  }

  /** Raw bytes; long ones are kept by reference, so the caller must not change them afterwards. */
  bytes(value: Buffer): void {
    if (value.length >= ZERO_COPY_BYTES) {
      this.flush();
      this.chunks.push(value);
      this.flushedBytes += value.length;
      return;
    }
    this.ensure(value.length);
    value.copy(this.buf, this.pos);
    this.pos += value.length;
  }

  /** A string as UTF-8 bytes (its length must already be written). */
  utf8(value: string, byteLength: number): void {
    this.ensure(byteLength);
    this.pos += this.buf.write(value, this.pos, "utf8");
  }

  /** Reserves an int32 to fill in later (a frame's size); returns a setter. */
  reserveInt32(): (value: number) => void {
    this.ensure(4);
    const buf = this.buf;
    const at = this.pos;
    this.pos += 4;
    return (value) => buf.writeInt32BE(value, at);
  }

  /** The chunks written, in order. The writer must not be used afterwards. */
  finish(): Buffer[] {
    this.flush();
    return this.chunks;
  }

  /** Everything written, as one buffer. */
  toBuffer(): Buffer {
    const chunks = this.finish();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.flushedBytes);
  }
}
