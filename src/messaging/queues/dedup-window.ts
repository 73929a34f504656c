import { Deque } from "./deque.js";

/** SQS's FIFO deduplication interval. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

export interface DeduplicatedSend {
  readonly messageId: string;
  readonly seq: number;
}

interface Entry extends DeduplicatedSend {
  readonly key: string;
  readonly expiresAt: number;
}

/** Remembers deduplication ids for five minutes after the send that first used them. */
export class DeduplicationWindow {
  private readonly byKey = new Map<string, Entry>();
  private readonly byAge = new Deque<Entry>();

  get size(): number {
    return this.byKey.size;
  }

  /** The earlier send with this key, if it is still inside the window. */
  get(key: string, now: number): DeduplicatedSend | undefined {
    this.prune(now);
    return this.byKey.get(key);
  }

  /** Records a send made at `sentAt` (its window ends five minutes later). */
  add(key: string, send: DeduplicatedSend, sentAt: number): void {
    const entry: Entry = {
      key,
      messageId: send.messageId,
      seq: send.seq,
      expiresAt: sentAt + DEDUPLICATION_WINDOW_MS,
    };
    this.byKey.set(key, entry);
    this.byAge.push(entry);
  }

  prune(now: number): void {
    for (
      let entry = this.byAge.peekFront();
      entry !== undefined && entry.expiresAt <= now;
      entry = this.byAge.peekFront()
    ) {
      this.byAge.shift();
      if (this.byKey.get(entry.key) === entry) this.byKey.delete(entry.key);
    }
  }

  clear(): void {
    this.byKey.clear();
    this.byAge.clear();
  }
}
