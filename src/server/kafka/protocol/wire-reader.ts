import { KafkaProtocolError } from "./protocol-error.js";

const TWO_POW_32 = 4294967296;
/** The largest high word of an int64 that still makes a safe JavaScript integer. */
const SAFE_HIGH_WORD = 0x1fffff;

/** Reads Kafka's primitive types from a buffer, refusing to read past its end. */
export class WireReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** Bytes left before the end. */
  remaining(): number {
    return this.end - this.pos;
  }

  /** Advances past `n` bytes, throwing if fewer are left; returns where they start. */
  take(n: number): number {
    if (n > this.end - this.pos)
      throw new KafkaProtocolError("", `${n} more bytes, got ${this.end - this.pos}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.take(1));
  }

  bool(): boolean {
    return this.buf[this.take(1)] !== 0;
  }

  int16(): number {
    return this.buf.readInt16BE(this.take(2));
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.take(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.take(4));
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.take(4));
  }

  /** An int64 as a number; values beyond 2^53 are refused rather than rounded. */
  int64(): number {
    const at = this.take(8);
    const high = this.buf.readInt32BE(at);
    if (high > SAFE_HIGH_WORD || high < -SAFE_HIGH_WORD - 1)
      throw new KafkaProtocolError("", "an int64 within ±2^53");
    return high * TWO_POW_32 + this.buf.readUInt32BE(at + 4);
  }

  float64(): number {
    return this.buf.readDoubleBE(this.take(8));
  }

  /** An unsigned varint of at most 32 bits (compact lengths and tags). */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.buf[this.take(1)]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (value > 0xffffffff) break;
        return value;
      }
    }
    throw new KafkaProtocolError("", "an unsigned varint of at most 32 bits");
  }

  /** `n` bytes as a view of the underlying buffer (no copy). */
  bytes(n: number): Buffer {
    const at = this.take(n);
    return this.buf.subarray(at, at + n);
  }

  /** `n` bytes decoded as UTF-8. */
  utf8(n: number): string {
    const at = this.take(n);
    return this.buf.toString("utf8", at, at + n);
  }
}
