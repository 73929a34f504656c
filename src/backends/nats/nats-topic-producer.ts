import type { NatsConnection } from "@nats-io/transport-node";
import { randomBytes } from "node:crypto";
import { SluiceError, asError } from "../../errors/index.js";
import type { Clock, Timer } from "../../time/index.js";
import { resolveProducerOptions } from "../../messaging/topics/embedded-producer.js";
import { isList } from "../../messaging/topics/input-checks.js";
import { keepProcessAlive } from "../../messaging/topics/keep-alive.js";
import { type Partitioner, createPartitioner } from "../../messaging/topics/partitioner.js";
import {
  type PreparedRecord,
  type RecordContext,
  prepareRecord,
} from "../../messaging/topics/producer-record.js";
import type { OffsetAndMetadata, TopicPartition } from "../../messaging/topics/topic-admin.js";
import { TopicError, invalidTopicInput } from "../../messaging/topics/topic-error.js";
import type {
  ConsumerGroupMetadata,
  ProducerOptions,
  ProducerRecord,
  RecordMetadata,
  TopicProducer,
} from "../../messaging/topics/topic-producer.js";
import type { NatsTopicCatalog } from "./nats-topic-catalog.js";
import { encodeRecord, partitionAddress } from "./partition-stream.js";
import { type OutgoingMessage, PipelinedPublisher } from "./pipelined-publisher.js";
import type { WrittenEnds } from "./written-ends.js";

/** Why transactions are refused on this backend (also in docs/nats.md). */
export const NO_TRANSACTIONS =
  "transactions are not available on NATS JetStream: nats-server has no atomic write across " +
  "streams (atomic batch publish came in 2.12, within one stream), so records of several " +
  "partitions and the group's offsets cannot be committed or aborted together";

interface ResultSink {
  readonly results: RecordMetadata[];
  remaining: number;
  failed: boolean;
  readonly resolve: (results: RecordMetadata[]) => void;
  readonly reject: (error: Error) => void;
}

interface PendingBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: PreparedRecord[];
  readonly sinks: ResultSink[];
  readonly slots: number[];
  bytes: number;
  timer: Timer | undefined;
}

/**
 * A producer on JetStream: records are checked and placed as the embedded producer does
 * (`prepareRecord`, the same partitioners), gather per partition for `lingerMs` or `batchSize`
 * bytes, and a batch is published as one message per record, pipelined, into the partition's
 * stream. An idempotent producer gives every record a `Nats-Msg-Id` (producer id, partition,
 * sequence), so a publish retried after a lost acknowledgement is stored once.
 */
export class NatsTopicProducer implements TopicProducer {
  private readonly options: ReturnType<typeof resolveProducerOptions>;
  private readonly partitioner: Partitioner;
  private readonly recordContext: RecordContext;
  /** Per topic, the batch gathering for each partition. */
  private readonly batches = new Map<string, (PendingBatch | undefined)[]>();
  /** Per topic, the next sequence of this producer for each partition. */
  private readonly sequences = new Map<string, number[]>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly producerId = randomBytes(8).toString("hex");
  /** Sends waiting for a topic this process has not seen yet, in call order. */
  private lookups: Promise<void> = Promise.resolve();
  private pendingLookups = 0;
  private flushScheduled = false;
  private closed = false;

  private readonly publisher: PipelinedPublisher;

  constructor(
    nc: NatsConnection,
    private readonly catalog: NatsTopicCatalog,
    private readonly namespace: string,
    private readonly clock: Clock,
    options: ProducerOptions,
    private readonly written: WrittenEnds,
    private readonly onClose: (producer: NatsTopicProducer) => void,
  ) {
    this.options = resolveProducerOptions(options);
    if (this.options.transactionalId !== undefined)
      throw new TopicError(
        "INVALID_CONFIG",
        `transactionalId: ${NO_TRANSACTIONS}`,
        "transactionalId",
      );
    this.partitioner = createPartitioner(this.options.partitioner);
    this.publisher = new PipelinedPublisher(nc);
    this.recordContext = {
      partitionCount: (topic) => catalog.get(topic)?.partitions,
      maxMessageBytes: (topic) => catalog.get(topic)!.config.maxMessageBytes,
      maxRequestBytes: this.options.maxRequestBytes,
      now: () => clock.now(),
      partitioner: this.partitioner,
    };
  }

