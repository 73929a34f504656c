import { createHash } from "node:crypto";
import { type FileSystem, type FsyncPolicy, type Log, openLog } from "../../engine/index.js";
import type { MetricsRegistry } from "../../observability/index.js";
import type { Clock } from "../../time/index.js";
import { ExpiringMap } from "../queues/expiring-map.js";
import { EnvelopeTemplate } from "./envelope.js";
import { attributesForFiltering, bodyForFiltering } from "./filter-policy.js";
import {
  type StructuredMessage,
  parseStructuredMessage,
  structuredEntryFor,
} from "./message-structure.js";
import type { SubscriptionProtocol } from "./pubsub-service.js";
import {
  type PublishedMessage,
  asDecoded,
  decodeMessage,
  encodeMessage,
} from "./published-message.js";
import { type RawQueueContent, rawQueueContent } from "./raw-queue-content.js";
import { type FilterVerdicts, SharedFilters } from "./shared-filters.js";
import { AppendCoalescer } from "../bus/append-coalescer.js";

/** What a topic is: its name and attributes, as kept in the catalog. */
export interface TopicDefinition {
  readonly name: string;
  readonly uid: string;
  readonly attributes: Record<string, string>;
  readonly tags: Record<string, string>;
  readonly createdMs: number;
  /** Subscriptions removed by Unsubscribe since the topic was created (absent: none). */
  subscriptionsDeleted?: number;
}

/** A message read back from the log, with what filter policies look at, computed once. */
export class StoredMessage {
  private attributesView: Record<string, unknown> | undefined;
  private bodyView: unknown;
  private bodyParsed = false;
  private rawToQueues: RawQueueContent | undefined;
  private envelopeTemplate: EnvelopeTemplate | undefined;
  /** A structured message's entries, and per entry its message, envelope and body view. */
  private structured: StructuredMessage | undefined;
  private entries: Map<string, StructuredEntry> | undefined;
  /** What the topic's filter policies made of this message (see SharedFilters). */
  verdicts: FilterVerdicts | undefined;

  constructor(
    readonly offset: number,
    readonly message: PublishedMessage,
  ) {}

  get attributesForFiltering(): Record<string, unknown> {
    return (this.attributesView ??= attributesForFiltering(this.message.MessageAttributes));
  }

  /**
   * Which entry of a structured message a subscription of `protocol` gets ("" when the message
   * is not structured: every subscription gets its body).
   */
  entryFor(protocol: SubscriptionProtocol): string {
    if (this.message.MessageStructure !== "json") return "";
    this.structured ??= parseStructuredMessage(this.message.Message);
    return structuredEntryFor(this.structured, protocol);
  }

  /** The message as a subscription of `protocol` gets it: Message is its entry, if structured. */
  messageFor(protocol: SubscriptionProtocol): PublishedMessage {
    const entry = this.entryFor(protocol);
    return entry === "" ? this.message : this.entry(entry).message;
  }

