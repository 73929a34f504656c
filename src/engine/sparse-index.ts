import { readInt64, writeInt64 } from "./varint.js";

/**
 * A sparse, sorted index from a key (an offset, or a timestamp) to a value (a file position, or
 * an offset), held in memory as growable typed arrays and persisted in Kafka's index formats:
 * `.index` = (relative offset int32, position int32), `.timeindex` = (timestamp int64, relative
 * offset int32). Keys never decrease, so lookups are binary searches.
 */
export class SparseIndex {
  private keys = new Float64Array(64);
  private values = new Float64Array(64);
  private count = 0;

  constructor(
    readonly kind: "offset" | "time",
    /** Base offset of the segment: persisted offsets are relative to it. */
    readonly baseOffset: number,
  ) {}

  get length(): number {
    return this.count;
  }

  get lastKey(): number | undefined {
    return this.count === 0 ? undefined : this.keys[this.count - 1];
  }

  keyAt(i: number): number {
    return this.keys[i]!;
  }

  valueAt(i: number): number {
    return this.values[i]!;
  }

  /** Adds an entry; keys must not decrease (an equal key is skipped: the first wins). */
  add(key: number, value: number): void {
    if (this.count > 0 && key <= this.keys[this.count - 1]!) return;
    if (this.count === this.keys.length) {
      const keys = new Float64Array(this.count * 2);
      keys.set(this.keys);
      this.keys = keys;
      const values = new Float64Array(this.count * 2);
      values.set(this.values);
      this.values = values;
    }
    this.keys[this.count] = key;
    this.values[this.count] = value;
    this.count++;
  }

  /** The entry with the greatest key <= `key`, as its index, or -1. */
  floor(key: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! <= key) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Drops entries whose value is >= `value` (after a truncation of the segment). */
  truncateToValue(value: number): void {
    while (this.count > 0 && this.values[this.count - 1]! >= value) this.count--;
  }

  get entryBytes(): number {
    return this.kind === "offset" ? 8 : 12;
  }

  encode(): Buffer {
    const size = this.entryBytes;
    const buf = Buffer.allocUnsafe(this.count * size);
    for (let i = 0; i < this.count; i++) {
      const at = i * size;
      if (this.kind === "offset") {
        buf.writeInt32BE(this.keys[i]! - this.baseOffset, at);
        buf.writeInt32BE(this.values[i]!, at + 4);
      } else {
        writeInt64(buf, at, this.keys[i]!);
        buf.writeInt32BE(this.values[i]! - this.baseOffset, at + 8);
      }
    }
    return buf;
  }

  /** Parses a persisted index; undefined when the bytes cannot be a valid index. */
  static decode(kind: "offset" | "time", baseOffset: number, buf: Buffer): SparseIndex | undefined {
    const index = new SparseIndex(kind, baseOffset);
    const size = index.entryBytes;
    if (buf.length % size !== 0) return undefined;
    for (let at = 0; at < buf.length; at += size) {
      const key = kind === "offset" ? baseOffset + buf.readInt32BE(at) : readInt64(buf, at);
      const value =
        kind === "offset" ? buf.readInt32BE(at + 4) : baseOffset + buf.readInt32BE(at + 8);
      if (value < 0 || (index.count > 0 && key <= index.lastKey!)) return undefined;
      index.add(key, value);
    }
    return index;
  }
}
