import type { ConsumerMessages, JetStreamClient } from "@nats-io/jetstream";
import type { ConsumerRecord } from "../../messaging/topics/topic-consumer.js";
import { type PartitionAddress, decodeRecord, startAt } from "./partition-stream.js";

/** Records an ordered consumer pulls ahead of the polls. */
const READ_AHEAD = 512;

/**
 * Reads one partition for a consumer: an ordered consumer of the partition's stream, started at
 * the consumer's position and restarted when the consumer seeks elsewhere, buffering records
 * ahead of the polls.
 */
export class PartitionReader {
  private buffer: ConsumerRecord[] = [];
  /** The offset the reader serves next (the consumer's position, as far as the reader knows). */
  private serving = -1;
  private messages: ConsumerMessages | undefined;
  private round = 0;
  /** The current round's consumer is still being made. */
  private starting = false;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly address: PartitionAddress,
    readonly topic: string,
    readonly partition: number,
  ) {}

  /**
   * Up to `max` buffered records from `position` on; a position the reader does not serve
   * restarts it there (a seek), and the first records then come with a later poll.
   */
  take(position: number, max: number): ConsumerRecord[] {
    if (position !== this.serving) {
      this.restart(position);
      return [];
    }
    const out = this.buffer.splice(0, max);
    if (out.length > 0) this.serving = out[out.length - 1]!.offset + 1;
    return out;
  }

  /**
   * Starts the reader again at `position`: for a reader that brought nothing while the stream
   * holds more. Its consumer may have lived on a server that died, and the client's own
   * recovery can keep asking that server for it without ever making a new one. A reader whose
   * consumer is still being made is left to finish: a loaded cluster can take seconds to make
   * one, longer than a poll waits, and starting over each time would never let one finish (an
   * attempt that fails, after the client's request timeout, lets the next poll start again).
   */
  restartAt(position: number): void {
    if (this.starting && position === this.serving) return;
    this.restart(position);
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Resolves when a record arrives (or the reader closes). */
  arrival(): Promise<void> {
    if (this.buffer.length > 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops waiting callers (a poll that gives up). */
  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }

  /** An ordered consumer of the partition's stream from `offset` on. */
  private static async subscribe(
    js: JetStreamClient,
    address: PartitionAddress,
    offset: number,
  ): Promise<ConsumerMessages> {
    const consumer = await js.consumers.get(address.stream, startAt(offset));
    return consumer.consume({ max_messages: READ_AHEAD });
  }

  private restart(offset: number): void {
    this.messages?.stop();
    this.messages = undefined;
    this.buffer = [];
    this.serving = offset;
    const round = ++this.round;
    this.starting = true;
    void (async () => {
      const messages = await PartitionReader.subscribe(this.js, this.address, offset).finally(
        () => {
          if (round === this.round) this.starting = false;
        },
      );
      if (round !== this.round || this.closed) {
        messages.stop();
        return;
      }
      this.messages = messages;
      let next = offset;
      for await (const m of messages) {
        if (round !== this.round) break;
        // After a reconnect the client's ordered consumer can deliver again from an earlier
        // sequence: a record already buffered (or taken) must not come twice.
        if (m.seq - 1 < next) continue;
        next = m.seq;
        this.buffer.push(decodeRecord(this.topic, this.partition, m));
        this.wake();
      }
    })().catch(() => {
      // the stream is gone or the connection closed: a later poll restarts the reader
      if (round === this.round) this.serving = -1;
    });
  }

  close(): void {
    this.closed = true;
    this.round++;
    this.messages?.stop();
    this.messages = undefined;
    this.wake();
  }
}
