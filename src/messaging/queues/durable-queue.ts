import type { Writable } from "./writable.js";
import { join } from "node:path";
import {
  type FileSystem,
  type FsyncPolicy,
  type Log,
  BATCH_HEADER_BYTES,
  type LogRecord,
  RecordBatchBuilder,
  type RecordInput,
  openLog,
} from "../../engine/index.js";
import { SluiceError, asError } from "../../errors/index.js";
import type { MetricsRegistry } from "../../observability/index.js";
import { type Clock, SystemClock, type Timer } from "../../time/index.js";
import { DeduplicationWindow, IN_WINDOW_LOG } from "./deduplication-window.js";
import { Deque } from "./deque.js";
import { ExpiringMap } from "./expiring-map.js";
import {
  CHANGE_KEY,
  type ChangeEntry,
  DELAY_KEY,
  DELETE_KEY,
  type DelayEntry,
  type DeleteEntry,
  MESSAGE_KEY,
  PURGE_KEY,
  type PurgeEntry,
  RECEIVE_KEY,
  type ReceiveEntry,
  WINDOW_KEY,
  MESSAGE_HEADER_KEY,
  readHeader,
  readJournal,
} from "./message-record.js";
import type { MessageAttributeSet } from "./message-attribute-set.js";
import { type MessageHeader, headerBytes, writeHeader } from "./message-header.js";
import { messageIdAt, messageIds } from "./message-id.js";
import { MAX_MESSAGE_SIZE, type QueueConfig, parseConfig } from "./queue-attributes.js";
import { QueueMetrics } from "./queue-metrics.js";
import {
  DELAYED,
  type HotBodyBudget,
  INFLIGHT,
  QueueState,
  QueuedMessage,
  VISIBLE,
  hotBodyBytes,
} from "./queue-state.js";
import { type AttemptMessage, ReceiveAttempt } from "./receive-attempt.js";
import { SendHeader, keepsHeader, writeSendHeader } from "./send-header.js";
import { type CarriedAttempt, decodeWindow, encodeWindow } from "./window-record.js";

/** SQS's FIFO deduplication interval. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

/** Room a message record takes besides its body and attributes (id, header, lengths, key). */
const RECORD_OVERHEAD_BYTES = 96;

/** About the bytes `sends` take in a batch (bodies counted in UTF-16 units: a hint, not a bound). */
function estimatedBytes(sends: readonly PreparedSend[]): number {
  let bytes = 0;
  for (const send of sends)
    bytes += send.body.length + (send.attributes?.encoded.length ?? 0) + RECORD_OVERHEAD_BYTES;
  return bytes;
}

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
  /** MD5 of the body, when the sender computed it already (it is answered on receive too). */
  readonly bodyMd5?: string;
  readonly attributes?: MessageAttributeSet;
  readonly systemAttributes?: MessageAttributeSet;
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

/** A deduplication entry met while replaying the log. */
interface ReplayedDedup extends SendOutcome {
  readonly key: string;
  /** Send time: the entry expires five minutes later. */
  readonly at: number;
  /** Offset of the record that holds it: the send, or a window record that carried it. */
  readonly offset: number;
}

/**
 * A queue builds each turn's batch in one buffer of its own and hands it to the log as it is:
 * no copy, no allocation per batch. Its log keeps no tail cache (receives are answered from hot
 * bodies, colder reads from the file), so the log lets go of the batch as soon as it is written
 * and hands the buffer back for the next turn. The buffer starts at this size (a batch in it is
 * never trimmed by a copy: see RecordBatchBuilder.finish); a batch that outgrows it grows into
 * a larger one, kept for the next turns (bulk sends) up to MAX_SCRATCH_BYTES, until a batch
 * uses less than half of it (then `finish` copies it out, and the next starts small again).
 */
const SCRATCH_BYTES = 4096;
const MAX_SCRATCH_BYTES = 64 * 1024;

/** This turn's records go to the log at once past this size (a batch stays far below its limit). */
const PENDING_FLUSH_BYTES = 1024 * 1024;

/**
 * Records decoded ahead of a read that had to go to the log: consumers take messages in about
 * the order they were sent, so the next receives find theirs here instead of reading and
 * checking the same batch again.
 */
const COLD_READ_AHEAD_RECORDS = 1000;

/**
 * A FIFO queue's window log (a sub-directory of its log) holds the deduplication entries and
 * receive attempts that compaction carries out of the queue log: each entry is carried once,
 * and whole segments go when their newest entry has left the five-minute window.
 */
const WINDOW_LOG_DIR = "window";
const WINDOW_LOG_SEGMENT_BYTES = 1024 * 1024;

/** Window records hold at most this many entries each (well under the record size limit). */
const WINDOW_RECORD_ENTRIES = 5000;

