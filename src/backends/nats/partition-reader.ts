import {
  type ConsumerMessages,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
} from "@nats-io/jetstream";
import type { ConsumerRecord } from "../../messaging/topics/topic-consumer.js";
import { LEADER_READS_AFTER_MS, LeaderReads } from "./leader-reads.js";
import { type PartitionAddress, decodeRecord, startAt } from "./partition-stream.js";

/** Records an ordered consumer pulls ahead of the polls. */
const READ_AHEAD = 512;
/** The pause before a consumer that could not be made (or failed) is made again. */
const RETRY_MS = 500;
/**
 * The request timeout for making a consumer. Right after a stream's leader is elected a request
 * to make one can go unanswered while the next, a moment later, is answered in milliseconds:
 * better to ask again soon than to wait out the client's default 5 s.
 */
export const READER_TIMEOUT_MS = 2000;

/**
 * Reads one partition for a consumer: an ordered consumer of the partition's stream, started at
 * the consumer's position and restarted when the consumer seeks elsewhere, buffering records
 * ahead of the polls.
 *
 * A consumer that may have been lost with a server is replaced make-before-break: the current
 * one reads on until its replacement is ready, so a suspicion that was wrong costs nothing, and
 * one that could not be made is tried again after a pause rather than a poll later. While none
 * can be made (the server placing consumers died), records are read from the stream's leader.
 */
