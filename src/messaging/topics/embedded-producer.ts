import {
  CompressionCodec,
  type RecordHeader,
  type RecordInput,
  encodeBatch,
} from "../../engine/index.js";
import { asError, isSluiceError } from "../../errors/index.js";
import type { Timer } from "../../time/index.js";
import { isList } from "./input-checks.js";
import { keepProcessAlive } from "./keep-alive.js";
import { type Partitioner, createPartitioner } from "./partitioner.js";
import type { OffsetAndMetadata, TopicPartition } from "./topic-admin.js";
import type { TopicBroker } from "./topic-broker.js";
import { TopicError, invalidTopicInput, unknownTopic } from "./topic-error.js";
import type {
  Acks,
  CompressionType,
  ConsumerGroupMetadata,
  PartitionerName,
  ProducerOptions,
  ProducerRecord,
  RecordMetadata,
  TopicProducer,
} from "./topic-producer.js";

interface ResolvedProducerOptions {
  readonly partitioner: PartitionerName;
  readonly batchSize: number;
  readonly lingerMs: number;
  readonly compression: CompressionType;
  readonly acks: Acks;
  readonly idempotent: boolean;
  readonly maxRequestBytes: number;
}

/** Collects the results of one send or sendBatch call. */
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
  readonly records: RecordInput[];
  readonly sinks: ResultSink[];
  readonly slots: number[];
  bytes: number;
  timer: Timer | undefined;
}

const PARTITIONERS: readonly string[] = ["key-hash", "round-robin", "sticky"];
/** Bytes a record adds to a batch beyond key, value and headers (varints, attributes). */
const RECORD_OVERHEAD_BYTES = 8;

function intOption(value: unknown, field: string, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min)
    throw invalidTopicInput(field, `an integer >= ${min}`, value, "INVALID_CONFIG");
  return value;
}

/** Validates producer options at the edge and fills in Kafka's defaults. */
export function resolveProducerOptions(options: ProducerOptions): ResolvedProducerOptions {
  const partitioner = options.partitioner ?? "key-hash";
  if (!PARTITIONERS.includes(partitioner))
    throw invalidTopicInput(
      "partitioner",
      `"key-hash", "round-robin" or "sticky"`,
      partitioner,
      "INVALID_CONFIG",
    );
  const compression = options.compression ?? "none";
  if (!Object.hasOwn(CompressionCodec, compression))
    throw invalidTopicInput(
      "compression",
      "none, gzip, snappy, lz4 or zstd",
      compression,
      "UNSUPPORTED_COMPRESSION_TYPE",
    );
  const acks = options.acks ?? "all";
  if (![0, 1, -1, "all"].includes(acks))
    throw invalidTopicInput("acks", `0, 1, -1 or "all"`, acks, "INVALID_CONFIG");
  const idempotent = options.idempotent ?? (acks === "all" || acks === -1);
  if (idempotent && acks !== "all" && acks !== -1)
    throw invalidTopicInput("acks", `"all" for an idempotent producer`, acks, "INVALID_CONFIG");
  return {
    partitioner,
    batchSize: intOption(options.batchSize, "batchSize", 0, 16384),
    lingerMs: intOption(options.lingerMs, "lingerMs", 0, 5),
    compression,
    acks,
    idempotent,
    maxRequestBytes: intOption(options.maxRequestBytes, "maxRequestBytes", 1, 1024 * 1024),
  };
}

function toBuffer(value: unknown, field: string, nullable: boolean): Buffer | null {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value === null || (value === undefined && field.endsWith("key"))) {
    if (nullable) return null;
  }
  throw invalidTopicInput(
    field,
    `a Buffer, a string${nullable ? " or null" : ""}`,
    value,
    "INVALID_RECORD",
  );
}

/**
 * The embedded producer: records gather per partition into batches (up to `batchSize` bytes,
 * or until `lingerMs` passes), each batch is encoded once as a RecordBatch v2, compressed and
 * stamped with the producer id, epoch and sequence, and stored by the partition's log as is.
 */
export class EmbeddedProducer implements TopicProducer {
  private readonly options: ResolvedProducerOptions;
  private readonly partitioner: Partitioner;
  private readonly codecId: number;
  private readonly batches = new Map<string, PendingBatch>();
  private readonly sequences = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private producerId: number | undefined;
  private readonly waitingForId: Array<() => void> = [];
  private flushScheduled = false;
  private closed = false;

