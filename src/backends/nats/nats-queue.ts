import { randomUUID } from "node:crypto";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type {
  PreparedSend,
  QueueDefinition,
  SendOutcome,
} from "../../messaging/queues/durable-queue.js";
import { encodeAttributes, type MessageMeta } from "../../messaging/queues/message-record.js";
import { type QueueConfig, parseConfig } from "../../messaging/queues/queue-attributes.js";
import type { Writable } from "../../messaging/queues/writable.js";
import type { Clock, Timer } from "../../time/index.js";
import type { PayloadBudget } from "./payload-budget.js";
import type { PipelinedPublisher } from "./pipelined-publisher.js";
import type { ReconnectWatch } from "./reconnect-watch.js";
import { type EntryWrite, QueueStream, type StreamAddress } from "./queue-stream.js";
import {
  type ApplyResult,
  type HeldMessage,
  type QueueEntry,
  ReplicatedQueue,
} from "./replicated-queue.js";

/** How a queue's stream is named: per incarnation, so a queue created again starts empty. */
export function streamAddress(namespace: string, definition: QueueDefinition): StreamAddress {
  return {
    stream: `${namespace}_Q_${definition.uid}`,
    subject: `${namespace}.q.${definition.uid}`,
  };
}

/** A message's body and its metadata with the attributes. */
export interface Payload {
  readonly meta: MessageMeta;
  readonly body: string;
}

/** A message named by a receipt: its sequence and the receive the handle came from. */
export interface ReceiptRef {
  readonly seq: number;
  readonly receiveCount: number;
}

/**
 * One queue on JetStream: its replicated state (rebuilt from the stream), the writes that
 * change it (each one an entry appended, then waited for until applied here, so a caller reads
 * its own writes), long-poll waiters and periodic compaction of the stream.
 */
export class NatsQueue {
  config: QueueConfig;
  readonly state: ReplicatedQueue;
  /** Messages a receive or move of this process is taking right now: others skip them. */
  readonly reserved = new Set<number>();
  private readonly results = new Map<number, ApplyResult>();
  /** The newest entry this process appended. */
  private lastWritten = 0;
  private readonly waiters = new Set<() => void>();
  private wakeTimer: Timer | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private compactionTimer: NodeJS.Timeout | undefined;
  private compactedBefore = 0;
  /** The cut found last round: applied one round later, so slower readers have passed it. */
  private pendingCut = 0;
  private closed = false;
  private stream!: QueueStream;

  private constructor(
    public definition: QueueDefinition,
    private readonly clock: Clock,
    private readonly writer: string,
    budget: PayloadBudget,
  ) {
    this.config = parseConfig(definition.attributes);
    this.state = new ReplicatedQueue(
      this.config.fifo,
      () => this.config.deduplicationScope === "messageGroup",
      budget,
    );
  }

  /** Opens the queue's stream (created beforehand) and replays it. */
  static async open(
    nc: NatsConnection,
    watch: ReconnectWatch,
    publisher: PipelinedPublisher,
    jsm: JetStreamManager,
    address: StreamAddress,
    definition: QueueDefinition,
    clock: Clock,
    writer: string,
    compactionIntervalMs: number,
    budget: PayloadBudget,
  ): Promise<NatsQueue> {
    const queue = new NatsQueue(definition, clock, writer, budget);
    queue.stream = await QueueStream.open(
      nc,
      watch,
      publisher,
      jsm,
      address,
      writer,
      (seq, t, from, entry) => queue.applyEntry(seq, t, from, entry),
    );
    queue.scheduleCompaction(compactionIntervalMs);
    return queue;
  }

  get name(): string {
    return this.definition.name;
  }

