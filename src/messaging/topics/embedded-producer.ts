import {
  BATCH_HEADER_BYTES,
  type BatchRelease,
  CompressionCodec,
  RecordBatchBuilder,
  TRANSACTIONAL_BIT,
} from "../../engine/index.js";
import { asError, isSluiceError } from "../../errors/index.js";
import { type Timer, sharedReading } from "../../time/index.js";
import { isList } from "./input-checks.js";
import { keepProcessAlive } from "./keep-alive.js";
import { type Partitioner, createPartitioner } from "./partitioner.js";
import {
  type PreparedRecord,
  RECORD_OVERHEAD_BYTES,
  type RecordContext,
  prepareRecord,
} from "./producer-record.js";
import type { OffsetAndMetadata, TopicPartition } from "./topic-admin.js";
import type { TopicBroker } from "./topic-broker.js";
import { ProducerFencedError, TopicError, invalidTopicInput, isTopicError } from "./topic-error.js";
import {
  DEFAULT_TRANSACTION_TIMEOUT_MS,
  type TransactionCoordinator,
} from "./transaction-coordinator.js";
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
import { MAX_TIMER_MS } from "../../time/index.js";
import { intOption } from "./int-option.js";

interface ResolvedProducerOptions {
  readonly partitioner: PartitionerName;
  readonly batchSize: number;
  readonly lingerMs: number;
  readonly compression: CompressionType;
  readonly acks: Acks;
  readonly idempotent: boolean;
  readonly maxRequestBytes: number;
  readonly transactionalId: string | undefined;
  readonly transactionTimeoutMs: number;
}

/**
 * Settles a record's part of a call: a `send` call's own promise `resolve` (which ignores the
 * slot), or a `sendBatch` call's collector. Kept in arrays beside the batch's records, so a
 * record costs no waiter object.
 */
type RecordDone = (metadata: RecordMetadata, slot: number) => void;
type RecordFailed = (error: Error) => void;

/**
 * The settle functions of the promise `new Promise(captureSettlers)` just made: one executor for
 * every `send`, so a call allocates no closure for it (it runs synchronously in the constructor).
 */
let capturedResolve: (metadata: RecordMetadata) => void = () => undefined;
let capturedReject: RecordFailed = () => undefined;
function captureSettlers(
  resolve: (metadata: RecordMetadata) => void,
  reject: (error: Error) => void,
): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/** Collects the results of one `sendBatch` call: it resolves when every record is stored. */
class BatchResults {
  private remaining: number;
  private readonly results: RecordMetadata[];

  constructor(
    count: number,
    private readonly resolve: (results: RecordMetadata[]) => void,
    readonly reject: RecordFailed,
  ) {
    this.remaining = count;
    this.results = new Array<RecordMetadata>(count);
  }

  readonly done: RecordDone = (metadata, slot) => {
    this.results[slot] = metadata;
    if (--this.remaining === 0) this.resolve(this.results);
  };
}

/** The open batch of one partition: records go straight into its encoded form. */
interface PendingBatch {
  readonly topic: string;
  readonly partition: number;
  readonly builder: RecordBatchBuilder;
  /** Most bytes the batch may take before compression (batchSize, within what the partition accepts). */
  readonly limit: number;
  /** The producer's scratch buffer a small batch is built in (`finish` copies it out). */
  readonly scratch: Buffer | undefined;
  readonly timestamps: number[];
  /** Per record: who settles it, and its slot in a sendBatch call's results (0 for send). */
  readonly done: RecordDone[];
  readonly failed: RecordFailed[];
  readonly slots: number[];
  timer: Timer | undefined;
}

/**
 * Where a transactional producer is: "uninitialized" until initTransactions, "ready" between
 * transactions, "in-transaction", "ending" while a commit or abort runs, "abortable" after a
 * failed send (only abort helps), "fenced" once a newer instance took the id (nothing helps).
 */
type TransactionPhase =
  "uninitialized" | "initializing" | "ready" | "in-transaction" | "ending" | "abortable" | "fenced";

const PARTITIONERS: readonly string[] = ["key-hash", "round-robin", "sticky"];
/**
 * Most bytes a record adds to a batch beyond key, value and headers: its length, attributes,
 * timestamp delta, offset delta, key and value lengths and header count, each at its widest.
 */
