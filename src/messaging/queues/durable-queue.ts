import type { Writable } from "./writable.js";
import { randomUUID } from "node:crypto";
import {
  type FileSystem,
  type FsyncPolicy,
  type Log,
  type LogRecord,
  type RecordInput,
  openLog,
} from "../../engine/index.js";
import type { MetricsRegistry } from "../../observability/index.js";
import type { Clock, Timer } from "../../time/index.js";
import { ExpiringMap } from "./expiring-map.js";
import {
  CHANGE_KEY,
  type ChangeEntry,
  DELAY_KEY,
  DELETE_KEY,
  type DelayEntry,
  type DeleteEntry,
  MESSAGE_KEY,
  type MessageMeta,
  PURGE_KEY,
  type PurgeEntry,
  RECEIVE_KEY,
  type ReceiveEntry,
  encodeAttributes,
  journalRecord,
  messageRecord,
  readJournal,
  readMeta,
} from "./message-record.js";
import { MAX_MESSAGE_SIZE, type QueueConfig, parseConfig } from "./queue-attributes.js";
import { QueueMetrics } from "./queue-metrics.js";
import { DELAYED, INFLIGHT, QueueState, QueuedMessage, VISIBLE } from "./queue-state.js";
import type { MessageAttributeValue } from "./queue-service.js";

/** SQS's FIFO deduplication interval. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

/** A queue as the catalog records it. */
export interface QueueDefinition {
  readonly name: string;
  /** Random per incarnation: a queue deleted and created again is a different queue. */
  readonly uid: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  /** Seconds since the epoch. */
  readonly createdTimestamp: number;
  readonly lastModifiedTimestamp: number;
}

/** A send the service has validated, ready to be stored. */
export interface PreparedSend {
  readonly body: string;
  readonly attributes?: Readonly<Record<string, MessageAttributeValue>>;
  readonly systemAttributes?: Readonly<Record<string, MessageAttributeValue>>;
  readonly groupId?: string;
  /** Explicit or content-based; used for FIFO deduplication unless `skipDeduplication`. */
  readonly deduplicationId?: string;
  readonly delayMs: number;
  // Set when a message moves between queues (dead-lettering, redrive).
  readonly messageId?: string;
  readonly sentAt?: number;
  readonly deadLetterSourceArn?: string;
  readonly skipDeduplication?: boolean;
}

export interface SendOutcome {
  readonly messageId: string;
  readonly seq: number;
}

/** A message of this queue read back from its log. */
export interface StoredMessage {
  readonly state: QueuedMessage;
  readonly meta: MessageMeta;
  readonly body: string;
}

export interface DurableQueueOptions {
  readonly clock: Clock;
  readonly fsync: FsyncPolicy;
  readonly metrics?: MetricsRegistry;
  readonly fs?: FileSystem;
  /** How often the log is compacted (dead prefix dropped), default 2 s. */
  readonly compactionIntervalMs?: number;
  /** Queue log segment size (default 8 MiB): compaction drops whole segments. */
  readonly segmentBytes?: number;
}

/** Wakes long polls; resolves when something changed, the deadline passed or the signal fired. */
type Waiter = () => void;

/**
 * One queue: its log (messages and the journal of state changes, in one ordered stream), the
 * in-memory state recovered from it on open, long-poll waiters and background compaction.
 * Every change is applied in memory first (so concurrent callers never see the same message)
 * and then appended; callers await the append for durability.
 */
export class DurableQueue {
  config: QueueConfig;
  readonly state: QueueState;
  /** FIFO deduplication: the first send of each id in the last five minutes. */
  readonly dedup = new ExpiringMap<SendOutcome>(DEDUPLICATION_WINDOW_MS);
  /** Moves out of this queue in progress; compaction waits while there are any. */
  pendingMoves = 0;
  lastPurgeAt = Number.NEGATIVE_INFINITY;
  private readonly waiters = new Set<Waiter>();
  private wakeTimer: Timer | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private compactionTimer: Timer | undefined;
  private compacting: Promise<void> | undefined;
  private closed = false;
  private lastAppend: Promise<unknown> = Promise.resolve();
  /** Recovery time of the last open, ms. */
  recoveryMs = 0;

  readonly metrics: QueueMetrics;