  private entry(key: string): StructuredEntry {
    this.entries ??= new Map();
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const { MessageStructure: _structure, ...plain } = this.message;
      entry = { message: { ...plain, Message: this.structured![key]! } };
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** What raw deliveries send to queues, made once for all of this topic's subscriptions. */
  get rawQueueContent(): RawQueueContent {
    return (this.rawToQueues ??= rawQueueContent(this.messageFor("sqs")));
  }

  /**
   * The SNS envelope of this message as subscriptions of `protocol` get it, with all but the
   * UnsubscribeURL made once for all of them (`topicArn` is the same for all of them).
   */
  envelope(
    topicArn: string,
    sequenceNumber: string | undefined,
    protocol: SubscriptionProtocol,
  ): EnvelopeTemplate {
    const key = this.entryFor(protocol);
    const make = (message: PublishedMessage): EnvelopeTemplate =>
      new EnvelopeTemplate(
        sequenceNumber === undefined
          ? message
          : // Not `{ ...message, SequenceNumber }`: V8 builds that on a slow path.
            Object.assign({}, message, { SequenceNumber: sequenceNumber }),
        topicArn,
      );
    if (key === "") return (this.envelopeTemplate ??= make(this.message));
    const entry = this.entry(key);
    return (entry.envelope ??= make(entry.message));
  }

  /** The body of a structured message's entry, as body-scoped filter policies see it. */
  entryForFiltering(key: string): unknown {
    const entry = this.entry(key);
    if (!entry.bodyParsed) {
      entry.body = bodyForFiltering(entry.message.Message);
      entry.bodyParsed = true;
    }
    return entry.body;
  }

  get bodyForFiltering(): unknown {
    if (!this.bodyParsed) {
      this.bodyView = bodyForFiltering(this.message.Message);
      this.bodyParsed = true;
    }
    return this.bodyView;
  }
}

/** One entry of a structured message, and what is made of it for its subscriptions. */
interface StructuredEntry {
  readonly message: PublishedMessage;
  envelope?: EnvelopeTemplate;
  body?: unknown;
  bodyParsed?: boolean;
}

const DEDUP_WINDOW_MS = 5 * 60_000;
const CACHE_SLOTS = 8192;

/** FIFO sequence numbers are the log offset plus one, 20 digits (SNS's width). */
export function sequenceNumberOf(offset: number): string {
  return String(offset + 1).padStart(20, "0");
}

/**
 * One topic's published messages: an engine log. A publish is acknowledged once its append is
 * durable (per the fsync policy); subscriptions read only acknowledged messages. FIFO topics
 * keep a five-minute deduplication window, rebuilt from the log's tail on open.
 */
export class DurableTopic {
  /** The filter policies of this topic's subscriptions, matched once per message. */
  readonly filters = new SharedFilters();
  /** Messages below this offset are acknowledged and may be delivered. */
  private acknowledgedEnd: number;
  private waiters: (() => void)[] = [];
  private readonly dedup = new ExpiringMap<{ MessageId: string; offset: number }>(DEDUP_WINDOW_MS);
  private readonly cache: (StoredMessage | undefined)[] = new Array<StoredMessage | undefined>(
    CACHE_SLOTS,
  );
  /** Concurrent publishes share one log append (one write). */
  private readonly appender: AppendCoalescer;
  private pendingDedup = new Map<string, Promise<{ MessageId: string; offset: number }>>();
  /** Appends made and not yet acknowledged (or failed). */
  private appendsInFlight = 0;

  private constructor(
    readonly definition: TopicDefinition,
    readonly log: Log,
    private readonly clock: Clock,
  ) {
    this.acknowledgedEnd = log.logEndOffset;
    this.appender = new AppendCoalescer(log);
  }

