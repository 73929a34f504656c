/**
 * How many bytes of message bodies and attributes a process keeps in memory for all the queues
 * of one service. Every process follows every message of its namespace, so a backlog would
 * otherwise sit in every process's memory whole; past the limit a message is held without its
 * payload, which stays in the queue's stream and is read back when the message is received,
 * peeked at or moved.
 */
export class PayloadBudget {
  private heldBytes = 0;

  constructor(readonly limitBytes: number) {}

  get held(): number {
    return this.heldBytes;
  }

  /** Counts `bytes` as held if they fit under the limit; whether they did. */
  take(bytes: number): boolean {
    if (this.heldBytes + bytes > this.limitBytes) return false;
    this.heldBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.heldBytes -= bytes;
  }
}

/** The default limit: 64 MiB of payloads held, per service. */
export const DEFAULT_HELD_PAYLOAD_BYTES = 64 * 1024 * 1024;
