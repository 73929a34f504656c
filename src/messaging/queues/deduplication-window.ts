import { UUID_BYTES, readUuidBytes, writeUuidBytes } from "./uuid-bytes.js";
import { WindowRecordWriter } from "./window-record.js";

/** The first send of a deduplication key: what a duplicate of it is answered. */
export interface FirstSend {
  readonly messageId: string;
  readonly seq: number;
}

/** The `offset` of an entry held by the window log rather than the queue log. */
export const IN_WINDOW_LOG = -1;

const INITIAL_CAPACITY = 16;
const INITIAL_KEY_BYTES = 256;

/** `keyLengths` of an entry whose key is not ASCII: kept as a string aside. */
const WIDE_KEY = -1;

/**
 * A 32-bit hash of a key (FNV-1a over its UTF-16 code units, then a final mix so the low bits,
 * which pick the table slot, depend on every character).
 */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/**
 * A FIFO queue's deduplication entries of the last five minutes (every send's, at high rates
 * millions), kept in columns of a ring in the order of the records that hold them, and found
 * through an open-addressing hash table of ring slots keyed by a 32-bit hash of the key.
 *
 * Nothing per entry is a heap object: keys are copied as bytes into a ring of their own (a key
 * is compared only when its hash matches), message ids that are UUIDs (all but those of moved
 * messages) are kept as 16 bytes, times and offsets as numbers. A map of key strings kept every
 * key alive for five minutes: each survived two young-generation collections and then weighed
 * on the old one, and the lookups in a map of millions missed the caches.
 *
 * Entries are added in record order: entries already carried to the window log first (on
 * recovery), then those in the queue log by offset. Record order is time order except around
 * entries carried by older releases, so a lookup checks the entry's time itself, and pruning
 * (from the front, while the front has expired) never drops a live entry.
 */
export class DeduplicationWindow {
  /** Ring capacity (a power of two); entry positions only grow, slot = position % capacity. */
  private capacity = INITIAL_CAPACITY;
  /**
   * Linear-probing table of 2 x capacity cells: ring slot + 1 of a key's newest entry, 0 empty.
   * Rebuilt whenever the ring is resized (slots move then).
   */
  private table = new Int32Array(2 * INITIAL_CAPACITY);
  /** Keys in the table (entries replaced by a newer one for their key are not). */
  private count = 0;
  private hashes = new Int32Array(INITIAL_CAPACITY);
  /** Where an entry's key starts in `keyBytes` (an absolute byte position, only growing). */
  private keyStarts = new Float64Array(INITIAL_CAPACITY);
  /** Its length in bytes (one an ASCII character), or WIDE_KEY. */
  private keyLengths = new Int32Array(INITIAL_CAPACITY);
  /** 1 once a newer entry for its key replaced it in the table. */
  private replaced = new Uint8Array(INITIAL_CAPACITY);
  /** Message ids that are lower-case UUIDs, as 16 bytes... */
  private uuids = new Uint8Array(INITIAL_CAPACITY * UUID_BYTES);
  /** ...and the others as text. */
  private messageIds = new Array<string | undefined>(INITIAL_CAPACITY);
  private seqs = new Float64Array(INITIAL_CAPACITY);
  private sentAts = new Float64Array(INITIAL_CAPACITY);
  private offsets = new Float64Array(INITIAL_CAPACITY);
  /** Position of the oldest entry kept, and one past the newest. */
  private head = 0;
  private tail = 0;
  /** Entries before this position are in the window log (or were dropped): none to carry. */
  private uncarried = 0;
  /** Key bytes of the entries in order, a ring (power-of-two size) by absolute position. */
  private keyBytes = Buffer.alloc(INITIAL_KEY_BYTES);
  private keyBytesHead = 0;
  private keyBytesTail = 0;
  /** Keys that are not ASCII (ids are: never in practice), by position. */
  private readonly wideKeys = new Map<number, string>();

  constructor(readonly windowMs: number) {}

  /** Keys with an entry (expired ones not yet pruned included). */
  get size(): number {
    return this.count;
  }

  /**
   * The first send of `key` if it was sent less than the window before `now`; otherwise
   * records this send as the first (held by the record at `offset`) and returns undefined.
   */
  firstSend(
    key: string,
    now: number,
    messageId: string,
    seq: number,
    offset: number,
  ): FirstSend | undefined {
    const hash = keyHash(key);
    const cell = this.find(key, hash);
    if (cell >= 0) {
      const slot = this.table[cell]! - 1;
      if (this.sentAts[slot]! + this.windowMs > now)
        return { messageId: this.messageIdAt(slot), seq: this.seqs[slot]! };
      // Expired, not yet pruned: this send replaces it.
      this.replaced[slot] = 1;
      this.table[cell] = this.append(key, hash, messageId, seq, now, offset) + 1;
      return undefined;
    }
    this.insert(hash, this.append(key, hash, messageId, seq, now, offset));
    return undefined;
  }