  static async open(
    dir: string,
    definition: TopicDefinition,
    options: {
      clock: Clock;
      fsync: FsyncPolicy;
      fs?: FileSystem;
      segmentBytes?: number;
      metrics?: MetricsRegistry;
    },
  ): Promise<DurableTopic> {
    const log = await openLog(dir, {
      fsync: options.fsync,
      clock: options.clock,
      segmentBytes: options.segmentBytes ?? 16 * 1024 * 1024,
      maintenanceIntervalMs: 0,
      name: `pubsub/${definition.name}`,
      ...(options.fs === undefined ? {} : { fs: options.fs }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    });
    const topic = new DurableTopic(definition, log, options.clock);
    if (topic.isFifo) topic.restoreDedup();
    return topic;
  }

  get isFifo(): boolean {
    return this.definition.attributes.FifoTopic === "true";
  }

  get endOffset(): number {
    return this.acknowledgedEnd;
  }

  get startOffset(): number {
    return this.log.logStartOffset;
  }

  private restoreDedup(): void {
    const since = this.log.offsetForTimestamp(this.clock.now() - DEDUP_WINDOW_MS);
    if (since === undefined) return;
    for (let offset = since; offset < this.log.logEndOffset;) {
      const records = this.log.read(offset, { maxRecords: 1000 });
      if (records.length === 0) break;
      for (const record of records) {
        const message = decodeMessage(record.value, record.offset);
        if (message.MessageDeduplicationId !== undefined)
          this.dedup.set(
            `${message.MessageGroupId ?? ""}\u0000${message.MessageDeduplicationId}`,
            { MessageId: message.MessageId, offset: record.offset },
            record.timestamp,
          );
      }
      offset = records[records.length - 1]!.offset + 1;
    }
  }

  /** The deduplication id a FIFO message is known by (explicit, or the SHA-256 of the body). */
  static deduplicationId(message: { Message: string; MessageDeduplicationId?: string }): string {
    return (
      message.MessageDeduplicationId ??
      createHash("sha256").update(message.Message, "utf8").digest("hex")
    );
  }

  /**
   * Appends messages; resolves with their offsets once durable. On FIFO topics a message whose
   * deduplication id was seen in the last five minutes is not stored again: the first one's id
   * and offset come back.
   */
  async append(
    messages: readonly PublishedMessage[],
  ): Promise<{ MessageId: string; offset: number }[]> {
    if (!this.isFifo) return this.appendAll(messages);
    const now = this.clock.now();
    const results: Promise<{ MessageId: string; offset: number }>[] = [];
    const fresh: PublishedMessage[] = [];
    const freshSlots: number[] = [];
    for (const message of messages) {
      const key = `${message.MessageGroupId ?? ""}\u0000${message.MessageDeduplicationId ?? ""}`;
      const known = this.dedup.get(key, now);
      const pending = this.pendingDedup.get(key);
      if (known !== undefined) results.push(Promise.resolve(known));
      else if (pending !== undefined) results.push(pending);
      else {
        freshSlots.push(results.length);
        results.push(Promise.resolve({ MessageId: "", offset: -1 }));
        fresh.push(message);
      }
    }
    if (fresh.length > 0) {
      const appended = this.appendAll(fresh);
      fresh.forEach((message, i) => {
        const key = `${message.MessageGroupId ?? ""}\u0000${message.MessageDeduplicationId ?? ""}`;
        const one = appended.then((all) => all[i]!);
        this.pendingDedup.set(key, one);
        results[freshSlots[i]!] = one;
        void one.then(
          (result) => {
            this.dedup.set(key, result, now);
            this.pendingDedup.delete(key);
          },
          () => this.pendingDedup.delete(key),
        );
      });
    }
    return Promise.all(results);
  }

  /** Whether messages are being appended: more are acknowledged soon. */
  get appending(): boolean {
    return this.appendsInFlight > 0;
  }

  private async appendAll(
    messages: readonly PublishedMessage[],
  ): Promise<{ MessageId: string; offset: number }[]> {
    this.appendsInFlight++;
    let result;
    try {
      result = await this.appender.append(
        messages.map((message) => ({
          value: encodeMessage(message),
          timestamp: message.timestamp,
        })),
      );
    } catch (error) {
      // Subscriptions gathering for this append (see `appending`) stop waiting for it.
      this.appendsInFlight--;
      this.wakeWaiters();
      throw error;
    }
    this.appendsInFlight--;
    // Subscriptions read them next: they find them decoded already, as the log would give them.
    for (let i = 0; i < messages.length; i++) {
      const offset = result.baseOffset + i;
      this.cache[offset % CACHE_SLOTS] = new StoredMessage(offset, asDecoded(messages[i]!));
    }
    if (result.lastOffset + 1 > this.acknowledgedEnd) {
      this.acknowledgedEnd = result.lastOffset + 1;
      this.wakeWaiters();
    }
    return messages.map((message, i) => ({
      MessageId: message.MessageId,
      offset: result.baseOffset + i,
    }));
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Resolves once a message at `offset` or later is acknowledged, or `signal` aborts, or an
   * append fails (callers check again).
   */
  waitForMessages(offset: number, signal: AbortSignal): Promise<void> {
    if (this.acknowledgedEnd > offset || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Acknowledged messages from `offset` on (at most `max`), decoded once and shared. */
  read(offset: number, max: number): StoredMessage[] {
    const out: StoredMessage[] = [];
    let at = Math.max(offset, this.log.logStartOffset);
    while (out.length < max && at < this.acknowledgedEnd) {
      const cached = this.cache[at % CACHE_SLOTS];
      if (cached !== undefined && cached.offset === at) {
        out.push(cached);
        at++;
        continue;
      }
      const records = this.log.read(at, {
        maxRecords: Math.min(max - out.length, this.acknowledgedEnd - at),
      });
      if (records.length === 0) break;
      for (const record of records) {
        if (record.offset >= this.acknowledgedEnd) break;
        const stored = new StoredMessage(record.offset, decodeMessage(record.value, record.offset));
        this.cache[record.offset % CACHE_SLOTS] = stored;
        out.push(stored);
        at = record.offset + 1;
      }
    }
    return out;
  }

  /** Drops messages every subscription has delivered. */
  async trimBefore(offset: number): Promise<void> {
    if (offset > this.log.logStartOffset && offset <= this.log.logEndOffset)
      await this.log.deleteRecordsBefore(offset);
  }

  close(): Promise<void> {
    this.wakeWaiters();
    return this.log.close();
  }

  kill(): void {
    this.log.kill();
  }
}
