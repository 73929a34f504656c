import { utf8Length, writeUtf8 } from "../../engine/index.js";
import { SluiceError } from "../../errors/index.js";
import { UUID_BYTES, readUuidBytes, writeUuidBytes } from "./uuid-bytes.js";

/** One FIFO deduplication entry: the first send of a deduplication key inside the window. */
export interface CarriedDedup {
  readonly key: string;
  readonly messageId: string;
  readonly seq: number;
  readonly sentAt: number;
}

/** One FIFO receive with a ReceiveRequestAttemptId: what it took, at which receive counts. */
export interface CarriedAttempt {
  readonly id: string;
  readonly at: number;
  readonly seqs: readonly number[];
  readonly receiveCounts: readonly number[];
}

export interface WindowContents {
  readonly dedup: CarriedDedup[];
  readonly attempts: CarriedAttempt[];
}

const VERSION = 1;

/**
 * The compact binary form of the "w" record: deduplication entries and receive attempts whose
 * own records compaction is about to drop, so the log needs no five minutes of history behind
 * them. Times and sequence numbers are zigzag varint deltas from the previous entry, message
 * ids that are UUIDs take 16 bytes: about 30 bytes an entry with a short deduplication id.
 */
export function encodeWindow(contents: WindowContents): Buffer {
  const writer = new WindowRecordWriter();
  for (const e of contents.dedup) {
    writer.beginEntryWithKey(e.sentAt, e.seq, e.key);
    writer.messageId(e.messageId);
  }
  return writer.finish(contents.attempts);
}

/** Parses a "w" record's value; `offset` names the record in the error for a damaged one. */
export function decodeWindow(value: Buffer, offset: number): WindowContents {
  const r = new Reader(value, offset);
  if (r.byte() !== VERSION) throw r.corrupt();
  const dedup: CarriedDedup[] = [];
  let sentAt = 0;
  let seq = 0;
  for (let n = r.uint(); n > 0; n--) {
    sentAt += r.int();
    seq += r.int();
    const key = r.string();
    const kind = r.byte();
    let messageId: string;
    if (kind === 0) messageId = readUuidBytes(r.bytes(UUID_BYTES), 0);
    else if (kind === 1) messageId = r.string();
    else throw r.corrupt();
    dedup.push({ key, messageId, seq, sentAt });
  }
  const attempts: CarriedAttempt[] = [];
  for (let n = r.uint(); n > 0; n--) {
    const id = r.string();
    const at = r.uint();
    const seqs: number[] = [];
    const receiveCounts: number[] = [];
    for (let m = r.uint(); m > 0; m--) {
      seqs.push(r.uint());
      receiveCounts.push(r.uint());
    }
    attempts.push({ id, at, seqs, receiveCounts });
  }
  if (!r.atEnd()) throw r.corrupt();
  return { dedup, attempts };
}

/** Bytes of the entry count of a WindowRecordWriter's record: up to 2^28 - 1 entries. */
const COUNT_BYTES = 4;

/**
 * Writes a window record entry by entry, also for a caller that keeps its entries as bytes (see
 * DeduplicationWindow.carryRecordsBefore): no string or object per entry. The entry count is
 * written last, into 4 bytes kept for it at the start, as a padded varint every decoder reads.
 */
export class WindowRecordWriter {
  private readonly w = new WindowWriter();
  private sentAt = 0;
  private seq = 0;
  private readonly countAt: number;
  private entries = 0;

  constructor() {
    this.w.byte(VERSION);
    this.countAt = this.w.reserve(COUNT_BYTES);
  }

  get count(): number {
    return this.entries;
  }

  /** Where the record is being written: valid until the next call. */
  get buffer(): Buffer {
    return this.w.buffer;
  }

  /**
   * Starts an entry whose key the caller copies, `keyLength` bytes of UTF-8, into `buffer` at
   * the position returned; then `uuid` or `messageId` ends it.
   */
  beginEntry(sentAt: number, seq: number, keyLength: number): number {
    this.times(sentAt, seq);
    this.w.uint(keyLength);
    return this.w.reserve(keyLength);
  }

  /** Starts an entry with its key as text. */
  beginEntryWithKey(sentAt: number, seq: number, key: string): void {
    this.times(sentAt, seq);
    this.w.string(key);
  }

  /** Ends the entry with its message id, a UUID, as the 16 bytes at `at` of `bytes`. */
  uuid(bytes: Uint8Array, at: number): void {
    this.w.byte(0);
    const to = this.w.reserve(UUID_BYTES);
    const out = this.w.buffer;
    for (let b = 0; b < UUID_BYTES; b++) out[to + b] = bytes[at + b]!;
  }

  /** Ends the entry with its message id as text. */
  messageId(id: string): void {
    if (!this.w.uuid(id)) {
      this.w.byte(1);
      this.w.string(id);
    }
  }

  /** Ends the record with the receive attempts it carries. */
  finish(attempts: readonly CarriedAttempt[] = []): Buffer {
    const w = this.w;
    w.uint(attempts.length);
    for (const a of attempts) {
      w.string(a.id);
      w.uint(a.at);
      w.uint(a.seqs.length);
      a.seqs.forEach((s, i) => {
        w.uint(s);
        w.uint(a.receiveCounts[i]!);
      });
    }
    let count = this.entries;
    if (count >= 2 ** (7 * COUNT_BYTES)) throw new RangeError("too many entries for one record");
    for (let i = 0; i < COUNT_BYTES; i++) {
      w.buffer[this.countAt + i] = (count % 0x80) | (i === COUNT_BYTES - 1 ? 0 : 0x80);
      count = Math.floor(count / 0x80);
    }
    return w.finish();
  }

  private times(sentAt: number, seq: number): void {
    this.w.int(sentAt - this.sentAt);
    this.w.int(seq - this.seq);
    this.sentAt = sentAt;
    this.seq = seq;
    this.entries++;
  }
}

class WindowWriter {
  private buf = Buffer.allocUnsafe(1024);
  private pos = 0;

  get buffer(): Buffer {
    return this.buf;
  }

  /** Skips `n` bytes the caller fills in; returns where they start. */
  reserve(n: number): number {
    this.room(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  /** An unsigned varint of a safe integer (arithmetic, not bitwise: values pass 2^32). */
  uint(value: number): void {
    this.room(8);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  int(value: number): void {
    this.uint(value < 0 ? -value * 2 - 1 : value * 2);
  }

  string(s: string): void {
    const length = utf8Length(s);
    this.uint(length);
    this.room(length);
    this.pos = writeUtf8(this.buf, this.pos, s);
  }

  /** A lower-case UUID as a 0 byte and its 16 bytes; false, writing nothing, for any other text. */
  uuid(id: string): boolean {
    this.room(1 + UUID_BYTES);
    if (!writeUuidBytes(id, this.buf, this.pos + 1)) return false;
    this.buf[this.pos] = 0;
    this.pos += 1 + UUID_BYTES;
    return true;
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

class Reader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly offset: number,
  ) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw this.corrupt();
    return this.buf[this.pos++]!;
  }

  uint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 56) throw this.corrupt();
    }
    return value;
  }

  int(): number {
    const z = this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  bytes(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw this.corrupt();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return this.bytes(this.uint()).toString("utf8");
  }

  atEnd(): boolean {
    return this.pos === this.buf.length;
  }

  corrupt(): SluiceError {
    return new SluiceError(
      "SLUICE_CORRUPT",
      `queue log offset ${this.offset}: a damaged deduplication window record`,
    );
  }
}
