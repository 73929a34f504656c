import { UUID_BYTES, readUuidBytes, writeUuidBytes } from "./uuid-bytes.js";
import type { CarriedDedup } from "./window-record.js";

/** The first send of a deduplication key: what a duplicate of it is answered. */
export interface FirstSend {
  readonly messageId: string;
  readonly seq: number;
}

/** The `offset` of an entry held by the window log rather than the queue log. */
export const IN_WINDOW_LOG = -1;

const INITIAL_CAPACITY = 16;

/**
 * A FIFO queue's deduplication entries of the last five minutes (every send's, at high rates
 * millions), kept in columns of a ring in the order of the records that hold them, with a map
 * from key to position. An entry as an object of its own, wrapped in another for its expiry,
 * left five young objects and some 300 bytes a send that survived the young generation; here a
 * send leaves only its key string: message ids (UUIDs), times and offsets are column values.
 *
 * Entries are added in record order: entries already carried to the window log first (on
 * recovery), then those in the queue log by offset. Record order is time order except around
 * entries carried by older releases, so a lookup checks the entry's time itself, and pruning
 * (from the front, while the front has expired) never drops a live entry.
 */
export class DeduplicationWindow {
  /** Key -> absolute position of its newest entry (positions only grow; slot = position % capacity). */
  private readonly positions = new Map<string, number>();
  private capacity = INITIAL_CAPACITY;
  /** A key, or undefined once a newer entry for it replaced this one. */
  private keys = new Array<string | undefined>(INITIAL_CAPACITY);
  /** Message ids that are lower-case UUIDs (all but those of moved messages), as 16 bytes... */
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

  constructor(readonly windowMs: number) {}

  /** Keys with an entry (expired ones not yet pruned included). */
  get size(): number {
    return this.positions.size;
  }

  /**
   * The first send of `key` if it was sent less than the window before `now`; otherwise
   * records this send as the first (held by the record at `offset`) and returns undefined.
   * One lookup: a send's key is nearly always new, and a second lookup of a key missing from
   * a map of millions costs as much as the first.
   */
  firstSend(
    key: string,
    now: number,
    messageId: string,
    seq: number,
    offset: number,
  ): FirstSend | undefined {
    const earlier = this.positions.get(key);
    if (earlier !== undefined) {
      const slot = earlier % this.capacity;
      if (this.sentAts[slot]! + this.windowMs > now)
        return { messageId: this.messageIdAt(slot), seq: this.seqs[slot]! };
      this.keys[slot] = undefined; // expired, not yet pruned: this send replaces it
    }
    this.append(key, messageId, seq, now, offset);
    return undefined;
  }

  /**
   * Adds an entry as found on recovery: in the window log (`offset` IN_WINDOW_LOG, all of
   * these first) or in the queue log. A later entry for the same key replaces an earlier one.
   */
  restore(key: string, messageId: string, seq: number, sentAt: number, offset: number): void {
    if (offset === IN_WINDOW_LOG && this.uncarried !== this.tail)
      throw new Error("entries in the window log are restored before those in the queue log");
    const earlier = this.positions.get(key);
    if (earlier !== undefined) this.keys[earlier % this.capacity] = undefined;
    this.append(key, messageId, seq, sentAt, offset);
    if (offset === IN_WINDOW_LOG) this.uncarried = this.tail;
  }

  /** Drops entries from the front while they have expired by `now`. */
  prune(now: number): void {
    while (this.head < this.tail) {
      const slot = this.head % this.capacity;
      if (this.sentAts[slot]! + this.windowMs > now) break;
      const key = this.keys[slot];
      if (key !== undefined && this.positions.get(key) === this.head) this.positions.delete(key);
      this.keys[slot] = undefined;
      this.messageIds[slot] = undefined;
      this.head++;
    }
    if (this.uncarried < this.head) this.uncarried = this.head;
    if (this.capacity > INITIAL_CAPACITY && this.tail - this.head < this.capacity >> 2)
      this.resize(this.capacity >> 1);
  }

  /**
   * The live entries not yet carried whose records lie before `cut`, which from now on count
   * as held by the window log (the caller writes them there before the queue log drops them).
   */
  carryBefore(cut: number, now: number): CarriedDedup[] {
    const carried: CarriedDedup[] = [];
    for (; this.uncarried < this.tail; this.uncarried++) {
      const slot = this.uncarried % this.capacity;
      if (this.offsets[slot]! >= cut) break;
      this.offsets[slot] = IN_WINDOW_LOG;
      const key = this.keys[slot];
      const sentAt = this.sentAts[slot]!;
      if (key === undefined || sentAt + this.windowMs <= now) continue;
      carried.push({ key, messageId: this.messageIdAt(slot), seq: this.seqs[slot]!, sentAt });
    }
    return carried;
  }

  private messageIdAt(slot: number): string {
    return this.messageIds[slot] ?? readUuidBytes(this.uuids, slot * UUID_BYTES);
  }

  private append(
    key: string,
    messageId: string,
    seq: number,
    sentAt: number,
    offset: number,
  ): void {
    if (this.tail - this.head === this.capacity) this.resize(this.capacity << 1);
    const slot = this.tail % this.capacity;
    this.keys[slot] = key;
    this.messageIds[slot] = writeUuidBytes(messageId, this.uuids, slot * UUID_BYTES)
      ? undefined
      : messageId;
    this.seqs[slot] = seq;
    this.sentAts[slot] = sentAt;
    this.offsets[slot] = offset;
    this.positions.set(key, this.tail);
    this.tail++;
  }

  /** Moves the entries into columns of `capacity` slots (positions, and so the map, stay). */
  private resize(capacity: number): void {
    const keys = new Array<string | undefined>(capacity);
    const uuids = new Uint8Array(capacity * UUID_BYTES);
    const messageIds = new Array<string | undefined>(capacity);
    const seqs = new Float64Array(capacity);
    const sentAts = new Float64Array(capacity);
    const offsets = new Float64Array(capacity);
    for (let position = this.head; position < this.tail; position++) {
      const from = position % this.capacity;
      const to = position % capacity;
      keys[to] = this.keys[from];
      for (let b = 0; b < UUID_BYTES; b++)
        uuids[to * UUID_BYTES + b] = this.uuids[from * UUID_BYTES + b]!;
      messageIds[to] = this.messageIds[from];
      seqs[to] = this.seqs[from]!;
      sentAts[to] = this.sentAts[from]!;
      offsets[to] = this.offsets[from]!;
    }
    this.capacity = capacity;
    this.keys = keys;
    this.uuids = uuids;
    this.messageIds = messageIds;
    this.seqs = seqs;
    this.sentAts = sentAts;
    this.offsets = offsets;
  }
}
