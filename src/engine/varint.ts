// Zig-zag varints as in Kafka's record format (protobuf style). Values are JS numbers: exact up
// to 2^53, which covers every offset and timestamp Sluice writes.

const TWO_32 = 4294967296;

/** Bytes needed for the zig-zag varint of `value`. */
export function varintSize(value: number): number {
  let zz = value >= 0 ? value * 2 : -value * 2 - 1;
  // Lengths, deltas and counts are small: answer those without a loop.
  if (zz < 0x80) return 1;
  if (zz < 0x4000) return 2;
  if (zz < 0x200000) return 3;
  let size = 1;
  while (zz >= 128) {
    zz = Math.floor(zz / 128);
    size++;
  }
  return size;
}

/** Writes the zig-zag varint of `value` at `pos`; returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, value: number): number {
  let zz = value >= 0 ? value * 2 : -value * 2 - 1;
  if (zz < 0x80000000) {
    // Integer shifts while the value fits 31 bits (nearly always): no division.
    while (zz >= 0x80) {
      buf[pos++] = (zz & 0x7f) | 0x80;
      zz >>>= 7;
    }
    buf[pos++] = zz;
    return pos;
  }
  while (zz >= 128) {
    buf[pos++] = (zz % 128) | 0x80;
    zz = Math.floor(zz / 128);
  }
  buf[pos++] = zz;
  return pos;
}

/** Cursor for decoding; `pos` moves as values are read. */
export interface Cursor {
  pos: number;
}

/**
 * Reads a zig-zag varint at `cursor.pos`, at most 10 bytes and never past `end`.
 * Returns undefined on a malformed or truncated varint instead of throwing.
 */
export function readVarint(buf: Buffer, cursor: Cursor, end: number): number | undefined {
  const first = cursor.pos < end ? buf[cursor.pos]! : 0x80;
  if (first < 0x80) {
    // One byte: most lengths, deltas and counts.
    cursor.pos++;
    return (first & 1) === 0 ? first >>> 1 : -((first + 1) >>> 1);
  }
  let result = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    if (cursor.pos >= end) return undefined;
    const byte = buf[cursor.pos++]!;
    result += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) {
      if (!Number.isSafeInteger(result)) return undefined;
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    }
    multiplier *= 128;
  }
  return undefined;
}

/** Writes a signed 64-bit big-endian integer from a safe JS integer. */
export function writeInt64(buf: Buffer, pos: number, value: number): void {
  buf.writeInt32BE(Math.floor(value / TWO_32), pos);
  buf.writeUInt32BE(value >>> 0, pos + 4);
}

/** Reads a signed 64-bit big-endian integer; precise while |value| < 2^53. */
export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}
