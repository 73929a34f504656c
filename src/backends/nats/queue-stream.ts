import {
  type Consumer,
  type ConsumerMessages,
  type ConsumerNotification,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { SluiceError } from "../../errors/index.js";
import { LEADER_READS_AFTER_MS, LeaderReads, type StreamMessage } from "./leader-reads.js";
import { streamInfo } from "./nats-connection.js";
import { corruptEntry, decodeEntry } from "./queue-entry-decoder.js";
import type { OutgoingMessage, PipelinedPublisher } from "./pipelined-publisher.js";
import type { ReconnectWatch } from "./reconnect-watch.js";
import { WireHeaders, checkedHeaderLine, headerLine } from "./wire-headers.js";
import { retryWhileUnavailable } from "./retry-unavailable.js";
import { DEDUPLICATION_WINDOW_MS, type QueueEntry } from "./replicated-queue.js";

/** How long one pull of the tail waits; heartbeats come at half of it. */
const TAIL_PULL_MS = 2000;
/** Pause before a tail that ended on its own starts again. */
const TAIL_RETRY_MS = 500;
/**
 * A tail that shows no sign of life for this long (no entry, no heartbeat: three heartbeats
 * missed) is dropped and a new one made from where it stopped. The client's own recovery is not
 * enough: after a reconnect it asks the consumer's server whether the consumer still exists, and
 * when that server is the one that died, the question times out again and again without ever
 * recreating the consumer, so deliveries stall (seen after SIGKILL of a stream follower).
 */
const TAIL_STALL_MS = 3 * (TAIL_PULL_MS / 2) + 500;
/**
 * A tail that brings no entry for this long while the stream is known to hold entries it has
 * not brought is replaced too, heartbeats or not: its consumer can live on a server whose copy
 * of the stream has stopped following the others (after a leader's death), where it answers
 * every pull with heartbeats and never with the entries (seen as a stall for good).
 */
const TAIL_BEHIND_MS = 2500;
/**
 * While the queue is in use here (a call in the last this-many ms) and the tail has brought
 * nothing for TAIL_BEHIND_MS, the stream's last sequence is asked of its leader, so a stuck
 * tail is found even when this process wrote nothing that it waits for.
 */
const IN_USE_MS = 30_000;
/**
 * After another server left the cluster, a tail that shows no sign of life (a heartbeat comes
 * every TAIL_PULL_MS / 2 when idle) for this long lived there: replaced without waiting out
 * TAIL_STALL_MS.
 */
const TAIL_SUSPECT_MS = TAIL_PULL_MS / 2 + 200;
/** How often the tail's liveness is checked. */
const TAIL_CHECK_MS = 500;
/**
 * How long one attempt to make a new tail waits for the servers. Attempts overlap (a new one
 * every TAIL_RETRY_MS), so one lost to a dead server or an election does not hold up the next
 * (whose consumer may be placed elsewhere); and one that is only slow still succeeds: a loaded
 * cluster can take seconds to create a consumer, and with a 2 s limit every attempt would fail.
 */
const TAIL_REQUEST_MS = 4000;
/**
 * How long a write waits to see its own entry come back. A network deadline, so real time
 * (the injected Clock is for the queue's semantics and may be virtual).
 */
const APPLY_TIMEOUT_MS = 15_000;

/** Where one queue lives in JetStream: its stream and the one subject all its entries use. */
export interface StreamAddress {
  readonly stream: string;
  readonly subject: string;
}

/** Called for every entry in stream order: its sequence, writer time, writer id and content. */
export type EntryHandler = (seq: number, t: number, writer: string, entry: QueueEntry) => void;

/** A tail: the ordered consumer that follows the stream, and the entries it brings. */
interface Tail {
  readonly consumer: Consumer;
  readonly messages: ConsumerMessages;
}

/** One entry to append: written at `t`; `wantsOutcome` marks it as this writer's. */
export interface EntryWrite {
  readonly entry: QueueEntry;
  readonly t: number;
  readonly wantsOutcome: boolean;
  /** Its `Nats-Msg-Id` (a new one if absent): a publish sent again is stored once. */
  readonly msgId?: string | undefined;
}

export interface StreamSettings {
  readonly replicas: number;
  /** Largest entry the stream takes (a 1 MiB message with its attributes needs ~1.1 MiB). */
  readonly maxEntryBytes: number;
}

/**
 * One queue's JetStream stream: entries are appended with the writer's time and id and read
 * back by an ordered consumer from the first one kept, so every process sees them all in the
 * same order. `appended(seq)` resolves once this process has applied everything up to `seq`.
 */
export class QueueStream {
  private appliedSeq = 0;
  private readonly waiting = new Map<number, (() => void)[]>();
  private failure: Error | undefined;
  private closing = false;
  private readonly tail: Promise<void>;
  /** When the tail last showed a sign of life (real time). */
  private lastSignMs = Date.now();
  /** When the tail last brought an entry, applied before or not (real time). */
  private lastEntryMs = Date.now();
  /** The highest sequence known to be stored: this process's appends, the leader's answers. */
  private storedSeq = 0;
  /** When a caller last used this queue (real time). */
  private lastUseMs = 0;
  /** When the stream's leader was last asked for its last sequence (real time). */
  private lastProbeMs = 0;
  private probing = false;
  private readonly watchdog: NodeJS.Timeout;
  private readonly stopWatching: () => void;
  private readonly stopWatchingLoss: () => void;
  /** When a server was last seen leaving the cluster, while the tail is not yet cleared. */
  private serverLostMs = 0;
  /** The tail was stopped as suspect (`replaceTail`): its replacement hurries. */
  private suspect = false;
  private readonly leaderReads: LeaderReads;

  private constructor(
    /** Publishes entries with their acks pipelined; shared by the service's queues. */
    private readonly publisher: PipelinedPublisher,
    /** The client that makes tails, with short request timeouts. */
    private readonly tailJs: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly address: StreamAddress,
    private readonly writer: string,
    private current: Tail,
    handler: EntryHandler,
    watch: ReconnectWatch,
  ) {
    this.leaderReads = new LeaderReads(jsm, address.stream);
    this.watchLiveness(current.messages);
    // After a reconnect the tail's consumer may have lived on the server that went away: a new
    // one is started at once rather than after its heartbeats are missed.
    this.stopWatching = watch.onReconnect(() => {
      if (!this.closing) this.replaceTail();
    });
    this.stopWatchingLoss = watch.onServerLost(() => (this.serverLostMs = Date.now()));
    this.watchdog = setInterval(() => this.checkTail(), TAIL_CHECK_MS);
    this.watchdog.unref();
    this.tail = this.follow(handler);
  }

  /** An ordered consumer of the stream from `seq` on, pulling in short rounds. */
  private static async subscribe(
    js: JetStreamClient,
    address: StreamAddress,
    seq: number,
  ): Promise<Tail> {
    const consumer = await js.consumers.get(
      address.stream,
      seq <= 1
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seq },
    );
    // Short pulls: a tail whose server died notices within ~2 s (two missed heartbeats) and
    // the ordered consumer recreates itself on a live node from where it was.
    return { consumer, messages: await consumer.consume({ expires: TAIL_PULL_MS }) };
  }

  /** Creates the stream (replicated `replicas` times, file storage). */
  static async create(
    jsm: JetStreamManager,
    address: StreamAddress,
    settings: StreamSettings,
  ): Promise<void> {
    // The name holds the queue's uid, so a second try finds or makes this very stream.
    const add = () =>
      jsm.streams.add({
        name: address.stream,
        subjects: [address.subject],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        num_replicas: settings.replicas,
        max_msg_size: settings.maxEntryBytes,
        // Nats-Msg-Id: a send retried after a lost acknowledgement is stored once.
        duplicate_window: DEDUPLICATION_WINDOW_MS * 1_000_000,
      });
    await retryWhileUnavailable(add, { creatingStream: true });
  }

  /**
   * Opens the stream and replays it into `handler`; resolves once the replay caught up.
   * `watch` is the connection's, shared by the service's queues.
   */
  static async open(
    nc: NatsConnection,
    watch: ReconnectWatch,
    publisher: PipelinedPublisher,
    jsm: JetStreamManager,
    address: StreamAddress,
    writer: string,
    handler: EntryHandler,
  ): Promise<QueueStream> {
    const info = await streamInfo(jsm, address.stream);
    const tailJs = jetstream(nc, { timeout: TAIL_REQUEST_MS });
    const tail = await QueueStream.subscribe(tailJs, address, 1);
    const stream = new QueueStream(publisher, tailJs, jsm, address, writer, tail, handler, watch);
    stream.storedSeq = info.state.last_seq;
    if (info.state.messages > 0) await stream.applied(info.state.last_seq);
    return stream;
  }

  /**
   * The message entry at `seq`, read from the stream's leader; undefined when the stream no
   * longer holds it.
   */
  async message(seq: number): Promise<(QueueEntry & { kind: "m" }) | undefined> {
    const stored = await retryWhileUnavailable(() =>
      this.jsm.streams.getMessage(this.address.stream, { seq }),
    );
    if (stored === null) return undefined;
    const m: StreamMessage = { seq: stored.seq, headers: stored.header, data: stored.data };
    const entry = decodeEntry(m, this.address.stream);
    if (entry.kind !== "m") throw corruptEntry(m, this.address.stream, "not a message");
    return entry;
  }

  /** Resolves once every entry the stream's leader has stored now is applied here. */
  async caughtUpWithLeader(): Promise<void> {
    const info = await retryWhileUnavailable(() => this.jsm.streams.info(this.address.stream));
    this.storedSeq = Math.max(this.storedSeq, info.state.last_seq);
    await this.applied(info.state.last_seq);
  }

  /**
   * Appends entries in order; resolves with their sequences once JetStream stored them all.
   * They go out together with their acks pipelined (one timer for the lot). Every entry carries
   * a `Nats-Msg-Id`, so one caught in a dead connection or an election is sent again (at the
   * reconnect, or after 2 s without an answer) and stored once, and a "no responders" (no stream
   * leader yet) is sent again after a pause, up to 15 s; then SLUICE_TIMEOUT.
   */
  async appendMany(writes: readonly EntryWrite[]): Promise<number[]> {
    const messages = writes.map((w) => this.encode(w));
    const sequences = await this.publisher.publish(this.address.subject, messages, true);
    for (const seq of sequences) if (seq > this.storedSeq) this.storedSeq = seq;
    return sequences;
  }

  /** Appends one entry; resolves with its sequence once JetStream stored it. */
  async append(write: EntryWrite): Promise<number> {
    return (await this.appendMany([write]))[0]!;
  }

  private encode({ entry, t, wantsOutcome, msgId }: EntryWrite): OutgoingMessage {
    // The id may come from a caller; the rest is a letter, digits, this writer's id and JSON.
    let lines = checkedHeaderLine("Nats-Msg-Id", msgId ?? randomUUID());
    lines += headerLine("k", entry.kind) + headerLine("t", String(t));
    if (wantsOutcome) lines += headerLine("w", this.writer);
    if (entry.kind === "m") {
      lines += headerLine("m", JSON.stringify(entry.meta));
      return { payload: Buffer.from(entry.body, "utf8"), headers: WireHeaders.of(lines) };
    }
    const { kind: _kind, ...rest } = entry;
    return { payload: Buffer.from(JSON.stringify(rest), "utf8"), headers: WireHeaders.of(lines) };
  }

  /**
   * Resolves once entries up to `seq` are applied here; rejects if the tail failed, or with
   * SLUICE_TIMEOUT if it has not caught up within 15 s (the entry is stored, its effect unknown).
   */
  applied(seq: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (seq <= this.appliedSeq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiting.get(seq);
        list?.splice(list.indexOf(wake), 1);
        reject(
          new SluiceError(
            "SLUICE_TIMEOUT",
            `queue stream ${this.address.stream}: entry ${seq} was stored but not read back within ${APPLY_TIMEOUT_MS} ms`,
          ),
        );
      }, APPLY_TIMEOUT_MS);
      const wake = (): void => {
        clearTimeout(timer);
        if (this.failure === undefined) resolve();
        else reject(this.failure);
      };
      const list = this.waiting.get(seq) ?? [];
      list.push(wake);
      this.waiting.set(seq, list);
    });
  }

  /** Drops entries before `seq` (replay no longer needs them). */
  async compact(seq: number): Promise<void> {
    await this.jsm.streams.purge(this.address.stream, { seq });
  }

  async close(): Promise<void> {
    this.closing = true;
    // The publisher is the service's: only this stream's writes stop trying.
    this.publisher.cancel(
      this.address.subject,
      new SluiceError("SLUICE_CLOSED", `queue stream ${this.address.stream} closed`),
    );
    clearInterval(this.watchdog);
    this.stopWatching();
    this.stopWatchingLoss();
    // A tail cut off from every server may never end its pull: do not wait for it forever.
    const gaveUp = new Promise<void>((resolve) => setTimeout(resolve, TAIL_PULL_MS).unref());
    await Promise.race([Promise.all([this.current.messages.close(), this.tail]), gaveUp]);
  }

  /** Deletes the stream and everything in it. */
  static async remove(jsm: JetStreamManager, address: StreamAddress): Promise<void> {
    try {
      await jsm.streams.delete(address.stream);
    } catch {
      // Already gone: a queue deleted twice, or by another process.
    }
  }

  /**
   * Applies entries as they come. A tail that ends without `close` (its consumer lost for good,
   * say after a long partition) starts again where it stopped, so the queue keeps working.
   */
  private async follow(handler: EntryHandler): Promise<void> {
    while (!this.closing) {
      try {
        for await (const m of this.current.messages) {
          this.lastSignMs = this.lastEntryMs = Date.now();
          // A replaced tail may still hand over what it had buffered: apply nothing twice.
          if (m.seq <= this.appliedSeq) continue;
          this.apply(m, handler);
        }
      } catch (error) {
        if (error instanceof SluiceError && error.code === "SLUICE_CORRUPT") {
          this.failure = error;
          break;
        }
      }
      if (this.closing) break;
      // Removed now rather than left to the servers' 5-minute inactivity limit (best effort:
      // its server may be the one that died).
      this.current.consumer.delete().catch(() => undefined);
      // A tail replaced as suspect (its server may have died) is followed on the stream's
      // leader at once; one that ended on its own is made again after a pause.
      const suspect = this.suspect;
      this.suspect = false;
      if (!suspect) await new Promise((resolve) => setTimeout(resolve, TAIL_RETRY_MS));
      const next = await this.newTail(
        this.appliedSeq + 1,
        handler,
        suspect ? 0 : LEADER_READS_AFTER_MS,
      );
      if (next === undefined) break;
      this.current = next;
      this.suspect = false; // a tail stopped again while this one was being made
      this.lastSignMs = this.lastEntryMs = Date.now();
      this.watchLiveness(next.messages);
    }
    this.failure ??= new SluiceError("SLUICE_CLOSED", `queue stream ${this.address.stream} closed`);
    for (const list of this.waiting.values()) for (const wake of list) wake();
    this.waiting.clear();
  }

  /**
   * A new tail from `seq` on; undefined once closing. While a server is down, a request to make
   * the consumer can go unanswered (placed on the dead server, or no leader yet); rather than
   * wait out each timeout in turn, a new attempt starts every TAIL_RETRY_MS (those sent while
   * there is no leader are dropped, so the first sent after the election answers at once), the
   * first to succeed is used and later ones are removed. Asking that goes on for
   * `leaderReadsAfterMs` applies entries read from the stream's leader meanwhile (no consumer
   * can be made while the meta leader is being elected again, and a new stream leader answers
   * reads before it answers the first request for a consumer).
   */
  private newTail(
    seq: number,
    handler: EntryHandler,
    leaderReadsAfterMs: number,
  ): Promise<Tail | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (tail: Tail | undefined): void => {
        done = true;
        clearInterval(timer);
        clearTimeout(fallback);
        resolve(tail);
      };
      const attempt = (): void => {
        if (done) return;
        if (this.closing) return finish(undefined);
        QueueStream.subscribe(this.tailJs, this.address, seq).then(
          (tail) => {
            if (!done) return finish(tail);
            tail.messages.stop();
            tail.consumer.delete().catch(() => undefined);
          },
          () => undefined, // the servers are still out of reach: a later attempt goes on
        );
      };
      const timer = setInterval(attempt, TAIL_RETRY_MS);
      const fallback = setTimeout(() => {
        // An entry it cannot decode is left to the tail, which fails the stream with it.
        void this.leaderReads
          .follow(
            () => this.appliedSeq,
            (messages) => {
              for (const m of messages) if (m.seq > this.appliedSeq) this.apply(m, handler);
            },
            () => done || this.closing,
          )
          .catch(() => undefined);
      }, leaderReadsAfterMs);
      attempt();
    });
  }

  /** Applies one entry, the next in stream order. */
  private apply(m: StreamMessage, handler: EntryHandler): void {
    const entry = decodeEntry(m, this.address.stream);
    handler(m.seq, Number(m.headers?.get("t")), m.headers?.get("w") ?? "", entry);
    this.advanceTo(m.seq);
  }

  /** Heartbeats and the server's status replies to the tail's pulls count as signs of life. */
  private watchLiveness(messages: ConsumerMessages): void {
    void (async () => {
      for await (const s of messages.status()) if (isSignOfLife(s)) this.lastSignMs = Date.now();
    })().catch(() => undefined);
  }

  /** A caller uses this queue now: for a while, a stuck tail is looked for actively. */
  inUse(): void {
    this.lastUseMs = Date.now();
  }

  /**
   * Replaces a tail that went silent, or that brings nothing while the stream holds entries it
   * has not brought; `follow` then makes a new one from the next entry. While the queue is in
   * use and nothing comes, asks the stream's leader how far the stream goes.
   */
  private checkTail(): void {
    if (this.closing) return;
    const now = Date.now();
    if (now - this.lastSignMs >= TAIL_STALL_MS) return this.replaceTail();
    if (this.serverLostMs > 0 && now - this.serverLostMs >= TAIL_SUSPECT_MS) {
      const lostAt = this.serverLostMs;
      this.serverLostMs = 0;
      if (this.lastSignMs < lostAt) return this.replaceTail();
    }
    if (now - this.lastEntryMs < TAIL_BEHIND_MS) return;
    if (this.storedSeq > this.appliedSeq) return this.replaceTail();
    if (this.probing || now - this.lastUseMs >= IN_USE_MS) return;
    if (now - this.lastProbeMs < TAIL_BEHIND_MS) return;
    this.probing = true;
    this.lastProbeMs = now;
    this.jsm.streams
      .info(this.address.stream)
      .then(
        (info) => (this.storedSeq = Math.max(this.storedSeq, info.state.last_seq)),
        () => undefined, // no leader to answer yet: asked again next round
      )
      .finally(() => (this.probing = false));
  }

  private replaceTail(): void {
    this.suspect = true;
    this.lastSignMs = this.lastEntryMs = Date.now();
    this.current.messages.stop();
  }

  private advanceTo(seq: number): void {
    this.appliedSeq = seq;
    if (this.waiting.size === 0) return;
    for (const [at, list] of this.waiting) {
      if (at > seq) continue;
      this.waiting.delete(at);
      for (const wake of list) wake();
    }
  }
}

function isSignOfLife(s: ConsumerNotification): boolean {
  return s.type === "heartbeat" || s.type === "debug" || s.type === "discard";
}