  send(record: ProducerRecord): Promise<RecordMetadata> {
    return new Promise<RecordMetadata>((resolve, reject) =>
      this.submit([record], false, (results) => resolve(results[0]!), reject),
    );
  }

  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    if (!isList(records) || records.length === 0)
      return Promise.reject(invalidTopicInput("records", "a non-empty array of records", records));
    return new Promise<RecordMetadata[]>((resolve, reject) =>
      this.submit(records, true, resolve, reject),
    );
  }

  private submit(
    records: readonly ProducerRecord[],
    batch: boolean,
    resolve: (results: RecordMetadata[]) => void,
    reject: (error: Error) => void,
  ): void {
    const sink: ResultSink = {
      results: new Array<RecordMetadata>(records.length),
      remaining: records.length,
      failed: false,
      resolve,
      reject,
    };
    const unknown = this.unknownTopics(records);
    if (unknown === undefined && this.pendingLookups === 0)
      return this.placeAll(records, batch, sink);
    // A topic made by another process a moment ago: ask the bucket, keeping call order.
    this.pendingLookups++;
    this.lookups = this.lookups
      .then(async () => {
        for (const topic of unknown ?? []) await this.catalog.fetch(topic).catch(() => undefined);
      })
      .then(() => this.placeAll(records, batch, sink))
      .finally(() => this.pendingLookups--);
  }

  /** The topics of `records` this process has not seen yet, or undefined when it knows them all. */
  private unknownTopics(records: readonly ProducerRecord[]): string[] | undefined {
    let unknown: string[] | undefined;
    for (const r of records)
      if (
        r !== null &&
        typeof r === "object" &&
        typeof r.topic === "string" &&
        this.catalog.get(r.topic) === undefined
      )
        (unknown ??= []).push(r.topic);
    return unknown;
  }

  private placeAll(records: readonly ProducerRecord[], batch: boolean, sink: ResultSink): void {
    try {
      if (this.closed) throw new TopicError("ILLEGAL_STATE", "the producer is closed");
      // Check every record first, so a bad one fails the call before any is sent.
      const prepared = new Array<PreparedRecord>(records.length);
      for (let i = 0; i < records.length; i++)
        prepared[i] = prepareRecord(records[i]!, batch ? `records[${i}].` : "", this.recordContext);
      for (let i = 0; i < prepared.length; i++) this.place(prepared[i]!, sink, i);
    } catch (error) {
      sink.reject(asError(error));
    }
  }

  private place(prepared: PreparedRecord, sink: ResultSink, slot: number): void {
    const { topic, partition, size } = prepared;
    let open = this.batches.get(topic);
    if (open === undefined) this.batches.set(topic, (open = []));
    let batch = open[partition];
    if (batch !== undefined && batch.bytes + size > this.options.batchSize && batch.bytes > 0) {
      this.dispatch(batch);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = { topic, partition, records: [], sinks: [], slots: [], bytes: 0, timer: undefined };
      open[partition] = batch;
    }
    batch.records.push(prepared);
    batch.sinks.push(sink);
    batch.slots.push(slot);
    batch.bytes += size;
    if (batch.bytes >= this.options.batchSize) this.dispatch(batch);
    else if (this.options.lingerMs === 0) this.scheduleFlush();
    else if (batch.timer === undefined) {
      const lingering = batch;
      const release = keepProcessAlive();
      const timer = this.clock.setTimer(this.options.lingerMs, () => {
        release();
        this.dispatch(lingering);
      });
      lingering.timer = {
        cancel: () => {
          release();
          timer.cancel();
        },
      };
    }
  }

  /** With lingerMs 0, records sent in the same turn still share a batch. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.dispatchAll();
    });
  }

  private dispatchAll(): void {
    for (const open of this.batches.values())
      for (const batch of open) if (batch !== undefined) this.dispatch(batch);
  }

  /** Publishes a batch (once: a batch already sent is left alone). */
  private dispatch(batch: PendingBatch): void {
    const open = this.batches.get(batch.topic);
    if (open?.[batch.partition] !== batch) return;
    open[batch.partition] = undefined;
    batch.timer?.cancel();
    this.partitioner.onBatchSent(batch.topic);
    const definition = this.catalog.get(batch.topic);
    if (definition === undefined) {
      this.fail(
        batch,
        new TopicError(
          "UNKNOWN_TOPIC_OR_PARTITION",
          `topic: no topic ${JSON.stringify(batch.topic)}`,
          "topic",
        ),
      );
      return;
    }
    const address = partitionAddress(this.namespace, definition, batch.partition);
    const { idempotent, compression, acks } = this.options;
    const messages = new Array<OutgoingMessage>(batch.records.length);
    // Sequences of this producer per partition: the `Nats-Msg-Id` is the producer's id, the
    // partition and this sequence.
    let sequences = this.sequences.get(batch.topic);
    if (sequences === undefined) this.sequences.set(batch.topic, (sequences = []));
    const first = sequences[batch.partition] ?? 0;
    sequences[batch.partition] = first + messages.length;
    const idPrefix = `${this.producerId}-${batch.partition}-`;
    for (let i = 0; i < messages.length; i++)
      messages[i] = encodeRecord(
        batch.records[i]!.input,
        compression,
        idempotent ? idPrefix + String(first + i) : undefined,
      );
    // Published together: one connection keeps their order, so their offsets follow it. Each
    // record is answered when the stream has stored it, not when its whole batch has.
    if (acks === 0) {
      const written = this.publisher.publish(address.subject, messages, idempotent);
      for (let i = 0; i < messages.length; i++) this.stored(batch, i, -1);
      this.track(written.catch(() => undefined));
      return;
    }
    const written = this.publisher.publish(address.subject, messages, idempotent, (i, sequence) => {
      this.written.stored(address.stream, sequence);
      this.stored(batch, i, sequence - 1);
    });
    this.track(written.catch((error: unknown) => this.fail(batch, translate(error, batch))));
  }

  /** Record `i` of the batch is stored at `offset` (-1 when not waited for, acks 0). */
  private stored(batch: PendingBatch, i: number, offset: number): void {
    const sink = batch.sinks[i]!;
    if (sink.failed) return;
    sink.results[batch.slots[i]!] = {
      topic: batch.topic,
      partition: batch.partition,
      offset,
      timestamp: batch.records[i]!.input.timestamp!,
    };
    if (--sink.remaining === 0) sink.resolve(sink.results);
  }

  private fail(batch: PendingBatch, error: Error): void {
    for (const sink of batch.sinks) {
      if (sink.failed || sink.remaining === 0) continue;
      sink.failed = true;
      sink.reject(error);
    }
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  async flush(): Promise<void> {
    await this.lookups;
    this.dispatchAll();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  initTransactions(): Promise<void> {
    return Promise.reject(notTransactional());
  }

  beginTransaction(): Promise<void> {
    return Promise.reject(notTransactional());
  }

  sendOffsetsToTransaction(
    _offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
    _group: ConsumerGroupMetadata,
  ): Promise<void> {
    return Promise.reject(notTransactional());
  }

  commitTransaction(): Promise<void> {
    return Promise.reject(notTransactional());
  }

  abortTransaction(): Promise<void> {
    return Promise.reject(notTransactional());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.publisher.close();
      this.onClose(this);
    }
  }
}

function notTransactional(): TopicError {
  return new TopicError(
    "INVALID_TXN_STATE",
    "transactionalId: this producer is not transactional (transactions are not available on NATS JetStream)",
    "transactionalId",
  );
}

/** JetStream's refusals in the producer's terms. */
function translate(error: unknown, batch: PendingBatch): Error {
  const message = error instanceof Error ? error.message : String(error);
  // Given up unanswered (the publisher's own error, whose text names the subject)
  if (error instanceof SluiceError && error.code === "SLUICE_TIMEOUT")
    return new TopicError(
      "REQUEST_TIMED_OUT",
      `topic: partition ${batch.topic}-${batch.partition}: ${message}`,
      "topic",
    );
  if (/no stream matches subject|stream not found|503/i.test(message))
    return new TopicError(
      "UNKNOWN_TOPIC_OR_PARTITION",
      `topic: partition ${batch.topic}-${batch.partition} is gone (${message})`,
      "topic",
    );
  if (/maximum message size|message size exceeds/i.test(message))
    return new TopicError("MESSAGE_TOO_LARGE", `value: ${message}`, "value");
  return asError(error);
}