  private constructor(
    public definition: QueueDefinition,
    readonly log: Log,
    private readonly clock: Clock,
    private readonly compactionIntervalMs: number,
    registry: MetricsRegistry | undefined,
  ) {
    this.config = parseConfig(definition.attributes);
    this.state = new QueueState(this.config.fifo);
    this.metrics = new QueueMetrics(registry, definition.name);
  }

  static async open(
    dir: string,
    definition: QueueDefinition,
    options: DurableQueueOptions,
  ): Promise<DurableQueue> {
    const log = await openLog(dir, {
      fsync: options.fsync,
      clock: options.clock,
      segmentBytes: options.segmentBytes ?? 8 * 1024 * 1024,
      // A 1 MiB message plus its metadata, binary attributes in base64 JSON.
      maxRecordBytes: 4 * MAX_MESSAGE_SIZE,
      maintenanceIntervalMs: 0,
      name: definition.name,
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      ...(options.fs === undefined ? {} : { fs: options.fs }),
    });
    const queue = new DurableQueue(
      definition,
      log,
      options.clock,
      options.compactionIntervalMs ?? 2000,
      options.metrics,
    );
    try {
      const started = performance.now();
      queue.recover();
      queue.recoveryMs = performance.now() - started;
    } catch (error) {
      await log.close();
      throw error;
    }
    queue.scheduleCompaction();
    return queue;
  }

  get name(): string {
    return this.definition.name;
  }

  get uid(): string {
    return this.definition.uid;
  }

  redefine(definition: QueueDefinition): void {
    this.definition = definition;
    this.config = parseConfig(definition.attributes);
  }

  /** Applies due timers and retention at the clock's now. */
  advance(): number {
    const now = this.clock.now();
    this.dedup.prune(now);
    const woke = this.state.advance(now, this.config.messageRetentionPeriod * 1000);
    this.metrics.depth(this.state);
    return woke;
  }

  // ---------------------------------------------------------------- writes

  /** Stores messages (deduplicating FIFO sends); resolves once they are durable. */
  send(sends: readonly PreparedSend[]): { outcomes: SendOutcome[]; durable: Promise<unknown> } {
    const now = this.clock.now();
    this.advance();
    const records: RecordInput[] = [];
    const added: QueuedMessage[] = [];
    const outcomes: SendOutcome[] = [];
    const base = this.log.logEndOffset;
    for (const send of sends) {
      const dedupKey = this.dedupKey(send.groupId, send.deduplicationId);
      if (dedupKey !== undefined && send.skipDeduplication !== true) {
        const earlier = this.dedup.get(dedupKey, now);
        if (earlier !== undefined) {
          outcomes.push(earlier);
          continue;
        }
      }
      const seq = base + records.length;
      const messageId = send.messageId ?? randomUUID();
      const visibleAt = now + send.delayMs;
      const meta: Writable<MessageMeta> = { i: messageId };
      if (send.groupId !== undefined) meta.g = send.groupId;
      if (send.deduplicationId !== undefined) meta.d = send.deduplicationId;
      if (send.attributes !== undefined && Object.keys(send.attributes).length > 0)
        meta.a = encodeAttributes(send.attributes);
      if (send.systemAttributes !== undefined && Object.keys(send.systemAttributes).length > 0)
        meta.y = encodeAttributes(send.systemAttributes);
      if (send.delayMs > 0) meta.v = visibleAt;
      if (send.deadLetterSourceArn !== undefined) meta.src = send.deadLetterSourceArn;
      if (send.sentAt !== undefined) meta.st = send.sentAt;
      records.push(messageRecord(Buffer.from(send.body, "utf8"), meta));
      const group = this.config.fifo ? this.state.group(send.groupId ?? "") : undefined;
      const message = new QueuedMessage(seq, seq, send.sentAt ?? now, group);
      if (send.delayMs > 0) {
        message.state = DELAYED;
        message.due = visibleAt;
      }
      added.push(message);
      outcomes.push({ messageId, seq });
      if (dedupKey !== undefined && send.skipDeduplication !== true)
        this.dedup.set(dedupKey, { messageId, seq }, now);
    }
    // A call of duplicates only is acknowledged once the first sends are durable too.
    if (records.length === 0) return { outcomes, durable: this.lastAppend };
    const durable = this.append(records);
    for (const message of added) this.state.add(message, now);
    this.metrics.sent.inc(added.length);
    this.metrics.depth(this.state);
    this.notify();
    return { outcomes, durable };
  }