export class PartitionReader {
  private buffer: ConsumerRecord[] = [];
  /** The offset the reader serves next (the consumer's position, as far as the reader knows). */
  private serving = -1;
  /** The offset after the last record buffered: records below it that come again are repeats. */
  private bufferedTo = 0;
  private messages: ConsumerMessages | undefined;
  /** Counts seeks: a consumer made for an earlier one is dropped when it arrives. */
  private seeks = 0;
  /** Records that arrived, ever: a replacement that fails is retried only if none came since. */
  private arrivals = 0;
  /** A consumer is being made. */
  private starting = false;
  /** The reader's consumer may be gone: see `lostTouch`. */
  private unsure = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Asks for another consumer every RETRY_MS while one is being made (see `start`). */
  private askTimer: NodeJS.Timeout | undefined;
  /** Makes the consumer being made read from the stream's leader now (see `start`). */
  private hurry: (() => void) | undefined;
  private arrived: Promise<void> | undefined;
  private wakeWaiting: (() => void) | undefined;
  private closed = false;
  private leaderReads: Promise<LeaderReads> | undefined;

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
      this.seek(position);
      return [];
    }
    const out = this.buffer.splice(0, max);
    if (out.length > 0) this.serving = out[out.length - 1]!.offset + 1;
    return out;
  }

  /**
   * The reader brought nothing while the stream holds more: its consumer may have lived on a
   * server that died, and the client's own recovery can keep asking that server for it without
   * ever making a new one. A consumer still being made is left to finish: a loaded cluster can
   * take seconds to make one, longer than a poll waits, and starting over each time would never
   * let one finish.
   */
  restartAt(position: number): void {
    if (position !== this.serving) this.seek(position);
    else if (!this.starting) this.start(0);
  }

  /**
   * The connection reconnected, or the stream did not answer (it has no leader: its leader
   * died): the reader's consumer may have lived on the server that went away, and the client
   * finds that out only after missing two of its heartbeats (30 s). It is replaced at once, and
   * until the replacement is made records are read from the stream's leader: a new leader answers
   * those as soon as it is elected, before the first request for a consumer (a second or more).
   */
  lostTouch(): void {
    this.unsure = true;
    if (this.closed || this.serving < 0) return;
    if (this.starting) this.hurry?.();
    else this.start(0);
  }

  /**
   * The stream holds records from `position` on that the reader has not brought: a reader that
   * lost touch is replaced at once; one elsewhere moves there (a seek).
   */
  behind(position: number): void {
    if (position !== this.serving) this.seek(position);
    else if (this.unsure && !this.starting) this.start(0);
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /**
   * Resolves when a record arrives (or the reader closes). One promise for every caller until
   * then: each poll of an idle partition asks, and a promise per poll would pile up.
   */
  arrival(): Promise<void> {
    if (this.buffer.length > 0 || this.closed) return Promise.resolve();
    return (this.arrived ??= new Promise((resolve) => (this.wakeWaiting = resolve)));
  }

  /** Resolves the callers waiting for an arrival. */
  private wake(): void {
    const wake = this.wakeWaiting;
    this.arrived = this.wakeWaiting = undefined;
    wake?.();
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

  private seek(offset: number): void {
    this.seeks++;
    this.drop();
    this.buffer = [];
    this.serving = this.bufferedTo = offset;
    this.start();
  }

  private drop(): void {
    this.messages?.stop();
    this.messages = undefined;
  }

  /**
   * Makes a consumer from where the buffer ends; the current one reads until it is ready. While
   * none is made, another is asked for every RETRY_MS: a request lost to a server that died (the
   * cluster can still place a consumer there for a moment) or to an election does not hold up
   * the next, which may be placed elsewhere. The first made is used and later ones stopped. The
   * asking ends when the current consumer brings a record (it was alive after all) or the
   * stream is gone. Asking that goes on for `leaderReadsAfterMs` (a seek's new consumer comes in
   * milliseconds; a suspect one's may not for seconds) reads from the stream's leader meanwhile,
   * until a consumer is made.
   */
  private start(leaderReadsAfterMs = LEADER_READS_AFTER_MS): void {
    clearTimeout(this.retryTimer);
    clearInterval(this.askTimer);
    const seek = this.seeks;
    const arrivals = this.arrivals;
    const from = this.bufferedTo;
    this.starting = true;
    this.unsure = false;
    let done = false;
    const stale = (): boolean => done || seek !== this.seeks || this.closed;
    const finish = (): void => {
      done = true;
      clearInterval(timer);
      clearTimeout(fallback);
      if (seek !== this.seeks) return;
      this.starting = false;
      this.askTimer = this.hurry = undefined;
    };
    const attempt = (): void => {
      if (stale()) return finish();
      // A current consumer that brought records since the asking began is alive: it reads on.
      if (this.messages !== undefined && this.arrivals !== arrivals) return finish();
      PartitionReader.subscribe(this.js, this.address, from).then(
        (messages) => {
          if (stale()) return messages.stop();
          finish();
          this.drop();
          this.messages = messages;
          void this.read(messages, seek);
        },
        (error: unknown) => {
          if (stale() || !isStreamGone(error)) return; // a later attempt goes on
          finish();
          this.retry(seek, error);
        },
      );
    };
    const timer = setInterval(attempt, RETRY_MS);
    this.askTimer = timer;
    let following = false;
    const followLeader = (): void => {
      clearTimeout(fallback);
      if (following || stale()) return;
      following = true;
      // A record it cannot decode is left to the consumer, which reports it.
      void this.readFromLeader(stale).catch(() => undefined);
    };
    const fallback = setTimeout(followLeader, leaderReadsAfterMs);
    this.hurry = followLeader;
    attempt();
  }

  /**
   * Buffers records read from the stream's leader until `stale` (a consumer was made, a seek,
   * close). They do not count as arrivals: those tell that the current consumer is alive.
   */
  private async readFromLeader(stale: () => boolean): Promise<void> {
    const reads = await (this.leaderReads ??= this.js
      .jetstreamManager(false)
      .then((jsm) => new LeaderReads(jsm, this.address.stream)));
    await reads.follow(
      () => this.bufferedTo,
      (messages) => {
        for (const m of messages) {
          if (m.seq - 1 < this.bufferedTo) continue;
          this.bufferedTo = m.seq;
          this.buffer.push(decodeRecord(this.topic, this.partition, m));
        }
        this.wake();
      },
      stale,
    );
  }

  private async read(messages: ConsumerMessages, seek: number): Promise<void> {
    try {
      for await (const m of messages) {
        if (messages !== this.messages) break;
        // After a reconnect the client's ordered consumer can deliver again from an earlier
        // sequence, and a replacement starts where the buffer ended while the consumer it
        // replaces read on: a record already buffered (or taken) must not come twice.
        if (m.seq - 1 < this.bufferedTo) continue;
        this.bufferedTo = m.seq;
        this.arrivals++;
        this.unsure = false;
        this.buffer.push(decodeRecord(this.topic, this.partition, m));
        this.wake();
      }
    } catch (error) {
      if (messages !== this.messages) return;
      this.messages = undefined;
      return this.retry(seek, error);
    }
    // The client ended a consumer nobody stopped (it gave up on it): make another.
    if (messages === this.messages && !this.closed) {
      this.messages = undefined;
      this.retry(seek, undefined);
    }
  }

  /**
   * Makes the consumer again after a pause; a stream that is gone is left to the next poll,
   * which reports it (a later poll restarts the reader).
   */
  private retry(seek: number, error: unknown): void {
    if (isStreamGone(error)) {
      this.serving = -1;
      return;
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (seek === this.seeks && !this.closed && !this.starting) this.start();
    }, RETRY_MS);
  }

  close(): void {
    this.closed = true;
    this.seeks++;
    clearTimeout(this.retryTimer);
    clearInterval(this.askTimer);
    this.drop();
    this.wake();
  }
}

function isStreamGone(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}