  /**
   * Adds an entry as found on recovery: in the window log (`offset` IN_WINDOW_LOG, all of
   * these first) or in the queue log. A later entry for the same key replaces an earlier one.
   */
  restore(key: string, messageId: string, seq: number, sentAt: number, offset: number): void {
    if (offset === IN_WINDOW_LOG && this.uncarried !== this.tail)
      throw new Error("entries in the window log are restored before those in the queue log");
    const hash = keyHash(key);
    const cell = this.find(key, hash);
    if (cell >= 0) {
      this.replaced[this.table[cell]! - 1] = 1;
      this.table[cell] = this.append(key, hash, messageId, seq, sentAt, offset) + 1;
    } else this.insert(hash, this.append(key, hash, messageId, seq, sentAt, offset));
    if (offset === IN_WINDOW_LOG) this.uncarried = this.tail;
  }

  /** Drops entries from the front while they have expired by `now`. */
  prune(now: number): void {
    while (this.head < this.tail) {
      const slot = this.head % this.capacity;
      if (this.sentAts[slot]! + this.windowMs > now) break;
      if (this.replaced[slot] === 0) this.unlink(slot);
      if (this.keyLengths[slot] === WIDE_KEY) this.wideKeys.delete(this.head);
      else this.keyBytesHead = this.keyStarts[slot]! + this.keyLengths[slot]!;
      this.messageIds[slot] = undefined;
      this.head++;
    }
    if (this.head === this.tail) this.keyBytesHead = this.keyBytesTail;
    if (this.uncarried < this.head) this.uncarried = this.head;
    if (this.capacity > INITIAL_CAPACITY && this.tail - this.head < this.capacity >> 2)
      this.resize(this.capacity >> 1);
    const keyBytes = this.keyBytes.length;
    if (keyBytes > INITIAL_KEY_BYTES && this.keyBytesTail - this.keyBytesHead < keyBytes >> 2)
      this.resizeKeyBytes(keyBytes >> 1);
  }

  /**
   * The live entries not yet carried whose records lie before `cut`, as window records of at
   * most `perRecord` entries each; from now on they count as held by the window log (the caller
   * writes the records there before the queue log drops the records that held them).
   */
  carryRecordsBefore(cut: number, now: number, perRecord: number): Buffer[] {
    const records: Buffer[] = [];
    let writer: WindowRecordWriter | undefined;
    for (; this.uncarried < this.tail; this.uncarried++) {
      const slot = this.uncarried % this.capacity;
      if (this.offsets[slot]! >= cut) break;
      this.offsets[slot] = IN_WINDOW_LOG;
      const sentAt = this.sentAts[slot]!;
      if (this.replaced[slot] === 1 || sentAt + this.windowMs <= now) continue;
      writer ??= new WindowRecordWriter();
      const length = this.keyLengths[slot]!;
      if (length === WIDE_KEY)
        writer.beginEntryWithKey(sentAt, this.seqs[slot]!, this.wideKeys.get(this.uncarried)!);
      else {
        let to = writer.beginEntry(sentAt, this.seqs[slot]!, length);
        const out = writer.buffer;
        const bytes = this.keyBytes;
        const size = bytes.length;
        let at = this.keyStarts[slot]! % size;
        for (let i = 0; i < length; i++) {
          out[to++] = bytes[at]!;
          if (++at === size) at = 0;
        }
      }
      const messageId = this.messageIds[slot];
      if (messageId === undefined) writer.uuid(this.uuids, slot * UUID_BYTES);
      else writer.messageId(messageId);
      if (writer.count === perRecord) {
        records.push(writer.finish());
        writer = undefined;
      }
    }
    if (writer !== undefined) records.push(writer.finish());
    return records;
  }

  /** The table cell holding `key`'s entry, or -1. */
  private find(key: string, hash: number): number {
    const mask = this.table.length - 1;
    for (let cell = hash & mask; ; cell = (cell + 1) & mask) {
      const held = this.table[cell]!;
      if (held === 0) return -1;
      if (this.hashes[held - 1] === hash && this.keyMatches(held - 1, key)) return cell;
    }
  }

  private keyMatches(slot: number, key: string): boolean {
    const length = this.keyLengths[slot]!;
    if (length === WIDE_KEY) return this.wideKeys.get(this.positionOf(slot)) === key;
    if (length !== key.length) return false;
    const bytes = this.keyBytes;
    const size = bytes.length;
    let at = this.keyStarts[slot]! % size;
    for (let i = 0; i < length; i++) {
      if (bytes[at] !== key.charCodeAt(i)) return false;
      if (++at === size) at = 0;
    }
    return true;
  }

  /** The absolute position of a live ring slot. */
  private positionOf(slot: number): number {
    return this.head + ((slot - (this.head % this.capacity) + this.capacity) % this.capacity);
  }

  /** Puts ring slot `slot` (a key not in the table) into the table. */
  private insert(hash: number, slot: number): void {
    const mask = this.table.length - 1;
    let cell = hash & mask;
    while (this.table[cell] !== 0) cell = (cell + 1) & mask;
    this.table[cell] = slot + 1;
    this.count++;
  }