/** A message of this queue read back from its log. */
export interface StoredMessage {
  readonly state: QueuedMessage;
  readonly meta: MessageHeader;
  readonly body: string;
  /** MD5 of the body, if it is known without hashing it again. */
  readonly bodyMd5?: string | undefined;
}

/** One message read back, in parts; `index`: its place in the messages asked for. */
export type StoredMessageVisitor = (
  state: QueuedMessage,
  meta: MessageHeader,
  body: string,
  bodyMd5: string | undefined,
  index: number,
) => void;

export interface DurableQueueOptions {
  readonly clock: Clock;
  readonly fsync: FsyncPolicy;
  readonly metrics?: MetricsRegistry;
  readonly fs?: FileSystem;
  /** How often the log is compacted (dead prefix dropped), default 2 s. */
  readonly compactionIntervalMs?: number;
  /** Memory for hot bodies, shared by the queues of a service (see HotBodyBudget). */
  readonly hotBodies?: HotBodyBudget;
  /** Queue log segment size (default 8 MiB): compaction drops whole segments. */
  readonly segmentBytes?: number;
  /** Called once when the queue stops after a failed append (see `failure`). */
  readonly onFailure?: (queue: DurableQueue) => void;
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
  private readonly dedup = new DeduplicationWindow(DEDUPLICATION_WINDOW_MS);
  /** FIFO receives with a ReceiveRequestAttemptId in the last five minutes, by id. */
  readonly attempts = new ExpiringMap<ReceiveAttempt>(DEDUPLICATION_WINDOW_MS);
  /**
   * Receive attempts in the order of the records that hold them, so compaction finds those it
   * must carry forward (the ones before its cut) at the front.
   */
  private readonly attemptOrder = new Deque<ReceiveAttempt>();
  /** Moves out of this queue in progress; compaction waits while there are any. */
  pendingMoves = 0;
  lastPurgeAt = Number.NEGATIVE_INFINITY;
  private readonly waiters = new Set<Waiter>();
  private wakeTimer: Timer | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private compactionTimer: Timer | undefined;
  private compacting: Promise<void> | undefined;
  private closed = false;
  /**
   * Why the queue stopped: an append of its log failed (a full disk, an I/O error, a failed
   * fsync), so the changes already applied in memory may be missing from the log. It takes no
   * change after that; its service reopens it from the log, which holds what was acknowledged.
   */
  failure: SluiceError | undefined;
  private onFailure: ((queue: DurableQueue) => void) | undefined;
  private lastAppend: Promise<unknown> = Promise.resolve();
  /** Records decoded by the last read that went to the log (see COLD_READ_AHEAD_RECORDS). */
  private readAhead = new Map<number, LogRecord>();
  /** Records appended in this event-loop turn, encoded, not yet handed to the log (`append`). */
  private pending: RecordBatchBuilder | undefined;
  /** Where the next turn's batch is built (see SCRATCH_BYTES); undefined while the log holds it. */
  private scratch: Buffer | undefined = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  /** The buffer this turn's batch was begun in, then the one the log holds the batch in. */
  private lentScratch: Buffer | undefined;
  /** The log's release of a batch built in the lent buffer: it is free for the next turn. */
  private readonly takeBackScratch = (batch: Buffer): void => {
    if (batch.buffer === this.lentScratch?.buffer) this.scratch = this.lentScratch;
  };
  /** Timestamps given to records never go back (the clock may). */
  private lastTimestamp = 0;
  private pendingDone: { resolve: (v: unknown) => void; reject: (e: unknown) => void } | undefined;
  /** Resolves when this turn's batch is written (in the OS, not yet on the device). */
  private pendingWritten: Promise<unknown> = Promise.resolve();
  private pendingWrittenDone:
    { resolve: (v: unknown) => void; reject: (e: unknown) => void } | undefined;
  private fsyncAlways = false;
  private flushQueued = false;
  /** The header of the message `send` is storing, filled in for each (see SendHeader). */
  private readonly sendHeader = new SendHeader();
  /** Recovery time of the last open, ms. */
  recoveryMs = 0;

  readonly metrics: QueueMetrics;

  private constructor(
    public definition: QueueDefinition,
    readonly log: Log,
    /** FIFO queues only: where carried window entries go (see WINDOW_LOG_DIR). */
    private readonly windowLog: Log | undefined,
    private readonly clock: Clock,
    private readonly compactionIntervalMs: number,
    registry: MetricsRegistry | undefined,
    hotBodies: HotBodyBudget | undefined,
  ) {
    this.config = parseConfig(definition.attributes);
    this.state = new QueueState(this.config.fifo, hotBodies);
    this.metrics = new QueueMetrics(registry, definition.name, this.state);
  }