const MAX_RECORD_OVERHEAD_BYTES = 5 + 1 + 10 + 5 + 5 + 5 + 5;
/** Most bytes a header adds beyond its key and value: two lengths at their widest. */
const HEADER_OVERHEAD_BYTES = 10;
/** A batch's buffer starts at least this large (it grows as records come)... */
const MIN_INITIAL_BATCH_BYTES = 1024;
/** ...and at most this large. */
const MAX_INITIAL_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * A batch expected to be at most this large is built in a scratch buffer and copied out at its
 * exact size: at low rates (linger 0, a record or two per batch) a buffer of its own per batch
 * would be mostly unused, and fresh memory costs a page fault per page.
 */
const SCRATCH_BATCH_BYTES = 4096;
/**
 * Room a codec may need beyond the records it is given, kept free under the partition's limit
 * when compressing: incompressible input grows by its framing (gzip's header and a stored
 * block header per 16 KiB or more, lz4's frame and block headers, zstd's frame header).
 */
function codecSlackBytes(limit: number): number {
  return 64 + Math.ceil(limit / 1024);
}
/** Records sent in one synchronous run that share a clock reading for their timestamps. */
const RECORDS_PER_CLOCK_READING = 16;
/** Larger batch buffers handed back by the logs (never read by anyone) are built in again, at most this many kept spare. */
const MAX_SPARE_BUFFERS = 4;

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
  const transactionalId: unknown = options.transactionalId;
  if (transactionalId !== undefined) {
    if (
      typeof transactionalId !== "string" ||
      transactionalId.length === 0 ||
      transactionalId.length > 249
    )
      throw invalidTopicInput(
        "transactionalId",
        "a string of 1 to 249 characters",
        transactionalId,
        "INVALID_CONFIG",
      );
    if (!idempotent)
      throw invalidTopicInput(
        "idempotent",
        "true (or unset) for a transactional producer",
        options.idempotent,
        "INVALID_CONFIG",
      );
  }
  return {
    transactionalId,
    transactionTimeoutMs: intOption(
      options.transactionTimeoutMs,
      "transactionTimeoutMs",
      1,
      DEFAULT_TRANSACTION_TIMEOUT_MS,
      MAX_TIMER_MS,
    ),
    partitioner,
    batchSize: intOption(options.batchSize, "batchSize", 0, 16384),
    lingerMs: intOption(options.lingerMs, "lingerMs", 0, 5, MAX_TIMER_MS),
    compression,
    acks,
    idempotent,
    maxRequestBytes: intOption(options.maxRequestBytes, "maxRequestBytes", 1, 1024 * 1024),
  };
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
  private readonly recordContext: RecordContext;
  /** Open batches by topic, then partition. */
  private readonly batches = new Map<string, Array<PendingBatch | undefined>>();
  private readonly sequences = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private producerId: number | undefined;
  private readonly waitingForId: Array<() => void> = [];
  private flushScheduled = false;
  /** Bytes of the last batch sent: the next batch's buffer starts that large. */
  private lastBatchBytes = 0;
  /** Scratch buffers for small batches, and spare buffers of large ones (see `recycle`). */
  private readonly scratchBuffers: Buffer[] = [];
  private readonly spareBuffers: Buffer[] = [];
  /** Memory this producer allocated for batches (never a slice of Node's shared buffer pool). */
  private readonly batchMemory = new WeakSet<ArrayBufferLike>();
  private closed = false;
  private producerEpoch = 0;
  private readonly transactionalId: string | undefined;
  private readonly transactionTimeoutMs: number;
  private phase: TransactionPhase = "uninitialized";
  /** Why the producer is abortable or fenced. */
  private transactionError: Error | undefined;
  /** Partitions added to the open transaction (resolves once the coordinator has them). */
  private readonly transactionPartitions = new Map<string, Promise<void>>();
  /** True once the coordinator holds the open transaction (a partition or group was added). */
  private transactionRegistered = false;

  constructor(
    private readonly broker: TopicBroker,
    private readonly transactions: TransactionCoordinator,
    options: ProducerOptions,
    private readonly onClose: (producer: EmbeddedProducer) => void,
  ) {
    this.options = resolveProducerOptions(options);
    this.transactionalId = this.options.transactionalId;
    this.transactionTimeoutMs = this.options.transactionTimeoutMs;
    this.partitioner = createPartitioner(this.options.partitioner);
    this.codecId = CompressionCodec[this.options.compression];
    this.recordContext = {
      partitionCount: (topic) => broker.partitionCount(topic),
      maxMessageBytes: (topic) => broker.definition(topic).config.maxMessageBytes,
      maxRequestBytes: this.options.maxRequestBytes,
      // Records sent together share a reading (see sharedReading): a record's timestamp is
      // its send time to within the sending of 16 records.
      now: sharedReading(() => broker.clock.now(), RECORDS_PER_CLOCK_READING),
      partitioner: this.partitioner,
    };
    if (this.transactionalId !== undefined) {
      // The id and epoch come from initTransactions.
    } else if (this.options.idempotent) this.allocateProducerId();
    else this.producerId = -1;
  }

  /** An idempotent producer's id; batches dispatched meanwhile wait for it. */
  private allocateProducerId(): void {
    const allocation = this.broker.allocateProducerId().then(
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
  }

  /**
   * After a batch written with producer id `failedId` was not stored (a full disk, a refused
   * batch), the partition expects a sequence this producer has moved past, and would refuse
   * every later batch: as Kafka's idempotent producer does, take a new id and start every
   * partition's sequence again. A batch already sent under the old id fails as it would have.
   */
  private resetProducerId(failedId: number | undefined): void {
    if (
      this.transactionalId !== undefined ||
      !this.options.idempotent ||
      this.closed ||
      failedId === undefined ||
      failedId < 0 ||
      failedId !== this.producerId
    )
      return;
    this.producerId = undefined;
    this.sequences.clear();
    this.allocateProducerId();
  }

  send(record: ProducerRecord): Promise<RecordMetadata> {
    const promise = new Promise<RecordMetadata>(captureSettlers);
    const resolve = capturedResolve;
    const reject = capturedReject;
    try {
      this.place(this.prepare(record, ""), resolve, reject, 0);
    } catch (error) {
      reject(asError(error));
    }
    return promise;
  }

  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      if (!isList(records) || records.length === 0) {
        reject(invalidTopicInput("records", "a non-empty array of records", records));
        return;
      }
      const sink = new BatchResults(records.length, resolve, reject);
      try {
        // Check every record first, so a bad one fails the call before any is sent.
        const prepared = records.map((r, i) => this.prepare(r, `records[${i}].`));
        prepared.forEach((p, i) => this.place(p, sink.done, sink.reject, i));
      } catch (error) {
        reject(asError(error));
      }
    });
  }

  private prepare(record: ProducerRecord, prefix: string): PreparedRecord {
    if (this.closed) throw new TopicError("ILLEGAL_STATE", "the producer is closed");
    this.broker.ensureOpen();
    if (this.transactionalId !== undefined && this.phase !== "in-transaction")
      throw this.notInTransaction("send");
    return prepareRecord(record, prefix, this.recordContext);
  }

  private place(
    record: PreparedRecord,
    done: RecordDone,
    failed: RecordFailed,
    slot: number,
  ): void {
    const { topic, partition, input } = record;
    // The most the record can take in the batch: its varints at their widest.
    const size =
      record.size -
      RECORD_OVERHEAD_BYTES +
      MAX_RECORD_OVERHEAD_BYTES +
      HEADER_OVERHEAD_BYTES * (input.headers?.length ?? 0);
    let open = this.batches.get(topic);
    if (open === undefined) {
      open = [];
      this.batches.set(topic, open);
    }
    let batch = open[partition];
    if (
      batch !== undefined &&
      batch.builder.recordCount > 0 &&
      batch.builder.sizeBytes + size > batch.limit
    ) {
      this.dispatch(batch);
      batch = undefined;
    }
    if (batch === undefined) {
      const limit = this.batchLimit(topic);
      // Sized by the last batch (linger 0 at a low rate sends a few records at a time: a
      // buffer of batch.size for each would be mostly waste), within batch.size.
      // Twice that, so a batch cut short by linger does not make the next one grow by copies.
      const expected = Math.max(MIN_INITIAL_BATCH_BYTES, 2 * this.lastBatchBytes);
      const capacity = Math.max(
        size,
        Math.min(limit - BATCH_HEADER_BYTES, expected, MAX_INITIAL_BATCH_BYTES),
      );
      const wanted = BATCH_HEADER_BYTES + capacity;
      let scratch: Buffer | undefined;
      let builder: RecordBatchBuilder;
      if (wanted <= SCRATCH_BATCH_BYTES) {
        scratch = this.scratchBuffers.pop() ?? Buffer.allocUnsafeSlow(SCRATCH_BATCH_BYTES);
        builder = new RecordBatchBuilder(capacity, scratch);
      } else {
        builder = new RecordBatchBuilder(capacity, this.batchBuffer(wanted), true);
      }
      batch = {
        topic,
        partition,
        builder,
        limit,
        scratch,
        timestamps: [],
        done: [],
        failed: [],
        slots: [],
        timer: undefined,
      };
      open[partition] = batch;
    }
    const timestamp = input.timestamp!; // prepareRecord stamps every record
    batch.builder.append(input.key ?? null, input.value, timestamp, input.headers);
    batch.timestamps.push(timestamp);
    batch.done.push(done);
    batch.failed.push(failed);
    batch.slots.push(slot);
    if (batch.builder.sizeBytes >= batch.limit) this.dispatch(batch);
    else if (this.options.lingerMs === 0) this.scheduleFlush();
    else if (batch.timer === undefined) {
      const lingering = batch;
      const release = keepProcessAlive();
      const timer = this.broker.clock.setTimer(this.options.lingerMs, () => {
        release();
        if (this.batches.get(topic)?.[partition] === lingering) this.dispatch(lingering);
      });
      lingering.timer = {
        cancel: () => {
          release();
          timer.cancel();
        },
      };
    }
  }

  /**
   * How large a batch for `topic` may grow: batchSize, but never past what the partition takes
   * (maxMessageBytes of records, with room for the codec's framing) or one request. Kafka's
   * producer splits a batch the broker refuses as too large; this one never builds it.
   */
  private batchLimit(topic: string): number {
    let accepted = Math.min(
      this.recordContext.maxMessageBytes(topic) + BATCH_HEADER_BYTES,
      this.options.maxRequestBytes,
    );
    if (this.codecId !== CompressionCodec.none) accepted -= codecSlackBytes(accepted);
    return Math.min(this.options.batchSize, accepted);
  }

  /** Every open batch, in topic and partition order. */
  private openBatches(): PendingBatch[] {
    const out: PendingBatch[] = [];
    for (const open of this.batches.values())
      for (const b of open) if (b !== undefined) out.push(b);
    return out;
  }

  /** With lingerMs 0, records sent in the same turn still share a batch. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      for (const batch of this.openBatches()) this.dispatch(batch);
    });
  }

  /** Takes the batch out of the open ones (it gets no more records). */
  private closeBatch(batch: PendingBatch): void {
    const open = this.batches.get(batch.topic);
    if (open?.[batch.partition] === batch) open[batch.partition] = undefined;
    batch.timer?.cancel();
  }

  private dispatch(batch: PendingBatch): void {
    this.closeBatch(batch);
    this.lastBatchBytes = batch.builder.sizeBytes;
    const key = `${batch.topic}\u0000${batch.partition}`;
    this.partitioner.onBatchSent(batch.topic);
    const sequence = this.sequences.get(key) ?? 0;
    if (this.options.idempotent)
      // Sequences wrap from 2147483647 to 0, as Kafka's do (a negative one would mean "none").
      this.sequences.set(key, (sequence + batch.builder.recordCount) % 0x80000000);
    if (this.transactionalId !== undefined) this.writeInTransaction(batch, key, sequence);
    else if (this.producerId === undefined)
      this.waitingForId.push(() => this.write(batch, sequence));
    else this.write(batch, sequence);
  }

  /** Adds the partition to the transaction first (once), then writes; batches keep their order. */
  private writeInTransaction(batch: PendingBatch, key: string, sequence: number): void {
    let added = this.transactionPartitions.get(key);
    if (added === undefined) {
      added = this.transactions
        .addPartitions(this.transactionalId!, this.producerId!, this.producerEpoch, [
          { topic: batch.topic, partition: batch.partition },
        ])
        .then(() => {
          this.transactionRegistered = true;
        });
      this.transactionPartitions.set(key, added);
    }
    this.track(
      added.then(
        () => this.write(batch, sequence),
        (error: unknown) => this.fail(batch, this.transactionFailed(error)),
      ),
    );
  }

  /** A spare buffer of at least `bytes` (and not much more) if one was handed back, else a new one. */
  private batchBuffer(bytes: number): Buffer {
    const spares = this.spareBuffers;
    for (let i = spares.length - 1; i >= 0; i--) {
      const spare = spares[i]!;
      if (spare.length >= bytes && spare.length <= 2 * bytes) {
        spares[i] = spares[spares.length - 1]!;
        spares.pop();
        return spare;
      }
    }
    const fresh = Buffer.allocUnsafeSlow(bytes);
    this.batchMemory.add(fresh.buffer);
    return fresh;
  }

  /**
   * Takes back the buffer of a sent batch that nothing else holds: the log let go of it (no
   * reader was given a view of it) or kept a copy. Only memory this producer allocated whole
   * for a batch is kept (a buffer the builder grew into may be a slice of Node's shared pool),
   * a few buffers at most.
   */
  private readonly recycle: BatchRelease = (batch) => {
    const memory = batch.buffer;
    if (batch.byteOffset !== 0 || !this.batchMemory.has(memory)) return;
    if (this.spareBuffers.length < MAX_SPARE_BUFFERS) this.spareBuffers.push(Buffer.from(memory));
  };

  private write(batch: PendingBatch, sequence: number): void {
    const producerId = this.producerId;
    let appended: Promise<{ baseOffset: number }>;
    try {
      let encoded: Buffer;
      try {
        encoded = this.finishBatch(batch, sequence);
      } finally {
        if (batch.scratch !== undefined) this.scratchBuffers.push(batch.scratch);
      }
      const built = batch.builder.buffer;
      // The batch is the builder's buffer itself: the log keeps it, and hands it back once it
      // can. Otherwise (a copy, a compressed batch) the buffer is free now.
      const kept = batch.scratch === undefined && encoded.buffer === built.buffer;
      if (!kept && batch.scratch === undefined) this.recycle(built);
      appended = this.broker.appendBatch(
        batch.topic,
        batch.partition,
        encoded,
        false,
        kept ? this.recycle : undefined,
      );
    } catch (error) {
      appended = Promise.reject(asError(error));
    }
    if (this.options.acks === 0) {
      this.complete(batch, -1);
      this.track(appended.catch(() => this.resetProducerId(producerId)));
      return;
    }
    this.track(
      appended.then(
        (result) => this.complete(batch, result.baseOffset),
        (error: unknown) => {
          this.resetProducerId(producerId);
          this.fail(
            batch,
            this.transactionalId === undefined ? translate(error) : this.transactionFailed(error),
          );
        },
      ),
    );
  }

  private finishBatch(batch: PendingBatch, sequence: number): Buffer {
    return batch.builder.finish({
      baseOffset: 0,
      defaultTimestamp: this.broker.clock.now(),
      compression: this.codecId,
      ...(this.options.idempotent && this.producerId !== undefined && this.producerId >= 0
        ? {
            producer: {
              producerId: this.producerId,
              producerEpoch: this.producerEpoch,
              baseSequence: sequence,
            },
          }
        : {}),
      ...(this.transactionalId === undefined ? {} : { attributes: TRANSACTIONAL_BIT }),
    });
  }

  private complete(batch: PendingBatch, baseOffset: number): void {
    const { topic, partition, done, slots, timestamps } = batch;
    // A call that failed already (a sendBatch's other record) ignores its later settles.
    for (let i = 0; i < done.length; i++)
      done[i]!(
        {
          topic,
          partition,
          offset: baseOffset < 0 ? -1 : baseOffset + i,
          timestamp: timestamps[i]!,
        },
        slots[i]!,
      );
  }

  private fail(batch: PendingBatch, error: Error): void {
    for (const failed of batch.failed) failed(error);
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  async flush(): Promise<void> {
    for (const batch of this.openBatches()) this.dispatch(batch);
    while (this.inFlight.size > 0 || this.waitingForId.length > 0)
      await Promise.all([...this.inFlight]);
  }

  // ---------------------------------------------------------------- transactions

  /** A failure inside a transaction: fencing ends the producer, anything else only the transaction. */
  private transactionFailed(error: unknown): Error {
    if (error instanceof ProducerFencedError || isTopicError(error, "INVALID_PRODUCER_EPOCH")) {
      const fenced =
        error instanceof ProducerFencedError
          ? error
          : new ProducerFencedError(
              `producerEpoch: ${this.transactionalId} was taken over by a newer producer (${(error as Error).message})`,
            );
      this.phase = "fenced";
      this.transactionError = fenced;
      return fenced;
    }
    const failure = translate(error);
    if (this.phase === "in-transaction" || this.phase === "ending") {
      this.phase = "abortable";
      this.transactionError = failure;
    }
    return failure;
  }

  private notInTransaction(call: string): Error {
    if (this.transactionalId === undefined) return notTransactional();
    if (this.phase === "fenced" && this.transactionError !== undefined)
      return this.transactionError;
    if (this.phase === "abortable")
      return new TopicError(
        "INVALID_TXN_STATE",
        `${call}: the transaction failed (${this.transactionError?.message ?? "a send failed"}); abort it`,
        "transactionalId",
        { cause: this.transactionError?.message },
      );
    return new TopicError(
      "INVALID_TXN_STATE",
      `${call}: expected an open transaction (beginTransaction first), the producer is ${this.phase}`,
      "transactionalId",
      { phase: this.phase },
    );
  }

  async initTransactions(): Promise<void> {
    if (this.transactionalId === undefined) throw notTransactional();
    if (this.closed) throw new TopicError("ILLEGAL_STATE", "the producer is closed");
    if (this.phase === "fenced") throw this.transactionError!;
    if (this.phase !== "uninitialized")
      throw new TopicError(
        "INVALID_TXN_STATE",
        `initTransactions: already called (the producer is ${this.phase})`,
        "transactionalId",
      );
    this.phase = "initializing";
    try {
      const { producerId, producerEpoch } = await this.transactions.initProducerId(
        this.transactionalId,
        this.transactionTimeoutMs,
      );
      this.producerId = producerId;
      this.producerEpoch = producerEpoch;
      this.sequences.clear();
      this.phase = "ready";
    } catch (error) {
      this.phase = "uninitialized";
      throw error;
    }
  }

  async beginTransaction(): Promise<void> {
    if (this.transactionalId === undefined) throw notTransactional();
    if (this.phase === "uninitialized") await this.initTransactions();
    if (this.phase !== "ready") throw this.notInTransaction("beginTransaction");
    this.phase = "in-transaction";
    this.transactionPartitions.clear();
    this.transactionRegistered = false;
    this.transactionError = undefined;
  }

  async sendOffsetsToTransaction(
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    if (this.phase !== "in-transaction") throw this.notInTransaction("sendOffsetsToTransaction");
    if (group === null || typeof group !== "object" || typeof group.groupId !== "string")
      throw invalidTopicInput("group", "{ groupId, generationId, memberId }", group);
    const id = this.transactionalId!;
    try {
      await this.transactions.addOffsets(id, this.producerId!, this.producerEpoch, group.groupId);
      this.transactionRegistered = true;
      await this.transactions.commitOffsets(
        id,
        this.producerId!,
        this.producerEpoch,
        group,
        offsets,
      );
    } catch (error) {
      throw this.transactionFailed(error);
    }
  }

  async commitTransaction(): Promise<void> {
    if (this.phase !== "in-transaction") throw this.notInTransaction("commitTransaction");
    this.phase = "ending";
    await this.flush();
    // A send that failed while flushing made the transaction abortable (or fenced the producer).
    if (this.phase !== "ending") throw this.notInTransaction("commitTransaction");
    await this.end(true);
  }

  async abortTransaction(): Promise<void> {
    if (this.phase === "fenced") throw this.transactionError!;
    if (this.phase !== "in-transaction" && this.phase !== "abortable")
      throw this.notInTransaction("abortTransaction");
    this.phase = "ending";
    // Unsent batches have no sequence yet: drop them. Sent ones are closed by the abort marker.
    const aborted = new TopicError(
      "TRANSACTION_ABORTED",
      "send: the transaction was aborted before this record was sent",
      "transactionalId",
    );
    for (const batch of this.openBatches()) {
      this.closeBatch(batch);
      this.fail(batch, aborted);
    }
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    if ((this.phase as TransactionPhase) === "fenced") throw this.transactionError!;
    this.phase = "ending";
    await this.end(false);
  }

  private async end(commit: boolean): Promise<void> {
    try {
      if (this.transactionRegistered)
        await this.transactions.endTransaction(
          this.transactionalId!,
          this.producerId!,
          this.producerEpoch,
          commit,
        );
      this.phase = "ready";
      this.transactionPartitions.clear();
      this.transactionRegistered = false;
    } catch (error) {
      throw this.transactionFailed(error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      // As Kafka's producer does, closing in the middle of a transaction aborts it.
      if (this.phase === "in-transaction" || this.phase === "abortable")
        await this.abortTransaction().catch(() => undefined);
      else await this.flush();
    } finally {
      this.closed = true;
      this.onClose(this);
    }
  }

  /** Drops everything unsent, as a killed process would. */
  abandon(): void {
    this.closed = true;
    for (const batch of this.openBatches()) batch.timer?.cancel();
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