  /** Takes ring slot `slot` out of the table, shifting back the cells probed past it. */
  private unlink(slot: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let hole = this.hashes[slot]! & mask;
    while (table[hole] !== slot + 1) hole = (hole + 1) & mask;
    for (let cell = (hole + 1) & mask; table[cell] !== 0; cell = (cell + 1) & mask) {
      const home = this.hashes[table[cell]! - 1]! & mask;
      // The entry at `cell` stays unless its home lies cyclically outside (hole, cell].
      const staysPut = hole < cell ? home > hole && home <= cell : home > hole || home <= cell;
      if (staysPut) continue;
      table[hole] = table[cell]!;
      hole = cell;
    }
    table[hole] = 0;
    this.count--;
  }

  private messageIdAt(slot: number): string {
    return this.messageIds[slot] ?? readUuidBytes(this.uuids, slot * UUID_BYTES);
  }

  /** Adds an entry at the ring's tail (not to the table); returns its slot. */
  private append(
    key: string,
    hash: number,
    messageId: string,
    seq: number,
    sentAt: number,
    offset: number,
  ): number {
    if (this.tail - this.head === this.capacity) this.resize(this.capacity << 1);
    const slot = this.tail % this.capacity;
    this.hashes[slot] = hash;
    this.replaced[slot] = 0;
    this.storeKey(key, slot);
    this.messageIds[slot] = writeUuidBytes(messageId, this.uuids, slot * UUID_BYTES)
      ? undefined
      : messageId;
    this.seqs[slot] = seq;
    this.sentAts[slot] = sentAt;
    this.offsets[slot] = offset;
    this.tail++;
    return slot;
  }

  private storeKey(key: string, slot: number): void {
    const length = key.length;
    for (let i = 0; i < length; i++)
      if (key.charCodeAt(i) > 0x7f) {
        this.keyLengths[slot] = WIDE_KEY;
        this.keyStarts[slot] = this.keyBytesTail;
        this.wideKeys.set(this.tail, key);
        return;
      }
    let size = this.keyBytes.length;
    if (this.keyBytesTail - this.keyBytesHead + length > size) {
      while (this.keyBytesTail - this.keyBytesHead + length > size) size <<= 1;
      this.resizeKeyBytes(size);
    }
    const bytes = this.keyBytes;
    let at = this.keyBytesTail % size;
    for (let i = 0; i < length; i++) {
      bytes[at] = key.charCodeAt(i);
      if (++at === size) at = 0;
    }
    this.keyStarts[slot] = this.keyBytesTail;
    this.keyLengths[slot] = length;
    this.keyBytesTail += length;
  }

  /** Moves the key bytes into a ring of `size` bytes (absolute positions stay). */
  private resizeKeyBytes(size: number): void {
    const from = this.keyBytes;
    const to = Buffer.alloc(size);
    for (let p = this.keyBytesHead; p < this.keyBytesTail; p++)
      to[p % size] = from[p % from.length]!;
    this.keyBytes = to;
  }

  /** Moves the entries into columns of `capacity` slots, and rebuilds the table for them. */
  private resize(capacity: number): void {
    const hashes = new Int32Array(capacity);
    const keyStarts = new Float64Array(capacity);
    const keyLengths = new Int32Array(capacity);
    const replaced = new Uint8Array(capacity);
    const uuids = new Uint8Array(capacity * UUID_BYTES);
    const messageIds = new Array<string | undefined>(capacity);
    const seqs = new Float64Array(capacity);
    const sentAts = new Float64Array(capacity);
    const offsets = new Float64Array(capacity);
    const table = new Int32Array(2 * capacity);
    const mask = table.length - 1;
    for (let position = this.head; position < this.tail; position++) {
      const from = position % this.capacity;
      const to = position % capacity;
      hashes[to] = this.hashes[from]!;
      keyStarts[to] = this.keyStarts[from]!;
      keyLengths[to] = this.keyLengths[from]!;
      replaced[to] = this.replaced[from]!;
      uuids.set(this.uuids.subarray(from * UUID_BYTES, (from + 1) * UUID_BYTES), to * UUID_BYTES);
      messageIds[to] = this.messageIds[from];
      seqs[to] = this.seqs[from]!;
      sentAts[to] = this.sentAts[from]!;
      offsets[to] = this.offsets[from]!;
      if (replaced[to] === 1) continue;
      let cell = hashes[to] & mask;
      while (table[cell] !== 0) cell = (cell + 1) & mask;
      table[cell] = to + 1;
    }
    this.capacity = capacity;
    this.table = table;
    this.hashes = hashes;
    this.keyStarts = keyStarts;
    this.keyLengths = keyLengths;
    this.replaced = replaced;
    this.uuids = uuids;
    this.messageIds = messageIds;
    this.seqs = seqs;
    this.sentAts = sentAts;
    this.offsets = offsets;
  }
}