  constructor(
    private readonly broker: TopicBroker,
    options: ProducerOptions,
    private readonly onClose: (producer: EmbeddedProducer) => void,
  ) {
    this.options = resolveProducerOptions(options);
    if (options.transactionalId !== undefined)
      throw new TopicError(
        "INVALID_CONFIG",
        "transactionalId: transactions are not available in the embedded backend yet",
        "transactionalId",
      );
    this.partitioner = createPartitioner(this.options.partitioner);
    this.codecId = CompressionCodec[this.options.compression];
    if (this.options.idempotent) {
      const allocation = broker.allocateProducerId().then(
        (id) => {
          this.producerId = id;
          for (const run of this.waitingForId.splice(0)) run();
        },
        (error: unknown) => {
          this.producerId = -1;
          for (const run of this.waitingForId.splice(0)) run();
          throw error;
        },
      );
      this.track(allocation.catch(() => undefined));
    } else this.producerId = -1;
  }

  send(record: ProducerRecord): Promise<RecordMetadata> {
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const sink: ResultSink = { results: [], remaining: 1, failed: false, resolve, reject };
      try {
        this.enqueue(record, sink, 0, "");
      } catch (error) {
        reject(asError(error));
      }
    }).then((r) => r[0]!);
  }

  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      if (!isList(records) || records.length === 0) {
        reject(invalidTopicInput("records", "a non-empty array of records", records));
        return;
      }
      const sink: ResultSink = {
        results: new Array<RecordMetadata>(records.length),
        remaining: records.length,
        failed: false,
        resolve,
        reject,
      };
      try {
        // Check every record first, so a bad one fails the call before any is sent.
        const prepared = records.map((r, i) => this.prepare(r, `records[${i}].`));
        prepared.forEach((p, i) => this.place(p, sink, i));
      } catch (error) {
        reject(asError(error));
      }
    });
  }

  private enqueue(record: ProducerRecord, sink: ResultSink, slot: number, prefix: string): void {
    this.place(this.prepare(record, prefix), sink, slot);
  }

  private prepare(
    record: ProducerRecord,
    prefix: string,
  ): { topic: string; partition: number; input: RecordInput; size: number } {
    if (this.closed) throw new TopicError("ILLEGAL_STATE", "the producer is closed");
    this.broker.ensureOpen();
    if (record === null || typeof record !== "object")
      throw invalidTopicInput(`${prefix}record`, "a record object", record, "INVALID_RECORD");
    const topic = record.topic;
    const count = typeof topic === "string" ? this.broker.partitionCount(topic) : undefined;
    if (count === undefined) throw unknownTopic(String(topic), undefined, `${prefix}topic`);
    const key = toBuffer(record.key ?? null, `${prefix}key`, true);
    const value = toBuffer(record.value, `${prefix}value`, true);
    let headerBytes = 0;
    let headers: RecordHeader[] | undefined;
    if (record.headers !== undefined) {
      if (!isList(record.headers))
        throw invalidTopicInput(
          `${prefix}headers`,
          "an array of { key, value }",
          record.headers,
          "INVALID_RECORD",
        );
      headers = record.headers.map((h, i) => {
        if (typeof h?.key !== "string")
          throw invalidTopicInput(
            `${prefix}headers[${i}].key`,
            "a string",
            h?.key,
            "INVALID_RECORD",
          );
        const v = toBuffer(h.value, `${prefix}headers[${i}].value`, true);
        headerBytes += Buffer.byteLength(h.key) + (v?.length ?? 0);
        return { key: h.key, value: v };
      });
    }
    const timestamp = record.timestamp ?? this.broker.clock.now();
    if (!Number.isSafeInteger(timestamp) || timestamp < 0)
      throw invalidTopicInput(
        `${prefix}timestamp`,
        "milliseconds since the epoch",
        record.timestamp,
        "INVALID_RECORD",
      );
    const max = Math.min(
      this.broker.definition(topic).config.maxMessageBytes,
      this.options.maxRequestBytes,
    );
    const keyBytes = key?.length ?? 0;
    const valueBytes = value?.length ?? 0;
    const size = keyBytes + valueBytes + headerBytes;
    if (size > max) {
      const part = keyBytes > max ? "key" : keyBytes + valueBytes > max ? "value" : "headers";
      throw new TopicError(
        "MESSAGE_TOO_LARGE",
        `${prefix}${part}: a record of at most ${max} bytes (key + value + headers), got ${size} bytes`,
        `${prefix}${part}`,
        { sizeBytes: size, maxMessageBytes: max },
      );
    }
    let partition: number;
    if (record.partition !== undefined) {
      partition = record.partition;
      if (!Number.isInteger(partition) || partition < 0 || partition >= count)
        throw unknownTopic(topic, partition, `${prefix}partition`);
    } else partition = this.partitioner.partition(topic, key, count);
    const input: RecordInput =
      headers === undefined ? { key, value, timestamp } : { key, value, timestamp, headers };
    return { topic, partition, input, size: size + RECORD_OVERHEAD_BYTES };
  }

  private place(
    prepared: { topic: string; partition: number; input: RecordInput; size: number },
    sink: ResultSink,
    slot: number,
  ): void {
    const { topic, partition, input, size } = prepared;
    const key = `${topic}\u0000${partition}`;
    let batch = this.batches.get(key);
    if (batch !== undefined && batch.bytes + size > this.options.batchSize && batch.bytes > 0) {
      this.dispatch(batch);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = { topic, partition, records: [], sinks: [], slots: [], bytes: 0, timer: undefined };
      this.batches.set(key, batch);
    }
    batch.records.push(input);
    batch.sinks.push(sink);
    batch.slots.push(slot);
    batch.bytes += size;
    if (batch.bytes >= this.options.batchSize) this.dispatch(batch);
    else if (this.options.lingerMs === 0) this.scheduleFlush();
    else if (batch.timer === undefined) {
      const lingering = batch;
      const release = keepProcessAlive();
      const timer = this.broker.clock.setTimer(this.options.lingerMs, () => {
        release();
        if (this.batches.get(key) === lingering) this.dispatch(lingering);
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
      for (const batch of [...this.batches.values()]) this.dispatch(batch);
    });
  }

  private dispatch(batch: PendingBatch): void {
    const key = `${batch.topic}\u0000${batch.partition}`;
    if (this.batches.get(key) === batch) this.batches.delete(key);
    batch.timer?.cancel();
    this.partitioner.onBatchSent(batch.topic);
    const sequence = this.sequences.get(key) ?? 0;
    if (this.options.idempotent) this.sequences.set(key, (sequence + batch.records.length) | 0);
    if (this.producerId === undefined) this.waitingForId.push(() => this.write(batch, sequence));
    else this.write(batch, sequence);
  }

  private write(batch: PendingBatch, sequence: number): void {
    let appended: Promise<{ baseOffset: number }>;
    try {
      const encoded = encodeBatch(batch.records, {
        baseOffset: 0,
        defaultTimestamp: this.broker.clock.now(),
        compression: this.codecId,
        ...(this.options.idempotent && this.producerId !== undefined && this.producerId >= 0
          ? { producer: { producerId: this.producerId, producerEpoch: 0, baseSequence: sequence } }
          : {}),
      });
      appended = this.broker.appendBatch(batch.topic, batch.partition, encoded, false);
    } catch (error) {
      appended = Promise.reject(asError(error));
    }
    if (this.options.acks === 0) {
      this.complete(batch, -1);
      this.track(appended.catch(() => undefined));
      return;
    }
    this.track(
      appended.then(
        (result) => this.complete(batch, result.baseOffset),
        (error: unknown) => this.fail(batch, translate(error)),
      ),
    );
  }

  private complete(batch: PendingBatch, baseOffset: number): void {
    for (let i = 0; i < batch.records.length; i++) {
      const sink = batch.sinks[i]!;
      if (sink.failed) continue;
      sink.results[batch.slots[i]!] = {
        topic: batch.topic,
        partition: batch.partition,
        offset: baseOffset < 0 ? -1 : baseOffset + i,
        timestamp: batch.records[i]!.timestamp!,
      };
      if (--sink.remaining === 0) sink.resolve(sink.results);
    }
  }

  private fail(batch: PendingBatch, error: Error): void {
    for (const sink of batch.sinks) {
      if (sink.failed) continue;
      sink.failed = true;
      sink.reject(error);
    }
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  async flush(): Promise<void> {
    for (const batch of [...this.batches.values()]) this.dispatch(batch);
    while (this.inFlight.size > 0 || this.waitingForId.length > 0)
      await Promise.all([...this.inFlight]);
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
    await this.flush();
    this.closed = true;
    this.onClose(this);
  }

  /** Drops everything unsent, as a killed process would. */
  abandon(): void {
    this.closed = true;
    for (const batch of this.batches.values()) batch.timer?.cancel();
    this.batches.clear();
  }
}

function notTransactional(): TopicError {
  return new TopicError(
    "INVALID_TXN_STATE",
    "transactionalId: this producer is not transactional",
    "transactionalId",
  );
}

/** Engine refusals in the producer's terms. */
function translate(error: unknown): Error {
  if (isSluiceError(error, "SLUICE_VALIDATION") && error.field === "batch.baseTimestamp")
    return new TopicError(
      "INVALID_RECORD",
      `timestamp: ${error.message} (this partition's log keeps timestamps in order)`,
      "timestamp",
    );
  return error as Error;
}
