import {
  type ConsumerMessages,
  type ConsumerNotification,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { randomUUID } from "node:crypto";
import { type NatsConnection, TimeoutError, headers as natsHeaders } from "@nats-io/transport-node";
import { SluiceError } from "../../errors/index.js";
import type { MessageMeta } from "../../messaging/queues/message-record.js";
import { isUnanswered } from "./nats-connection.js";
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
/** How often the tail's liveness is checked. */
const TAIL_CHECK_MS = 500;
/**
 * How long one publish waits for JetStream's acknowledgement before it is sent again. A publish
 * caught in a dead connection or a leader election is never answered; every entry carries a
 * `Nats-Msg-Id`, so sending it again stores it once and answers with its first sequence.
 */
const PUBLISH_ATTEMPT_MS = 2000;
/** Pause before a publish that found no stream leader is sent again. */
const PUBLISH_RETRY_PAUSE_MS = 100;
/**
 * How long making a new tail waits for the servers. Short, so that a request lost to a dead
 * server or an election is soon made again (the consumer's placement may differ next time).
 */
const TAIL_REQUEST_MS = 2000;
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
  private readonly watchdog: NodeJS.Timeout;
  private stopStatus: () => void = () => undefined;

  private constructor(
    private readonly js: JetStreamClient,
    /** The client that makes tails, with short request timeouts. */
    private readonly tailJs: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly address: StreamAddress,
    private readonly writer: string,
    private messages: ConsumerMessages,
    handler: EntryHandler,
    nc: NatsConnection,
  ) {
    this.watchLiveness(messages);
    this.replaceOnReconnect(nc);
    this.watchdog = setInterval(() => this.replaceIfStalled(), TAIL_CHECK_MS);
    this.watchdog.unref();
    this.tail = this.follow(handler);
  }

  /** An ordered consumer of the stream from `seq` on, pulling in short rounds. */
  private static async subscribe(
    js: JetStreamClient,
    address: StreamAddress,
    seq: number,
  ): Promise<ConsumerMessages> {
    const consumer = await js.consumers.get(
      address.stream,
      seq <= 1
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seq },
    );
    // Short pulls: a tail whose server died notices within ~2 s (two missed heartbeats) and
    // the ordered consumer recreates itself on a live node from where it was.
    return consumer.consume({ expires: TAIL_PULL_MS });
  }

  /** Creates the stream (replicated `replicas` times, file storage). */
  static async create(
    jsm: JetStreamManager,
    address: StreamAddress,
    settings: StreamSettings,
  ): Promise<void> {
    await jsm.streams.add({
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
  }

  /** Opens the stream and replays it into `handler`; resolves once the replay caught up. */
  static async open(
    nc: NatsConnection,
    js: JetStreamClient,
    jsm: JetStreamManager,
    address: StreamAddress,
    writer: string,
    handler: EntryHandler,
  ): Promise<QueueStream> {
    const info = await jsm.streams.info(address.stream);
    const tailJs = jetstream(nc, { timeout: TAIL_REQUEST_MS });
    const messages = await QueueStream.subscribe(tailJs, address, 1);
    const stream = new QueueStream(js, tailJs, jsm, address, writer, messages, handler, nc);
    if (info.state.messages > 0) await stream.applied(info.state.last_seq);
    return stream;
  }

  /**
   * Appends an entry written at `t`; resolves with its sequence once JetStream stored it.
   * `wantsOutcome` marks it as this writer's, so applying it records what it decided.
   */
  async append(
    entry: QueueEntry,
    t: number,
    wantsOutcome: boolean,
    msgId?: string,
  ): Promise<number> {
    const h = natsHeaders();
    h.set("k", entry.kind);
    h.set("t", String(t));
    if (wantsOutcome) h.set("w", this.writer);
    let payload: Uint8Array;
    if (entry.kind === "m") {
      h.set("m", JSON.stringify(entry.meta));
      payload = Buffer.from(entry.body, "utf8");
    } else {
      const { kind: _kind, ...rest } = entry;
      payload = Buffer.from(JSON.stringify(rest), "utf8");
    }
    const msgID = msgId ?? randomUUID();
    const deadline = Date.now() + APPLY_TIMEOUT_MS;
    for (;;) {
      try {
        const ack = await this.js.publish(this.address.subject, payload, {
          headers: h,
          msgID,
          timeout: PUBLISH_ATTEMPT_MS,
        });
        return ack.seq;
      } catch (error) {
        if (this.closing || Date.now() >= deadline || !isUnanswered(error)) throw error;
        // No stream leader yet (an election): give it a moment rather than ask in a tight loop.
        if (!(error instanceof TimeoutError))
          await new Promise((resolve) => setTimeout(resolve, PUBLISH_RETRY_PAUSE_MS));
      }
    }
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
    clearInterval(this.watchdog);
    this.stopStatus();
    // A tail cut off from every server may never end its pull: do not wait for it forever.
    const gaveUp = new Promise<void>((resolve) => setTimeout(resolve, TAIL_PULL_MS).unref());
    await Promise.race([Promise.all([this.messages.close(), this.tail]), gaveUp]);
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
        for await (const m of this.messages) {
          this.lastSignMs = Date.now();
          // A replaced tail may still hand over what it had buffered: apply nothing twice.
          if (m.seq <= this.appliedSeq) continue;
          handler(m.seq, Number(m.headers?.get("t")), m.headers?.get("w") ?? "", decodeEntry(m));
          this.advanceTo(m.seq);
        }
      } catch (error) {
        if (error instanceof SluiceError && error.code === "SLUICE_CORRUPT") {
          this.failure = error;
          break;
        }
      }
      if (this.closing) break;
      await new Promise((resolve) => setTimeout(resolve, TAIL_RETRY_MS));
      const next = await this.newTail(this.appliedSeq + 1);
      if (next === undefined) break;
      this.messages = next;
      this.lastSignMs = Date.now();
      this.watchLiveness(next);
    }
    this.failure ??= new SluiceError("SLUICE_CLOSED", `queue stream ${this.address.stream} closed`);
    for (const list of this.waiting.values()) for (const wake of list) wake();
    this.waiting.clear();
  }

  /**
   * A new tail from `seq` on; undefined once closing. While a server is down, a request to make
   * the consumer can go unanswered (placed on the dead server, or no leader yet); rather than
   * wait out each timeout in turn, a new attempt starts every TAIL_RETRY_MS, the first to
   * succeed is used and later ones are stopped.
   */
  private newTail(seq: number): Promise<ConsumerMessages | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (messages: ConsumerMessages | undefined): void => {
        done = true;
        clearInterval(timer);
        resolve(messages);
      };
      const attempt = (): void => {
        if (done) return;
        if (this.closing) return finish(undefined);
        QueueStream.subscribe(this.tailJs, this.address, seq).then(
          (messages) => {
            if (done) messages.stop();
            else finish(messages);
          },
          () => undefined, // the servers are still out of reach: a later attempt goes on
        );
      };
      const timer = setInterval(attempt, TAIL_RETRY_MS);
      attempt();
    });
  }

  /** Heartbeats and the server's status replies to the tail's pulls count as signs of life. */
  private watchLiveness(messages: ConsumerMessages): void {
    void (async () => {
      for await (const s of messages.status()) if (isSignOfLife(s)) this.lastSignMs = Date.now();
    })().catch(() => undefined);
  }

  /**
   * After a reconnect the tail's consumer may have lived on the server that went away: start a
   * new one at once rather than wait for the heartbeats to be missed.
   */
  private replaceOnReconnect(nc: NatsConnection): void {
    const status = nc.status();
    // The client's status iterator can be stopped; stop it on close so a connection shared by
    // many queues, opened and closed over time, does not collect listeners.
    this.stopStatus = () => (status as { stop?: () => void }).stop?.();
    void (async () => {
      for await (const s of status) {
        if (this.closing) break;
        if (s.type === "reconnect") {
          this.lastSignMs = Date.now();
          this.messages.stop();
        }
      }
    })().catch(() => undefined);
  }

  /** Stops a tail that went silent; `follow` then makes a new one from the next entry. */
  private replaceIfStalled(): void {
    if (this.closing || Date.now() - this.lastSignMs < TAIL_STALL_MS) return;
    this.lastSignMs = Date.now();
    this.messages.stop();
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

function decodeEntry(m: JsMsg): QueueEntry {
  const kind = m.headers?.get("k");
  if (kind === "m") {
    const meta = JSON.parse(m.headers?.get("m") ?? "null") as MessageMeta | null;
    if (meta === null) throw corrupt(m, "a message without its metadata");
    return { kind, meta, body: Buffer.from(m.data).toString("utf8") };
  }
  if (kind === "r" || kind === "d" || kind === "c" || kind === "p" || kind === "y") {
    const rest = JSON.parse(Buffer.from(m.data).toString("utf8")) as object;
    return { kind, ...rest } as QueueEntry;
  }
  throw corrupt(m, `an entry of unknown kind ${JSON.stringify(kind)}`);
}

function corrupt(m: JsMsg, what: string): SluiceError {
  return new SluiceError("SLUICE_CORRUPT", `queue stream ${m.info.stream} seq ${m.seq}: ${what}`);
}