  /** Receives up to `max` messages; dead letters go to `deadLetter` (state already removed). */
  receive(
    max: number,
    visibilityMs: number,
    maxReceiveCount: number | undefined,
    deadLetter: (messages: QueuedMessage[]) => void,
  ): { taken: QueuedMessage[]; durable: Promise<unknown> } {
    const now = this.clock.now();
    this.advance();
    const dead: QueuedMessage[] = [];
    const taken = this.state.take(max, now, visibilityMs, maxReceiveCount, (m) => dead.push(m));
    if (dead.length > 0) {
      this.metrics.deadLettered.inc(dead.length);
      deadLetter(dead);
    }
    this.metrics.received.inc(taken.length);
    this.metrics.depth(this.state);
    if (taken.length === 0) return { taken, durable: Promise.resolve() };
    if (this.waiters.size > 0) this.armWakeTimer();
    const entry: ReceiveEntry = { s: taken.map((m) => m.seq), v: now + visibilityMs };
    return { taken, durable: this.append([journalRecord(RECEIVE_KEY, entry)]) };
  }

  /** Removes messages for good (delete, or moved out once the destination holds them). */
  remove(messages: readonly QueuedMessage[]): Promise<unknown> {
    for (const m of messages) this.state.remove(m);
    this.metrics.deleted.inc(messages.length);
    this.metrics.depth(this.state);
    // Deleting a FIFO group's in-flight head unblocks the group: wake polls waiting on it.
    if (this.config.fifo && messages.length > 0) this.notify();
    return this.journalDelete(messages.map((m) => m.seq));
  }

  /** Journals the removal of messages already taken out of the state. */
  journalDelete(seqs: readonly number[]): Promise<unknown> {
    if (seqs.length === 0) return Promise.resolve();
    const entry: DeleteEntry = { s: [...seqs] };
    return this.append([journalRecord(DELETE_KEY, entry)]);
  }

  /** Sets new visibility deadlines for in-flight messages. */
  changeVisibility(changes: readonly { message: QueuedMessage; due: number }[]): Promise<unknown> {
    if (changes.length === 0) return Promise.resolve();
    const now = this.clock.now();
    for (const { message, due } of changes) this.state.setVisibility(message, due, now);
    if (changes.some((c) => c.due <= now)) this.notify();
    else if (this.waiters.size > 0) this.armWakeTimer();
    const entry: ChangeEntry = {
      s: changes.map((c) => c.message.seq),
      v: changes.map((c) => c.due),
    };
    return this.append([journalRecord(CHANGE_KEY, entry)]);
  }

  /**
   * Applies a new queue delay to the messages already queued and never received (SQS does this
   * on FIFO queues): each is delayed until its send time plus `delayMs`, or visible if past.
   */
  redelay(delayMs: number): Promise<unknown> {
    const now = this.clock.now();
    this.advance();
    for (const m of this.state.inOrder())
      if (m.receiveCount === 0) this.state.redelay(m, m.sentAt + delayMs, now);
    this.metrics.depth(this.state);
    this.notify();
    if (this.waiters.size > 0) this.armWakeTimer();
    const entry: DelayEntry = { d: delayMs };
    return this.append([journalRecord(DELAY_KEY, entry)]);
  }

  /** Deletes every message sent so far. */
  purge(): Promise<unknown> {
    const before = this.log.logEndOffset;
    this.state.removeBefore(before);
    this.lastPurgeAt = this.clock.now();
    const entry: PurgeEntry = { b: before };
    return this.append([journalRecord(PURGE_KEY, entry)]);
  }

  /** Appends to the log, remembering the newest append (durability resolves in log order). */
  private append(records: RecordInput[]): Promise<unknown> {
    const appended = this.log.append(records);
    this.lastAppend = appended;
    return appended;
  }

  // ---------------------------------------------------------------- reads