  static async open(
    dir: string,
    definition: QueueDefinition,
    options: DurableQueueOptions,
  ): Promise<DurableQueue> {
    const logOptions = {
      fsync: options.fsync,
      clock: options.clock,
      maintenanceIntervalMs: 0,
      name: `queue/${definition.name}`,
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      ...(options.fs === undefined ? {} : { fs: options.fs }),
    };
    const log = await openLog(dir, {
      ...logOptions,
      segmentBytes: options.segmentBytes ?? 8 * 1024 * 1024,
      // See SCRATCH_BYTES: batches are not kept in memory after they are written (a cache of
      // them would also outlive young-generation collections and lengthen their pauses).
      tailCacheBytes: 0,
      // A 1 MiB message plus its metadata, binary attributes in base64 JSON.
      maxRecordBytes: 4 * MAX_MESSAGE_SIZE,
    });
    let windowLog: Log | undefined;
    try {
      if (parseConfig(definition.attributes).fifo)
        windowLog = await openLog(join(dir, WINDOW_LOG_DIR), {
          ...logOptions,
          name: `queue/${definition.name}/window`,
          segmentBytes: WINDOW_LOG_SEGMENT_BYTES,
          retentionMs: DEDUPLICATION_WINDOW_MS,
        });
    } catch (error) {
      await log.close();
      throw error;
    }
    const queue = new DurableQueue(
      definition,
      log,
      windowLog,
      options.clock,
      options.compactionIntervalMs ?? 2000,
      options.metrics,
      options.hotBodies,
    );
    try {
      const started = performance.now();
      queue.recover();
      queue.recoveryMs = performance.now() - started;
    } catch (error) {
      await log.close();
      await windowLog?.close();
      throw error;
    }
    queue.fsyncAlways = options.fsync === "always";
    queue.onFailure = options.onFailure;
    queue.armCompaction();
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
    this.attempts.prune(now);
    for (
      let a = this.attemptOrder.peekFront();
      a !== undefined && a.at + DEDUPLICATION_WINDOW_MS <= now;
      a = this.attemptOrder.peekFront()
    )
      this.attemptOrder.shift();
    const woke = this.state.advance(now, this.config.messageRetentionPeriod * 1000);
    this.metrics.depth(this.state);
    return woke;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Stores messages (deduplicating FIFO sends); resolves once they are durable. `outcomes` holds
   * each send's id and sequence number, unless `answered` is false (a bulk send answers neither).
   */
  send(
    sends: readonly PreparedSend[],
    answered = true,
  ): { outcomes: SendOutcome[]; durable: Promise<unknown> } {
    const now = this.clock.now();
    this.advance();
    const added: QueuedMessage[] = [];
    const timestamp = this.timestamp();
    const outcomes: SendOutcome[] = [];
    const base = this.endOffset;
    if (this.pending === undefined && sends.length > 1) this.builder(estimatedBytes(sends));
    for (const send of sends) {
      const seq = base + added.length;
      // A new id is its place in a buffer of random bytes (see MessageIds); its string is made
      // only for those who need one here (an answer, FIFO deduplication).
      let idBytes: Buffer | undefined;
      let idAt = 0;
      if (send.messageId === undefined) {
        idAt = messageIds.reserve();
        idBytes = messageIds.bytes;
      }
      const dedupKey = this.dedupKey(send.groupId, send.deduplicationId);
      let messageId: string | undefined;
      if (dedupKey !== undefined && send.skipDeduplication !== true) {
        messageId = send.messageId ?? messageIdAt(idBytes!, idAt);
        const earlier = this.dedup.firstSend(dedupKey, now, messageId, seq, seq);
        if (earlier !== undefined) {
          if (answered) outcomes.push(earlier);
          continue;
        }
      }
      const visibleAt = now + send.delayMs;
      this.appendMessage(
        send.body,
        this.sendHeader.fill(send, idBytes, idAt, visibleAt),
        timestamp,
      );
      const group = this.config.fifo ? this.state.group(send.groupId ?? "") : undefined;
      const message = new QueuedMessage(seq, seq, send.sentAt ?? now, group);
      if (keepsHeader(send) && this.state.hotBodies.take(hotBodyBytes(send.body)))
        message.keepHot(send, idBytes, idAt);
      if (send.delayMs > 0) {
        message.state = DELAYED;
        message.due = visibleAt;
      }
      added.push(message);
      if (answered)
        outcomes.push({
          messageId: messageId ?? send.messageId ?? messageIdAt(idBytes!, idAt),
          seq,
        });
    }
    // A call of duplicates only is acknowledged once the first sends are durable too.
    if (added.length === 0) return { outcomes, durable: this.lastAppend };
    const durable = this.appended();
    for (const message of added) this.state.add(message, now);
    this.metrics.sent.inc(added.length);
    this.metrics.depth(this.state);
    this.notify();
    return { outcomes, durable };
  }

  /**
   * Receives up to `max` messages; dead letters go to `deadLetter` (state already removed). A
   * FIFO receive with an `attemptId` that takes messages is remembered (and journaled) as an
   * attempt a retry can repeat.
   */
  receive(
    max: number,
    visibilityMs: number,
    maxReceiveCount: number | undefined,
    deadLetter: (messages: QueuedMessage[]) => void,
    attemptId?: string,
  ): { taken: QueuedMessage[]; durable: Promise<unknown>; attempt?: ReceiveAttempt } {
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
    const entry: Writable<ReceiveEntry> = { s: taken.map((m) => m.seq), v: now + visibilityMs };
    if (attemptId === undefined || !this.config.fifo)
      return { taken, durable: this.journalReceive(taken, entry) };
    entry.a = attemptId;
    const attempt = new ReceiveAttempt(
      attemptId,
      now,
      taken.map((message) => ({
        message,
        receiveCount: message.receiveCount,
        token: message.token,
      })),
      this.endOffset,
    );
    this.attempts.set(attemptId, attempt, now);
    this.attemptOrder.push(attempt);
    return { taken, durable: this.journalReceive(taken, entry), attempt };
  }

  /**
   * Journals a receive. Under fsync "always" the receive answers once the messages it returns
   * are on the device and its own record is written, without a group commit of its own: a
   * receive is not an acknowledged change (a machine crash before the next fsync may deliver the
   * messages again, as a lapsed visibility timeout would), so consumers wait for one fsync per
   * message (the delete's), not two.
   */
  private journalReceive(taken: readonly QueuedMessage[], entry: ReceiveEntry): Promise<unknown> {
    if (!this.fsyncAlways) return this.appendJournal(RECEIVE_KEY, entry);
    let newest = 0;
    for (const m of taken) if (m.offset > newest) newest = m.offset;
    const messagesDurable = this.log.durableEndOffset > newest ? undefined : this.lastAppend;
    void this.appendJournal(RECEIVE_KEY, entry);
    const written = this.pendingWritten;
    return messagesDurable === undefined ? written : Promise.all([written, messagesDurable]);
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

  /**
   * Journals the removal of messages already taken out of the state. `seqs` is kept as the
   * journal entry, not copied: callers hand over a list made for the call.
   */
  journalDelete(seqs: number[]): Promise<unknown> {
    if (seqs.length === 0) return Promise.resolve();
    const entry: DeleteEntry = { s: seqs };
    return this.appendJournal(DELETE_KEY, entry);
  }

  /** Sets new visibility deadlines (`attemptId`: a retried receive resetting its own). */
  changeVisibility(
    changes: readonly { message: QueuedMessage; due: number }[],
    attemptId?: string,
  ): Promise<unknown> {
    if (changes.length === 0) return Promise.resolve();
    const now = this.clock.now();
    for (const { message, due } of changes) this.state.setVisibility(message, due, now);
    if (changes.some((c) => c.due <= now)) this.notify();
    else if (this.waiters.size > 0) this.armWakeTimer();
    const entry: Writable<ChangeEntry> = {
      s: changes.map((c) => c.message.seq),
      v: changes.map((c) => c.due),
    };
    if (attemptId !== undefined) entry.a = attemptId;
    return this.appendJournal(CHANGE_KEY, entry);
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
    return this.appendJournal(DELAY_KEY, entry);
  }

  /** Deletes every message sent so far. */
  purge(): Promise<unknown> {
    const before = this.endOffset;
    this.state.removeBefore(before);
    this.lastPurgeAt = this.clock.now();
    const entry: PurgeEntry = { b: before };
    return this.appendJournal(PURGE_KEY, entry);
  }

  /** The offset the next record appended gets (records of this turn included). */
  get endOffset(): number {
    return this.log.logEndOffset + (this.pending?.recordCount ?? 0);
  }

  /** Appends a journal entry (see `appended`), resolving once it is durable. */
  private appendJournal(key: Buffer, entry: object): Promise<unknown> {
    this.builder().append(key, JSON.stringify(entry), this.timestamp());
    return this.appended();
  }

  /**
   * Adds a message record to this turn's batch, its body encoded straight into it. `timestamp`
   * comes from `timestamp()`, read once for all the records one call appends.
   */
  private appendMessage(body: string, header: MessageHeader | SendHeader, timestamp: number): void {
    // The header is encoded straight into the batch: no buffer of its own per message.
    const builder = this.builder();
    if (header instanceof SendHeader)
      builder.appendWithHeader(
        MESSAGE_KEY,
        body,
        timestamp,
        MESSAGE_HEADER_KEY,
        header.bytes,
        writeSendHeader,
        header,
      );
    else
      builder.appendWithHeader(
        MESSAGE_KEY,
        body,
        timestamp,
        MESSAGE_HEADER_KEY,
        headerBytes(header),
        writeHeader,
        header,
      );
  }

  /**
   * This turn's batch; a new one has room for `recordsBytes` at least (a bulk send's estimate:
   * one buffer of about its size, not a small one doubled again and again).
   */
  private builder(recordsBytes = 0): RecordBatchBuilder {
    if (this.pending !== undefined) return this.pending;
    if (this.failure !== undefined) throw this.failure;
    const scratch = this.scratch ?? Buffer.allocUnsafeSlow(SCRATCH_BYTES);
    this.scratch = undefined;
    this.lentScratch = scratch;
    return (this.pending = new RecordBatchBuilder(
      Math.max(SCRATCH_BYTES - BATCH_HEADER_BYTES, recordsBytes),
      scratch,
      true,
    ));
  }

  private timestamp(): number {
    const now = this.clock.now();
    if (now > this.lastTimestamp) this.lastTimestamp = now;
    return this.lastTimestamp;
  }

  /**
   * The durability of what this turn appended so far. Every append of one event-loop turn,
   * whichever caller made it (sends, receives, deletes of concurrent callers), is encoded into
   * one batch and goes to the log as one write and, under fsync "always", one share of a group
   * commit. Durability resolves in log order, so the newest append stands for all before it.
   */
  private appended(): Promise<unknown> {
    if (this.pendingDone === undefined) {
      this.lastAppend = new Promise((resolve, reject) => {
        this.pendingDone = { resolve, reject };
      });
      // Its callers may never await it (a move's source removal): failures reach them anyway.
      this.lastAppend.catch(() => undefined);
      this.pendingWritten = new Promise((resolve, reject) => {
        this.pendingWrittenDone = { resolve, reject };
      });
      this.pendingWritten.catch(() => undefined);
    }
    const appended = this.lastAppend;
    if ((this.pending?.sizeBytes ?? 0) >= PENDING_FLUSH_BYTES) this.flushPending();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      const flush = (): void => {
        this.flushQueued = false;
        this.flushPending();
      };
      // On the system clock, at the end of this event-loop turn: every caller that ran in it
      // shares the batch. A virtual clock (tests, simulations) settles promise continuations
      // but grants few turns per step, so there: once the running continuations have drained.
      if (this.clock instanceof SystemClock) setImmediate(flush);
      else process.nextTick(flush);
    }
    return appended;
  }

  /** Hands this turn's records to the log now (before reads of them, compaction, close). */
  private flushPending(): void {
    const done = this.pendingDone;
    const written = this.pendingWrittenDone;
    const builder = this.pending;
    if (done === undefined || builder === undefined) return;
    this.pending = undefined;
    this.pendingDone = undefined;
    this.pendingWrittenDone = undefined;
    const count = builder.recordCount;
    const end = this.log.logEndOffset;
    const batch = builder.finish({ baseOffset: end, defaultTimestamp: this.lastTimestamp });
    const lent = this.lentScratch!;
    const built = builder.buffer; // the lent buffer, or the larger one the batch grew into
    let release: ((batch: Buffer) => void) | undefined;
    if (batch.buffer !== built.buffer)
      // Copied out of a large buffer it used little of: the next turn starts small again.
      this.scratch = lent.length > SCRATCH_BYTES ? Buffer.allocUnsafeSlow(SCRATCH_BYTES) : lent;
    else if (built.length > MAX_SCRATCH_BYTES)
      this.scratch = lent; // grown for a large message
    else {
      // Lent to the log, which hands it back once written (the builder reads no more of it).
      this.lentScratch = built;
      if (built !== lent) this.scratch = undefined;
      release = this.takeBackScratch;
    }
    const appended = this.log.appendRawBatch(batch, "data", "encoded-here", release);
    appended.then(done.resolve, (error: unknown) => {
      this.stop(error);
      done.reject(error);
    });
    if (this.compactionTimer === undefined) this.armCompaction();
    // The log writes synchronously: its end moved, or the append failed (and says why).
    if (this.log.logEndOffset === end + count) written?.resolve(undefined);
    else {
      // Stopped before anything else of this turn builds on what was not written.
      this.stop();
      appended.catch((error: unknown) => written?.reject(error));
    }
  }

  /**
   * Stops the queue after a failed append (or a failed move out of it, whose removal was never
   * journaled): its in-memory state may hold changes its log does not, so it takes no more and
   * its waiting polls wake; `onFailure` has the service reopen it from the log. `cause`: the
   * append's error, when known (a write that failed at once is stopped for before it is).
   */
  stop(cause?: unknown): void {
    if (this.failure !== undefined || this.closed) return;
    const reason = cause === undefined ? "" : ` (${asError(cause).message})`;
    this.failure = new SluiceError(
      "SLUICE_IO",
      `queue ${this.name} stopped: an append to its log failed${reason}; it is reopened from ` +
        `its log, which holds every acknowledged change: retry the call`,
      cause === undefined ? {} : { cause },
    );
    this.compactionTimer?.cancel();
    this.wakeTimer?.cancel();
    this.notify();
    this.onFailure?.(this);
  }

  // ---------------------------------------------------------------- reads

  /**
   * The bodies and metadata of these messages: a hot body is taken from memory (and let go,
   * unless `keepHot`: a peek leaves it for the receive to come), the rest are read from the log
   * in one pass per run of nearby offsets.
   */
  read(messages: readonly QueuedMessage[], keepHot = false): StoredMessage[] {
    const stored = new Array<StoredMessage>(messages.length);
    this.readEach(messages, keepHot, (state, meta, body, bodyMd5, i) => {
      stored[i] = { state, meta, body, bodyMd5 };
    });
    return stored;
  }

  /** `read` for a receive: each message's parts handed to `visit`, no object made per message. */
  readEach(
    messages: readonly QueuedMessage[],
    keepHot: boolean,
    visit: StoredMessageVisitor,
  ): void {
    let cold: number[] | undefined;
    for (let i = 0; i < messages.length; i++) {
      const state = messages[i]!;
      const send = state.hotSend;
      if (send === undefined) (cold ??= []).push(i);
      else {
        visit(state, state.hotHeader(), send.body, send.bodyMd5, i);
        if (keepHot) continue;
        this.state.hotBodies.give(state.dropHot());
      }
    }
    if (cold !== undefined) {
      const records = this.readRecords(cold.map((i) => messages[i]!.offset));
      for (const i of cold) {
        const state = messages[i]!;
        const record = records.get(state.offset)!;
        visit(state, readHeader(record), record.value?.toString("utf8") ?? "", undefined, i);
      }
    }
  }

  private readRecords(wanted: readonly number[]): Map<number, LogRecord> {
    const byOffset = new Map<number, LogRecord>();
    const missing: number[] = [];
    for (const offset of wanted) {
      const record = this.readAhead.get(offset);
      if (record === undefined) missing.push(offset);
      else byOffset.set(offset, record);
    }
    if (missing.length === 0) return byOffset;
    // Messages sent in this turn are still pending: hand them to the log first.
    if (this.pending !== undefined) {
      const logEnd = this.log.logEndOffset;
      if (missing.some((offset) => offset >= logEnd)) this.flushPending();
    }
    this.readAhead = new Map();
    const offsets = missing.sort((a, b) => a - b);
    // Offsets close together share batches: read each run in one pass.
    for (let i = 0; i < offsets.length;) {
      let j = i + 1;
      while (j < offsets.length && offsets[j]! - offsets[i]! < 64) j++;
      const last = offsets[j - 1]!;
      for (let at = offsets[i]!; at <= last;) {
        // Its own records: callers await this queue's appends before they answer.
        const records = this.log.read(at, {
          maxRecords: Math.max(last - at + 1, COLD_READ_AHEAD_RECORDS),
          includeUnsynced: true,
        });
        if (records.length === 0) break;
        for (const record of records) this.readAhead.set(record.offset, record);
        at = records[records.length - 1]!.offset + 1;
      }
      i = j;
    }
    for (const offset of missing) byOffset.set(offset, this.readAhead.get(offset)!);
    return byOffset;
  }

  // ---------------------------------------------------------------- long polling

  /** Resolves when messages may have become receivable, at `deadline`, on abort, or on close. */
  waitForChange(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    if (
      this.closed ||
      this.failure !== undefined ||
      signal?.aborted === true ||
      this.clock.now() >= deadline
    )
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
    // Messages by sequence number while the log replays; the state indexes them by its deque.
    const found = new Map<number, QueuedMessage>();
    const window = new ReplayedWindow();
    // The window log holds entries carried from records before the queue log's start.
    if (this.windowLog !== undefined)
      for (let at = this.windowLog.logStartOffset; at < this.windowLog.logEndOffset;) {
        const records = this.windowLog.read(at, { maxRecords: 1000, maxBytes: 4 * 1024 * 1024 });
        if (records.length === 0) break;
        for (const record of records) this.replayWindow(record, window, IN_WINDOW_LOG);
        at = records[records.length - 1]!.offset + 1;
      }
    let offset = this.log.logStartOffset;
    const end = this.log.logEndOffset;
    while (offset < end) {
      const records = this.log.read(offset, { maxRecords: 10_000, maxBytes: 4 * 1024 * 1024 });
      if (records.length === 0) break;
      for (const record of records) this.replay(record, found, window, now);
      offset = records[records.length - 1]!.offset + 1;
    }
    const messages = [...found.values()];
    // Log order is sequence order except for messages compaction carried forward.
    found.clear();
    if (messages.some((m, i) => i > 0 && m.seq < messages[i - 1]!.seq))
      messages.sort((a, b) => a.seq - b.seq);
    for (const message of messages) this.state.add(message, now);
    this.restoreWindow(window, now);
    this.advance();
  }

  /**
   * Rebuilds the deduplication window and the receive attempts still repeatable. Window records
   * carry entries older than records before them: entries go into the maps by time and into
   * the compaction order by offset.
   */
  private restoreWindow(window: ReplayedWindow, now: number): void {
    const live = (at: number): boolean => at + DEDUPLICATION_WINDOW_MS > now;
    // Entries of the window log first, by time; then those of the queue log, by offset.
    const dedup = window.dedup
      .filter((e) => live(e.at))
      .sort((a, b) => a.offset - b.offset || a.at - b.at); // IN_WINDOW_LOG is below any offset
    for (const e of dedup) this.dedup.restore(e.key, e.messageId, e.seq, e.at, e.offset);
    const attempts: ReceiveAttempt[] = [];
    for (const pending of [...window.attempts.values()].sort((a, b) => a.at - b.at)) {
      if (pending.broken || !live(pending.at)) continue;
      const messages: AttemptMessage[] = [];
      for (const [i, seq] of pending.seqs.entries()) {
        const message = this.state.messages.get(seq);
        if (message?.state !== INFLIGHT || message.receiveCount !== pending.receiveCounts[i]) break;
        messages.push({ message, receiveCount: message.receiveCount, token: message.token });
      }
      if (messages.length !== pending.seqs.length) continue;
      const attempt = new ReceiveAttempt(pending.id, pending.at, messages, pending.offset);
      this.attempts.set(attempt.id, attempt, attempt.at);
      attempts.push(attempt);
    }
    // Only attempts the queue log holds need carrying out of it later.
    const held = attempts.filter((a) => a.offset !== IN_WINDOW_LOG);
    for (const a of held.sort((x, y) => x.offset - y.offset)) this.attemptOrder.push(a);
  }

  private replay(
    record: LogRecord,
    found: Map<number, QueuedMessage>,
    window: ReplayedWindow,
    now: number,
  ): void {
    if (record.timestamp > this.lastTimestamp) this.lastTimestamp = record.timestamp;
    const kind = record.key?.[0];
    if (kind === MESSAGE_KEY[0]) {
      const meta = readHeader(record);
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
        window.dedup.push({ key, messageId: meta.i, seq, at: sentAt, offset: record.offset });
    } else if (kind === RECEIVE_KEY[0]) {
      const entry = readJournal<ReceiveEntry>(record);
      const counts: number[] = [];
      for (const seq of entry.s) {
        const m = found.get(seq);
        counts.push(m === undefined ? -1 : m.receiveCount + 1);
        if (m === undefined) continue;
        m.receiveCount++;
        if (m.firstReceiveAt === 0) m.firstReceiveAt = record.timestamp;
        m.receivedAt = record.timestamp;
        m.state = INFLIGHT;
        m.due = entry.v;
      }
      if (entry.a !== undefined)
        window.attempt(
          { id: entry.a, at: record.timestamp, seqs: entry.s, receiveCounts: counts },
          record.offset,
        );
    } else if (kind === DELETE_KEY[0]) {
      for (const seq of readJournal<DeleteEntry>(record).s) found.delete(seq);
    } else if (kind === CHANGE_KEY[0]) {
      const entry = readJournal<ChangeEntry>(record);
      entry.s.forEach((seq, i) => {
        const m = found.get(seq);
        if (m !== undefined && m.state === INFLIGHT) m.due = entry.v[i]!;
      });
      window.changed(entry.s, entry.a);
    } else if (kind === WINDOW_KEY[0]) {
      // Written by releases that carried window entries forward in the queue log itself.
      this.replayWindow(record, window, record.offset);
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

  /** Window entries carried in `record`, held at `offset` (or IN_WINDOW_LOG). */
  private replayWindow(record: LogRecord, window: ReplayedWindow, offset: number): void {
    if (record.key?.[0] !== WINDOW_KEY[0] || record.value === null) return;
    const carried = decodeWindow(record.value, record.offset);
    for (const e of carried.dedup)
      window.dedup.push({ key: e.key, messageId: e.messageId, seq: e.seq, at: e.sentAt, offset });
    for (const a of carried.attempts) window.attempt(a, offset);
  }

  // ---------------------------------------------------------------- compaction

  /**
   * Arms compaction when there is something to compact: a segment before the active one. It is
   * checked as each batch goes to the log, so a queue whose log is one segment, or that nobody
   * writes to, holds no timer (a thousand idle queues cost no CPU). A pass that cut the log is
   * followed by another; one that could not (live messages pin the prefix, a move in progress)
   * is not, unless records were appended meanwhile: only a change can unpin the prefix, and
   * the next batch that goes to the log arms it again.
   */
  private armCompaction(): void {
    if (this.compactionTimer !== undefined || this.compactionIntervalMs <= 0 || this.closed) return;
    if (this.log.segmentCount < 2) return;
    this.compactionTimer = this.clock.setTimer(this.compactionIntervalMs, () => {
      const start = this.log.logStartOffset;
      const end = this.log.logEndOffset;
      this.compacting = this.compact()
        .catch(() => undefined) // a failed log rejects every later call; nothing to add here
        .finally(() => {
          this.compacting = undefined;
          this.compactionTimer = undefined;
          if (this.closed || this.log.isClosed) return;
          if (this.log.logStartOffset > start || this.log.logEndOffset > end) this.armCompaction();
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
    const horizon = segments[segments.length - 1]!.baseOffset;
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
      const timestamp = this.timestamp();
      const base = this.endOffset;
      for (const { state: m, meta, body } of stored) {
        const carried: Writable<MessageHeader> = {
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
        this.appendMessage(body, carried, timestamp);
      }
      const appended = this.appended();
      carry.forEach((m, i) => (m.offset = base + i));
      await appended;
    }
    await this.carryWindow(cut);
    this.flushPending();
    await this.log.flush();
    await this.log.deleteRecordsBefore(cut);
  }

  /**
   * Moves to the window log, as compact window records, the deduplication entries and receive
   * attempts still in their five minutes whose records lie before `cut`: the queue log then
   * keeps no history for them, and a FIFO queue's log is cut as soon as a standard queue's
   * would be. Each entry is carried once; the window log drops whole segments as they expire.
   */
  private async carryWindow(cut: number): Promise<void> {
    const now = this.clock.now();
    const dedup = this.dedup.carryRecordsBefore(cut, now, WINDOW_RECORD_ENTRIES);
    const attempts: CarriedAttempt[] = [];
    for (let a = this.attemptOrder.peekFront(); a !== undefined && a.offset < cut;) {
      this.attemptOrder.shift();
      a.offset = IN_WINDOW_LOG;
      if (a.at + DEDUPLICATION_WINDOW_MS > now && this.attempts.get(a.id, now) === a && a.intact)
        attempts.push({
          id: a.id,
          at: a.at,
          seqs: a.messages.map((m) => m.message.seq),
          receiveCounts: a.messages.map((m) => m.receiveCount),
        });
      a = this.attemptOrder.peekFront();
    }
    const windowLog = this.windowLog;
    if (windowLog === undefined) return;
    await windowLog.enforceRetention();
    const records: RecordInput[] = dedup.map((value) => ({ key: WINDOW_KEY, value }));
    for (let i = 0; i < attempts.length; i += WINDOW_RECORD_ENTRIES) {
      const contents = { dedup: [], attempts: attempts.slice(i, i + WINDOW_RECORD_ENTRIES) };
      records.push({ key: WINDOW_KEY, value: encodeWindow(contents) });
    }
    if (records.length === 0) return;
    await windowLog.append(records);
    // On the device before the queue log drops the records that held these entries.
    await windowLog.flush();
  }

  // ---------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.metrics.stop();
    this.compactionTimer?.cancel();
    this.wakeTimer?.cancel();
    this.notify();
    await this.compacting;
    this.flushPending();
    this.state.releaseHotBodies();
    try {
      await this.log.close();
    } finally {
      await this.windowLog?.close();
    }
  }

  /** Stops as a killed process would: no flush, nothing more written (crash simulations). */
  kill(): void {
    this.closed = true;
    this.metrics.stop();
    this.compactionTimer?.cancel();
    this.wakeTimer?.cancel();
    // As a killed process: this turn's records were never written.
    this.pendingDone?.reject(new SluiceError("SLUICE_CLOSED", `queue ${this.name} was killed`));
    this.pendingWrittenDone?.reject(
      new SluiceError("SLUICE_CLOSED", `queue ${this.name} was killed`),
    );
    this.pendingDone = undefined;
    this.pendingWrittenDone = undefined;
    this.pending = undefined;
    this.log.kill();
    this.windowLog?.kill();
    this.notify();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/** Receive attempts and deduplication entries met while replaying the log. */
class ReplayedWindow {
  readonly dedup: ReplayedDedup[] = [];
  readonly attempts = new Map<string, PendingAttempt>();
  private readonly bySeq = new Map<number, PendingAttempt>();

  attempt(carried: CarriedAttempt, offset: number): void {
    const pending: PendingAttempt = { ...carried, offset, broken: false };
    this.attempts.set(carried.id, pending);
    for (const seq of carried.seqs) this.bySeq.set(seq, pending);
  }

  /** A visibility change breaks the attempts it touches, unless it is their own retry's reset. */
  changed(seqs: readonly number[], attemptId: string | undefined): void {
    for (const seq of seqs) {
      const pending = this.bySeq.get(seq);
      if (pending !== undefined && pending.id !== attemptId) pending.broken = true;
    }
  }
}

interface PendingAttempt extends CarriedAttempt {
  readonly offset: number;
  broken: boolean;
}