  get uid(): string {
    return this.definition.uid;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The catalog revision `definition` was read or written at (0: not known). */
  private revision = 0;

  /**
   * Takes `definition`, stored at catalog `revision`, unless a newer one is here already: this
   * process's own write is applied when the catalog answers, and the watch may have brought
   * another process's later edit (made on top of it) before that.
   */
  redefine(definition: QueueDefinition, revision: number): void {
    if (revision <= this.revision) return;
    this.revision = revision;
    this.definition = definition;
    this.config = parseConfig(definition.attributes);
  }

  /** Applies the retention period at the clock's now. */
  advance(): void {
    this.state.dropExpired(this.clock.now(), this.config.messageRetentionPeriod * 1000);
  }

  private applyEntry(seq: number, t: number, writer: string, entry: QueueEntry): void {
    const result = this.state.apply(seq, t, entry);
    // Only this process's own writes wait for their outcome.
    if (writer === this.writer) this.results.set(seq, result);
    // New messages, returned visibility and deletes (a FIFO group's head gone) wake long polls.
    if (entry.kind !== "r") this.notify();
  }

  /** Appends an entry and waits until it is applied here; returns what applying it decided. */
  private async decide(entry: QueueEntry, msgId?: string): Promise<ApplyResult> {
    return (await this.decideMany([{ entry, msgId }]))[0];
  }

  /** Appends entries together and waits until they are applied here; what each decided. */
  private async decideMany(
    entries: readonly { entry: QueueEntry; msgId?: string | undefined }[],
  ): Promise<ApplyResult[]> {
    const sequences = await this.appendMany(entries, true);
    await this.stream.applied(sequences[sequences.length - 1]!);
    return sequences.map((seq) => {
      const result = this.results.get(seq);
      this.results.delete(seq);
      return result;
    });
  }

  /**
   * Appends an entry whose outcome the caller does not need (a send to a standard queue, a
   * delete, a visibility change); this process's next read waits until it is applied.
   */
  private async record(entry: QueueEntry, msgId?: string): Promise<number> {
    return (await this.appendMany([{ entry, msgId }], false))[0]!;
  }

  private async appendMany(
    entries: readonly { entry: QueueEntry; msgId?: string | undefined }[],
    wantsOutcome: boolean,
  ): Promise<number[]> {
    const t = this.clock.now();
    const sequences = await this.stream.appendMany(
      entries.map((e): EntryWrite => ({ entry: e.entry, t, wantsOutcome, msgId: e.msgId })),
    );
    this.lastWritten = Math.max(this.lastWritten, sequences[sequences.length - 1]!);
    return sequences;
  }

  /** Resolves once every write of this process is applied here: reads see their own writes. */
  caughtUp(): Promise<void> {
    this.stream.inUse();
    return this.stream.applied(this.lastWritten);
  }

  /**
   * Resolves once the receives `refs` name are applied here. A handle that another process's
   * receive made a moment ago may name one this process has not applied yet; a delete or a
   * visibility change judged before it would take the handle for stale.
   */
  async seen(refs: readonly ReceiptRef[]): Promise<void> {
    const ahead = refs.some((ref) => {
      if (ref.seq > this.state.appliedSeq) return true;
      const message = this.state.messages.get(ref.seq);
      return message !== undefined && message.receiveCount < ref.receiveCount;
    });
    if (ahead) await this.stream.caughtUpWithLeader();
  }

  /**
   * The messages' bodies and full metadata, in order: held here, or read back from the stream
   * for those held without them. A message the stream no longer holds (deleted and compacted
   * away meanwhile) is left out.
   */
  async payloads(
    messages: readonly HeldMessage[],
  ): Promise<{ message: HeldMessage; payload: Payload }[]> {
    // The usual case, every payload held: no promise per message on the receive path.
    if (messages.every((m) => m.body !== undefined))
      return messages.map((message) => ({
        message,
        payload: { meta: message.meta, body: message.body! },
      }));
    const read = await Promise.all(
      messages.map(async (message) => {
        if (message.body !== undefined)
          return { message, payload: { meta: message.meta, body: message.body } };
        const entry = await this.stream.message(message.seq);
        return entry === undefined
          ? undefined
          : { message, payload: { meta: entry.meta, body: entry.body } };
      }),
    );
    return read.filter((r) => r !== undefined);
  }

  // ---------------------------------------------------------------- writes

  /**
   * Stores messages in call order; FIFO duplicates come back as the first send's outcome.
   * `moveKeys` name where moved messages came from (queue and sequence): JetStream stores a
   * retried move once (Nats-Msg-Id), while the same message moved again later is a new move.
   */
  async send(sends: readonly PreparedSend[], moveKeys?: readonly string[]): Promise<SendOutcome[]> {
    if (sends.length === 0) return [];
    const now = this.clock.now();
    const writes = sends.map((send, i) => {
      const messageId = send.messageId ?? randomUUID();
      const meta: Writable<MessageMeta> = { i: messageId };
      if (send.groupId !== undefined) meta.g = send.groupId;
      if (send.deduplicationId !== undefined) meta.d = send.deduplicationId;
      if (send.attributes !== undefined) meta.a = encodeAttributes(send.attributes.toAttributes());
      if (send.systemAttributes !== undefined)
        meta.y = encodeAttributes(send.systemAttributes.toAttributes());
      if (send.delayMs > 0) meta.v = now + send.delayMs;
      if (send.deadLetterSourceArn !== undefined) meta.src = send.deadLetterSourceArn;
      if (send.sentAt !== undefined) meta.st = send.sentAt;
      const msgId = moveKeys?.[i] ?? messageId;
      const entry: QueueEntry = { kind: "m", meta, body: send.body };
      return { entry, msgId, messageId };
    });
    // Appended together: one publish of the lot, and one connection keeps their order.
    // Only a FIFO send may turn out a duplicate: a standard one's outcome is known already.
    if (this.config.fifo) return (await this.decideMany(writes)) as SendOutcome[];
    const sequences = await this.appendMany(writes, false);
    return writes.map((w, i) => ({ messageId: w.messageId, seq: sequences[i]! }));
  }

  /**
   * Takes messages for a receive; returns those it got: the ones it won, or with a FIFO
   * `attemptId` whose earlier receive (made in any process) is intact, that receive's messages
   * again. A receive with an attempt id is written even when it names no message.
   */
  async receive(
    messages: readonly HeldMessage[],
    visibilityMs: number,
    attemptId?: string,
  ): Promise<HeldMessage[]> {
    if (messages.length === 0 && attemptId === undefined) return [];
    for (const m of messages) this.reserved.add(m.seq);
    try {
      const entry: Writable<QueueEntry & { kind: "r" }> = {
        kind: "r",
        s: messages.map((m) => m.seq),
        rc: messages.map((m) => m.receiveCount),
        v: this.clock.now() + visibilityMs,
      };
      if (attemptId !== undefined) entry.a = attemptId;
      return (await this.decide(entry)) as HeldMessage[];
    } finally {
      for (const m of messages) this.reserved.delete(m.seq);
    }
  }

  /** Deletes messages still at the receive their handle names (receiveCount -1: any). */
  async remove(refs: readonly ReceiptRef[]): Promise<void> {
    if (refs.length === 0) return;
    await this.record({
      kind: "d",
      s: refs.map((r) => r.seq),
      rc: refs.map((r) => r.receiveCount),
    });
    this.notify();
  }

  /** Sets new visibility deadlines (ms since the epoch) of in-flight messages. */
  async changeVisibility(changes: readonly { ref: ReceiptRef; due: number }[]): Promise<void> {
    if (changes.length === 0) return;
    await this.record({
      kind: "c",
      s: changes.map((c) => c.ref.seq),
      rc: changes.map((c) => c.ref.receiveCount),
      v: changes.map((c) => c.due),
    });
  }

  /** Applies a FIFO queue's new DelaySeconds to the messages queued and never received. */
  async redelay(delayMs: number): Promise<void> {
    await this.record({ kind: "y", d: delayMs });
  }

  /** Deletes every message sent before the purge. */
  async purge(): Promise<void> {
    await this.decide({ kind: "p" });
    this.notify();
  }

  // ---------------------------------------------------------------- long polling

  /** Resolves when messages may have become receivable, at `deadline`, on abort, or on close. */
  waitForChange(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.closed || signal?.aborted === true || this.clock.now() >= deadline)
      return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.clock.setTimer(deadline - this.clock.now(), () => done());
      const done = (): void => {
        timer.cancel();
        signal?.removeEventListener("abort", done);
        this.waiters.delete(done);
        resolve();
      };
      signal?.addEventListener("abort", done, { once: true });
      this.waiters.add(done);
      this.armWakeTimer();
    });
  }

  /** Wakes every long poll (new messages, visibility returned, queue closing). */
  notify(): void {
    if (this.waiters.size === 0) return;
    for (const wake of [...this.waiters]) wake();
  }

  /** While polls wait, wake them when the next delay or visibility timeout ends. */
  private armWakeTimer(): void {
    const now = this.clock.now();
    const due = this.state.nextDue(now);
    if (due === undefined || due >= this.wakeAt) return;
    this.wakeTimer?.cancel();
    this.wakeAt = due;
    this.wakeTimer = this.clock.setTimer(due - now, () => {
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.wakeTimer = undefined;
      this.notify();
    });
  }

  // ---------------------------------------------------------------- compaction

  /**
   * Compaction is upkeep of the servers' disks, so it runs on real time (an unref'd timer), not
   * on the queue's clock: a virtual clock moved by days must not set off a storm of purges.
   */
  private scheduleCompaction(intervalMs: number): void {
    if (intervalMs <= 0 || this.closed) return;
    this.compactionTimer = setTimeout(() => {
      void this.compact()
        .catch(() => undefined) // the next round tries again
        .finally(() => this.scheduleCompaction(intervalMs));
    }, intervalMs);
    this.compactionTimer.unref();
  }

  /**
   * Drops the stream's dead prefix: entries before the oldest message still live and the oldest
   * send inside the FIFO deduplication window. Entries only ever name messages older than
   * themselves, so replaying the rest rebuilds the same state.
   */
  async compact(): Promise<void> {
    if (this.closed || this.reserved.size > 0) return;
    const found = this.state.oldestNeeded(this.clock.now());
    const keepFrom = Math.min(found, this.pendingCut);
    this.pendingCut = found;
    if (keepFrom <= this.compactedBefore) return;
    await this.stream.compact(keepFrom);
    this.compactedBefore = keepFrom;
  }

  // ---------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.compactionTimer);
    this.wakeTimer?.cancel();
    this.notify();
    await this.stream.close();
    this.state.releasePayloads();
  }
}