  /** Reads the stored records of these messages (bodies and metadata) in one pass per run. */
  read(messages: readonly QueuedMessage[]): StoredMessage[] {
    const byOffset = new Map<number, LogRecord>();
    const offsets = messages.map((m) => m.offset).sort((a, b) => a - b);
    // Offsets close together share batches: read each run in one pass.
    for (let i = 0; i < offsets.length;) {
      let j = i + 1;
      while (j < offsets.length && offsets[j]! - offsets[i]! < 64) j++;
      const last = offsets[j - 1]!;
      for (let at = offsets[i]!; at <= last;) {
        // Its own records: callers await this queue's appends before they answer.
        const records = this.log.read(at, { maxRecords: last - at + 1, includeUnsynced: true });
        if (records.length === 0) break;
        for (const record of records) byOffset.set(record.offset, record);
        at = records[records.length - 1]!.offset + 1;
      }
      i = j;
    }
    return messages.map((state) => {
      const record = byOffset.get(state.offset)!;
      return { state, meta: readMeta(record), body: record.value?.toString("utf8") ?? "" };
    });
  }

  // ---------------------------------------------------------------- long polling

  /** Resolves when messages may have become receivable, at `deadline`, on abort, or on close. */
  waitForChange(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.closed || signal?.aborted === true || this.clock.now() >= deadline)
      return Promise.resolve();
    return new Promise((resolve) => {
      // The caller awaits this poll: its deadline keeps the process alive.
      const timer = this.clock.setTimer(deadline - this.clock.now(), () => done(), {
        keepAlive: true,
      });
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

  /** While polls wait, wake them when the next visibility or delay timer is due. */
  private armWakeTimer(): void {
    const due = this.state.nextDue();
    if (due === undefined || due >= this.wakeAt) return;
    this.wakeTimer?.cancel();
    this.wakeAt = due;
    this.wakeTimer = this.clock.setTimer(due - this.clock.now(), () => {
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.wakeTimer = undefined;
      if (this.waiters.size === 0) return;
      this.advance();
      this.notify();
    });
  }

  // ---------------------------------------------------------------- recovery

  private dedupKey(
    groupId: string | undefined,
    deduplicationId: string | undefined,
  ): string | undefined {
    if (!this.config.fifo || deduplicationId === undefined) return undefined;
    return this.config.deduplicationScope === "messageGroup"
      ? `${groupId ?? ""}\u0000${deduplicationId}`
      : deduplicationId;
  }

  /** Replays the log: messages, then every journal entry in order, into the in-memory state. */
  private recover(): void {
    const now = this.clock.now();
    // Replayed straight into the state's own map (no second copy of a million entries).
    const found = this.state.messages;
    let offset = this.log.logStartOffset;
    const end = this.log.logEndOffset;
    while (offset < end) {
      const records = this.log.read(offset, { maxRecords: 10_000, maxBytes: 4 * 1024 * 1024 });
      if (records.length === 0) break;
      for (const record of records) this.replay(record, found, now);
      offset = records[records.length - 1]!.offset + 1;
    }
    const messages = [...found.values()];
    // Log order is sequence order except for messages compaction carried forward.
    if (messages.some((m, i) => i > 0 && m.seq < messages[i - 1]!.seq)) {
      messages.sort((a, b) => a.seq - b.seq);
      found.clear();
    }
    for (const message of messages) this.state.add(message, now);
    this.advance();
  }

  private replay(record: LogRecord, found: Map<number, QueuedMessage>, now: number): void {
    const kind = record.key?.[0];
    if (kind === MESSAGE_KEY[0]) {
      const meta = readMeta(record);
      const seq = meta.q ?? record.offset;
      const sentAt = meta.st ?? record.timestamp;
      const group = this.config.fifo ? this.state.group(meta.g ?? "") : undefined;
      const message = new QueuedMessage(seq, record.offset, sentAt, group);
      message.receiveCount = meta.rc ?? 0;
      message.firstReceiveAt = meta.fr ?? 0;
      message.receivedAt = meta.rt ?? 0;
      if (meta.due !== undefined) {
        message.state = INFLIGHT;
        message.due = meta.due;
      } else if (meta.v !== undefined && meta.v > record.timestamp && message.receiveCount === 0) {
        message.state = DELAYED;
        message.due = meta.v;
      }
      found.set(seq, message);
      const key = this.dedupKey(meta.g, meta.d);
      // Only original sends deduplicate: moved (st) and carried (q) copies never did.
      if (
        key !== undefined &&
        meta.st === undefined &&
        meta.q === undefined &&
        sentAt + DEDUPLICATION_WINDOW_MS > now
      )
        this.dedup.set(key, { messageId: meta.i, seq }, sentAt);
    } else if (kind === RECEIVE_KEY[0]) {
      const entry = readJournal<ReceiveEntry>(record);
      for (const seq of entry.s) {
        const m = found.get(seq);
        if (m === undefined) continue;
        m.receiveCount++;
        if (m.firstReceiveAt === 0) m.firstReceiveAt = record.timestamp;
        m.receivedAt = record.timestamp;
        m.state = INFLIGHT;
        m.due = entry.v;
      }
    } else if (kind === DELETE_KEY[0]) {
      for (const seq of readJournal<DeleteEntry>(record).s) found.delete(seq);
    } else if (kind === CHANGE_KEY[0]) {
      const entry = readJournal<ChangeEntry>(record);
      entry.s.forEach((seq, i) => {
        const m = found.get(seq);
        if (m !== undefined && m.state === INFLIGHT) m.due = entry.v[i]!;
      });
    } else if (kind === DELAY_KEY[0]) {
      const { d } = readJournal<DelayEntry>(record);
      for (const m of found.values()) {
        if (m.receiveCount > 0 || m.state === INFLIGHT) continue;
        const due = m.sentAt + d;
        m.state = due > record.timestamp ? DELAYED : VISIBLE;
        m.due = due > record.timestamp ? due : 0;
      }
    } else if (kind === PURGE_KEY[0]) {
      const { b } = readJournal<PurgeEntry>(record);
      for (const seq of [...found.keys()]) if (seq < b) found.delete(seq);
    }
  }

  // ---------------------------------------------------------------- compaction

  private scheduleCompaction(): void {
    if (this.compactionIntervalMs <= 0 || this.closed) return;
    this.compactionTimer = this.clock.setTimer(this.compactionIntervalMs, () => {
      this.compacting = this.compact()
        .catch(() => undefined) // a failed log rejects every later call; nothing to add here
        .finally(() => {
          this.compacting = undefined;
          this.scheduleCompaction();
        });
    });
  }

  /**
   * Drops the log's dead prefix: whole segments before the oldest record still needed (a live
   * message, or a send inside the FIFO deduplication window). A few live messages that pin a
   * long dead prefix are carried forward (re-appended with their state) first.
   */
  async compact(): Promise<void> {
    if (this.closed || this.pendingMoves > 0) return;
    const segments = this.log.segmentInfos();
    if (segments.length < 2) return;
    let horizon = segments[segments.length - 1]!.baseOffset;
    if (this.config.fifo) {
      const windowStart = this.log.offsetForTimestamp(this.clock.now() - DEDUPLICATION_WINDOW_MS);
      if (windowStart !== undefined) horizon = Math.min(horizon, windowStart);
    }
    let cut = this.log.logStartOffset;
    for (const s of segments) if (s.baseOffset <= horizon) cut = s.baseOffset;
    if (cut <= this.log.logStartOffset) return;
    const budget = Math.max(16, (cut - this.log.logStartOffset) >> 2);
    const carry: QueuedMessage[] = [];
    for (const m of this.state.inOrder()) {
      if (m.seq >= cut) break;
      if (m.offset < cut) carry.push(m);
      if (carry.length > budget) return;
    }
    if (carry.length > 0) {
      const stored = this.read(carry);
      const base = this.log.logEndOffset;
      const records = stored.map(({ state: m, meta, body }) => {
        const carried: Writable<MessageMeta> = {
          ...meta,
          q: m.seq,
          st: m.sentAt,
          rc: m.receiveCount,
          fr: m.firstReceiveAt,
          rt: m.receivedAt,
        };
        delete carried.due;
        delete carried.v;
        if (m.state === INFLIGHT) carried.due = m.due;
        else if (m.state === DELAYED) carried.v = m.due;
        return messageRecord(Buffer.from(body, "utf8"), carried);
      });
      const appended = this.append(records);
      carry.forEach((m, i) => (m.offset = base + i));
      await appended;
    }
    await this.log.flush();
    await this.log.deleteRecordsBefore(cut);
  }

  // ---------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.compactionTimer?.cancel();
    this.wakeTimer?.cancel();
    this.notify();
    await this.compacting;
    await this.log.close();
  }

  /** Stops as a killed process would: no flush, nothing more written (crash simulations). */
  kill(): void {
    this.closed = true;
    this.compactionTimer?.cancel();
    this.wakeTimer?.cancel();
    this.log.kill();
    this.notify();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
