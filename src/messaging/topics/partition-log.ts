import { SluiceError, asError } from "../../errors/index.js";
import {
  type AppendResult,
  type BatchHeader,
  type BatchRelease,
  type FileSystem,
  type FsyncPolicy,
  type Log,
  type LogRecord,
  type RecordFactory,
  logRecord,
  checkBatch,
  decodeRecords,
  type BatchKind,
  type RawBatchTrust,
  codecById,
  openLog,
  readBatchHeader,
  type MarkerType,
  encodeMarker,
  isControlBatch,
  isTransactionalBatch,
  markerTypeOf,
} from "../../engine/index.js";
import type { MetricsRegistry } from "../../observability/index.js";
import type { Clock } from "../../time/index.js";
import { ProducerStateTable } from "./producer-state.js";
import type { TopicConfig } from "./topic-admin.js";
import { logOptionsFor } from "./topic-config.js";
import type { IsolationLevel } from "./topic-consumer.js";
import { TopicError } from "./topic-error.js";

export interface PartitionLogOptions {
  readonly clock: Clock;
  readonly fsync: FsyncPolicy;
  readonly metrics: MetricsRegistry;
  readonly fs?: FileSystem;
  /**
   * How long an idempotent producer that writes nothing here is remembered (Kafka's
   * `producer.id.expiration.ms`, default one day); a producer with a transaction open here is
   * kept.
   */
  readonly producerIdExpirationMs?: number;
}

/** Kafka's default `producer.id.expiration.ms`: one day. */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;

/** How often expired producers are looked for (Kafka's `producer.id.expiration.check.interval.ms`). */
const PRODUCER_EXPIRATION_CHECK_MS = 600_000;

/**
 * Called before a producer's transactional batch is stored: throws unless that producer (at that
 * epoch) has the partition in an open transaction (Kafka's KIP-890 verification), so a batch
 * nobody will ever close with a marker cannot hold back the last stable offset.
 */
export type TransactionGuard = (
  producerId: number,
  producerEpoch: number,
  topic: string,
  partition: number,
) => void;

/** A transaction that ended with an abort marker: its producer's records in [first, last] are hidden from read_committed. */
export interface AbortedTransaction {
  readonly producerId: number;
  readonly firstOffset: number;
  /** The offset of the abort marker. */
  readonly lastOffset: number;
}

/** What a read gives: the records, and where the next read starts (past skipped markers and aborted records). */
export interface PartitionRead<T = LogRecord> {
  readonly records: T[];
  readonly nextOffset: number;
}

/** The codec id's bits of a batch's attributes. */
const COMPRESSION_MASK = 0x07;

/** Bytes of a batch beyond its records that Kafka does not count against max.message.bytes. */
const BATCH_OVERHEAD_BYTES = 61;

/**
 * One partition of a topic: one engine log of Kafka RecordBatch v2, the idempotent producers'
 * sequence table, and the high watermark readers stop at: the end of what was acknowledged,
 * so under fsync "always" a consumer never sees a record that a crash could still take away.
 */
export class PartitionLog {
  private readonly producers = new ProducerStateTable();
  /** Open transactions: producer id to the offset of its first record here. */
  private readonly ongoing = new Map<number, number>();
  /** Aborted transactions in marker order (so by lastOffset). */
  private readonly aborted: AbortedTransaction[] = [];
  /** Offsets of control batches, ascending: consumers never see them. */
  private readonly controlOffsets: number[] = [];
  private guard: TransactionGuard | undefined;
  private acknowledgedEnd: number;
  private waiters: Array<() => void> = [];
  /** Called at every advance and at close, until removed (see `watch`). */
  private readonly watchers = new Set<() => void>();
  private pending = 0;
  /** When to look for expired producers next (see `expireProducers`). */
  private nextExpiryCheckMs = 0;

  private constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: Log,
    private config: TopicConfig,
    private readonly producerIdExpirationMs: number,
  ) {
    this.acknowledgedEnd = log.logEndOffset;
  }

  static async open(
    dir: string,
    topic: string,
    partition: number,
    config: TopicConfig,
    options: PartitionLogOptions,
  ): Promise<PartitionLog> {
    const producerIdExpirationMs =
      options.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS;
    const log = await openLog(dir, {
      ...logOptionsFor(config),
      // Compaction keeps a producer's last batch as long as this partition remembers it.
      producerStateRetentionMs: producerIdExpirationMs,
      fsync: options.fsync,
      clock: options.clock,
      metrics: options.metrics,
      name: `topic/${topic}/${partition}`,
      ...(options.fs === undefined ? {} : { fs: options.fs }),
    });
    const p = new PartitionLog(topic, partition, log, config, producerIdExpirationMs);
    try {
      p.rebuildProducerState();
      p.expireProducers();
    } catch (error) {
      await log.close();
      throw error;
    }
    return p;
  }

  /**
   * Idempotence survives a restart for every producer with a batch still in the log, as Kafka
   * keeps producer state across segment rolls (its snapshots) until the producer expires: a
   * producer's last batch may sit in an older segment when it is retried after the restart (it
   * was stored twice when only the active segment was read). Transactions are rebuilt from the
   * whole log too (open ones, aborted ones and marker offsets), reading batch headers and only
   * the markers' records.
   */
  private rebuildProducerState(): void {
    let offset = this.log.logStartOffset;
    while (offset < this.log.logEndOffset) {
      const bytes = this.log.readBatches(offset, 4 * 1024 * 1024);
      if (bytes.length === 0) break;
      for (let at = 0; at < bytes.length;) {
        const header = readBatchHeader(bytes, at) as BatchHeader;
        const lastOffset = header.baseOffset + header.lastOffsetDelta;
        this.producers.record(
          header,
          { baseOffset: header.baseOffset, lastOffset, maxTimestamp: header.maxTimestamp },
          header.maxTimestamp,
        );
        if (isControlBatch(header.attributes)) {
          const records = decodeRecords(bytes, at, header);
          const type =
            records instanceof SluiceError ? undefined : markerTypeOf(records[0]?.key ?? null);
          this.noteMarker(header.producerId, header.baseOffset, type);
        } else if (isTransactionalBatch(header.attributes))
          this.noteTransactional(header.producerId, header.baseOffset);
        offset = lastOffset + 1;
        at += header.sizeBytes;
      }
    }
  }

  /**
   * Forgets the idempotent producers that wrote nothing here for `producerIdExpirationMs`
   * (those with a transaction open here stay); at most once per check interval.
   */
  private expireProducers(now = this.log.clock.now()): void {
    if (now < this.nextExpiryCheckMs) return;
    this.nextExpiryCheckMs = now + PRODUCER_EXPIRATION_CHECK_MS;
    this.producers.expire(now, this.producerIdExpirationMs, (id) => this.ongoing.has(id));
  }

  /** How many idempotent producers this partition remembers (for tools and tests). */
  get producerCount(): number {
    return this.producers.size;
  }

  private noteTransactional(producerId: number, baseOffset: number): void {
    if (!this.ongoing.has(producerId)) this.ongoing.set(producerId, baseOffset);
  }

  private noteMarker(producerId: number, offset: number, type: MarkerType | undefined): void {
    this.controlOffsets.push(offset);
    const first = this.ongoing.get(producerId);
    this.ongoing.delete(producerId);
    if (type === "abort" && first !== undefined)
      this.aborted.push({ producerId, firstOffset: first, lastOffset: offset });
  }

  /** Set by the transaction coordinator: checks each transactional batch from a producer. */
  setTransactionGuard(guard: TransactionGuard | undefined): void {
    this.guard = guard;
  }

  get name(): string {
    return `${this.topic}-${this.partition}`;
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
  }

  /** One past the last acknowledged record: what consumers may read. */
  get highWatermark(): number {
    return this.acknowledgedEnd;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  /**
   * Where read_committed consumers stop: the first record of the oldest open transaction, or
   * the high watermark when none is open.
   */
  get lastStableOffset(): number {
    let stable = this.acknowledgedEnd;
    for (const first of this.ongoing.values()) if (first < stable) stable = first;
    return stable;
  }

  /** A producer's latest epoch in this partition (-1 when unknown). */
  producerEpochOf(producerId: number): number {
    return this.producers.epochOf(producerId);
  }

  /** Producers with a transaction open here (for tools and the coordinator's recovery). */
  openTransactions(): number[] {
    return [...this.ongoing.keys()];
  }

  /**
   * Aborted transactions that overlap [fromOffset, toOffset): what a Kafka fetch response lists
   * so a read_committed client can drop those records itself.
   */
  abortedTransactions(fromOffset: number, toOffset: number): AbortedTransaction[] {
    const out: AbortedTransaction[] = [];
    for (let i = this.firstAbortedFrom(fromOffset); i < this.aborted.length; i++) {
      const t = this.aborted[i]!;
      if (t.firstOffset < toOffset) out.push(t);
    }
    return out;
  }

  /** Index of the first aborted transaction whose marker is at or after `offset`. */
  private firstAbortedFrom(offset: number): number {
    let lo = 0;
    let hi = this.aborted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.aborted[mid]!.lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private hasMarkerIn(from: number, to: number): boolean {
    let lo = 0;
    let hi = this.controlOffsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.controlOffsets[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.controlOffsets.length && this.controlOffsets[lo]! < to;
  }

  private isAborted(producerId: number, offset: number): boolean {
    for (let i = this.firstAbortedFrom(offset); i < this.aborted.length; i++) {
      const t = this.aborted[i]!;
      if (t.producerId === producerId && t.firstOffset <= offset) return true;
    }
    return false;
  }

  get sizeBytes(): number {
    return this.log.sizeBytes;
  }

  /** A changed topic config: the partition's log cleans up and rolls by it from now on. */
  updateConfig(config: TopicConfig): void {
    this.log.reconfigure(logOptionsFor(config));
    this.config = config;
  }

  /**
   * Appends one encoded batch as given (no re-encoding). With `verify` (batches from outside
   * this process) the records are decoded first with a bounded decompression, so a corrupt
   * batch or a decompression bomb is refused before it reaches the disk. A transactional batch
   * is taken only from a producer whose transaction holds this partition (see
   * `setTransactionGuard`); `origin: "coordinator"` is the coordinator's own transactional
   * write (offsets of a transaction), which needs no guard. `release` (batches encoded in this
   * process only) gets the buffer back once the log no longer needs it and no reader has it.
   */
  append(
    batch: Buffer,
    verify: boolean,
    origin: "client" | "coordinator" = "client",
    release?: BatchRelease,
  ): Promise<AppendResult> {
    try {
      // A batch encoded in this process (verify false) is sound by construction: no CRC pass.
      const header = verify ? checkBatch(batch, 0) : readBatchHeader(batch, 0);
      if (header instanceof SluiceError)
        throw new TopicError("CORRUPT_MESSAGE", `batch: ${header.message}`, "batch");
      if (header.sizeBytes - BATCH_OVERHEAD_BYTES > this.config.maxMessageBytes)
        throw new TopicError(
          "MESSAGE_TOO_LARGE",
          `batch: ${header.sizeBytes} bytes is over maxMessageBytes ${this.config.maxMessageBytes} of topic ${this.topic}`,
          "batch",
          { sizeBytes: header.sizeBytes, maxMessageBytes: this.config.maxMessageBytes },
        );
      // Kafka's codec ids are 0-4: a client's batch naming another is refused with Kafka's
      // UNSUPPORTED_COMPRESSION_TYPE (error 76 on the wire), before its records are decoded.
      const codec = header.attributes & COMPRESSION_MASK;
      if (codec !== 0 && codecById(codec) === undefined)
        throw new TopicError(
          "UNSUPPORTED_COMPRESSION_TYPE",
          `batch.attributes: compression codec ${codec} is not supported (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)`,
          "batch.attributes",
          { codec },
        );
      if (isControlBatch(header.attributes))
        throw new TopicError(
          "INVALID_RECORD",
          "batch.attributes: a data batch (transaction markers are written by the transaction coordinator only)",
          "batch.attributes",
        );
      const transactional = isTransactionalBatch(header.attributes);
      if (transactional && origin === "client") {
        if (header.producerId < 0)
          throw new TopicError(
            "INVALID_RECORD",
            "batch.producerId: a transactional batch needs its producer id",
            "batch.producerId",
          );
        if (this.guard === undefined)
          throw new TopicError(
            "INVALID_TXN_STATE",
            `batch: no transaction coordinator takes transactional batches for ${this.name}`,
            "batch",
          );
        this.guard(header.producerId, header.producerEpoch, this.topic, this.partition);
      }
      const kind = transactional ? "transactional" : "data";
      if (verify) this.verifyRecords(batch, kind);
      const check = this.producers.check(header, this.name);
      if (check.kind === "duplicate") return this.whenAcknowledged(check.result);
      return verify
        ? this.write(batch, header, kind, undefined, "checked")
        : this.write(batch, header, kind, undefined, "encoded-here", release);
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  /**
   * Writes a transaction marker for a producer (the coordinator's call): closes its open
   * transaction here, committing or aborting its records for read_committed readers.
   */
  appendMarker(
    producerId: number,
    producerEpoch: number,
    type: MarkerType,
    coordinatorEpoch = 0,
  ): Promise<AppendResult> {
    try {
      const batch = encodeMarker(
        producerId,
        producerEpoch,
        type,
        this.log.clock.now(),
        coordinatorEpoch,
      );
      const header = readBatchHeader(batch, 0) as BatchHeader;
      this.producers.check(header, this.name);
      return this.write(batch, header, "control", type, "encoded-here");
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  private write(
    batch: Buffer,
    header: BatchHeader,
    kind: BatchKind,
    marker: MarkerType | undefined,
    trust: RawBatchTrust,
    release?: BatchRelease,
  ): Promise<AppendResult> {
    const baseOffset = this.log.logEndOffset;
    const appended = this.log.appendRawBatch(batch, kind, trust, release);
    if (this.log.logEndOffset === baseOffset) return appended; // refused before writing
    const result: AppendResult = {
      baseOffset,
      lastOffset: baseOffset + header.lastOffsetDelta,
      maxTimestamp: header.maxTimestamp,
    };
    const now = this.log.clock.now();
    this.producers.record(header, result, now);
    this.expireProducers(now);
    if (kind === "control") this.noteMarker(header.producerId, baseOffset, marker);
    else if (kind === "transactional") this.noteTransactional(header.producerId, baseOffset);
    this.pending++;
    return appended.then(
      (r) => {
        this.pending--;
        this.acknowledge(r.lastOffset + 1);
        return r;
      },
      (error: unknown) => {
        this.pending--;
        throw error;
      },
    );
  }

  /**
   * The log's whole check of a producer's batch (records decoded once, without building them),
   * before its sequence is looked at; records that do not decode are CORRUPT_MESSAGE.
   */
  private verifyRecords(batch: Buffer, kind: BatchKind): void {
    try {
      this.log.checkProducedBatch(batch, kind);
    } catch (error) {
      const cause = error instanceof SluiceError ? error.cause : undefined;
      if (cause instanceof SluiceError && cause.code === "SLUICE_CORRUPT")
        throw new TopicError("CORRUPT_MESSAGE", `batch: ${cause.message}`, "batch", {
          ...cause.details,
        });
      throw error;
    }
  }

  /** A retried batch resolves once its first write is acknowledged. */
  private async whenAcknowledged(result: AppendResult): Promise<AppendResult> {
    while (this.acknowledgedEnd <= result.lastOffset && !this.log.isClosed)
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    return result;
  }

  private acknowledge(end: number): void {
    if (end <= this.acknowledgedEnd) return;
    this.acknowledgedEnd = end;
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
    for (const wake of this.watchers) wake();
  }

  /**
   * Records from `offset` up to the high watermark (read_uncommitted) or the last stable offset
   * (read_committed, which also drops records of aborted transactions). Markers are never
   * returned; `nextOffset` steps past them. `make` builds each record (a consumer builds its
   * own records straight from the batch bytes).
   */
  read(
    offset: number,
    maxRecords: number,
    maxBytes: number,
    isolation?: IsolationLevel,
  ): PartitionRead;
  read<T>(
    offset: number,
    maxRecords: number,
    maxBytes: number,
    isolation: IsolationLevel,
    make: RecordFactory<T>,
  ): PartitionRead<T>;
  read<T>(
    offset: number,
    maxRecords: number,
    maxBytes: number,
    isolation: IsolationLevel = "read_uncommitted",
    make?: RecordFactory<T>,
  ): PartitionRead<T> {
    const build = make ?? (logRecord as unknown as RecordFactory<T>);
    const end = isolation === "read_committed" ? this.lastStableOffset : this.acknowledgedEnd;
    if (offset >= end) return { records: [], nextOffset: offset };
    let from = offset;
    if (from < this.log.logStartOffset) from = this.log.logStartOffset;
    const plain =
      !this.hasMarkerIn(from, end) &&
      (isolation === "read_uncommitted" || this.abortedTransactions(from, end).length === 0);
    if (plain) {
      let last = -1;
      const records = this.log.read(
        from,
        { maxRecords, maxBytes, endOffset: end },
        (o, t, k, v, h) => {
          last = o;
          return build(o, t, k, v, h);
        },
      );
      // An empty read below the end means compaction removed the rest.
      return { records, nextOffset: records.length > 0 ? last + 1 : end };
    }
    return this.readFiltered(from, end, maxRecords, maxBytes, isolation, build);
  }

  /** The slow path, batch by batch, for ranges with markers or aborted records in them. */
  private readFiltered<T>(
    from: number,
    end: number,
    maxRecords: number,
    maxBytes: number,
    isolation: IsolationLevel,
    make: RecordFactory<T>,
  ): PartitionRead<T> {
    const records: T[] = [];
    let nextOffset = from;
    const bytes = this.log.readBatches(from, maxBytes);
    if (bytes.length === 0) return { records, nextOffset: end }; // compacted away
    for (let at = 0; at < bytes.length && records.length < maxRecords;) {
      const header = readBatchHeader(bytes, at) as BatchHeader;
      if (header.baseOffset >= end) break;
      const lastOffset = header.baseOffset + header.lastOffsetDelta;
      const skip =
        isControlBatch(header.attributes) ||
        (isolation === "read_committed" &&
          isTransactionalBatch(header.attributes) &&
          this.isAborted(header.producerId, header.baseOffset));
      if (skip) nextOffset = Math.min(lastOffset + 1, end);
      else {
        const decoded = decodeRecords(bytes, at, header);
        if (decoded instanceof SluiceError)
          throw new SluiceError(
            "SLUICE_CORRUPT",
            `${this.name}: batch at offset ${header.baseOffset}: ${decoded.message}`,
            { cause: decoded },
          );
        for (const r of decoded) {
          if (r.offset < from) continue;
          if (r.offset >= end || records.length >= maxRecords) break;
          records.push(make(r.offset, r.timestamp, r.key, r.value, r.headers));
          nextOffset = r.offset + 1;
        }
        if (records.length < maxRecords) nextOffset = Math.min(lastOffset + 1, end);
      }
      at += header.sizeBytes;
    }
    return { records, nextOffset };
  }

  /**
   * Resolves once the high watermark (read_committed: the last stable offset) passes `offset`,
   * on abort, or when the log closes.
   */
  async waitForRecords(
    offset: number,
    signal?: AbortSignal,
    isolation: IsolationLevel = "read_uncommitted",
  ): Promise<void> {
    if (signal?.aborted === true) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        cancel();
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const cancel = this.whenRecords(offset, isolation, done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /**
   * Calls `wake` once the high watermark (read_committed: the last stable offset) passes
   * `offset`, or when the log closes (at once if so already). Returns a cancel function: a
   * consumer waiting on several partitions cancels the others when one wakes it.
   */
  whenRecords(offset: number, isolation: IsolationLevel, wake: () => void): () => void {
    let waiting = true;
    const check = (): void => {
      if (!waiting) return;
      if (this.hasRecordsFor(offset, isolation)) {
        waiting = false;
        wake();
      } else this.waiters.push(check);
    };
    check();
    return () => {
      waiting = false;
    };
  }

  /**
   * Whether a reader at `offset` has records to read: the high watermark (read_committed: the
   * last stable offset) is past it. True once the log is closed too, so nobody waits on it.
   */
  hasRecordsFor(offset: number, isolation: IsolationLevel): boolean {
    const end = isolation === "read_committed" ? this.lastStableOffset : this.acknowledgedEnd;
    return end > offset || this.log.isClosed;
  }

  /**
   * Calls `wake` at every advance of the high watermark and when the log closes, until
   * `unwatch(wake)`. A consumer that waits at the record rate registers one function it keeps,
   * so a wait costs no closure or cancel function per partition (see `whenRecords`).
   */
  watch(wake: () => void): void {
    this.watchers.add(wake);
  }

  unwatch(wake: () => void): void {
    this.watchers.delete(wake);
  }

  offsetForTimestamp(timestampMs: number): number {
    const found = this.log.offsetForTimestamp(timestampMs);
    return found === undefined || found >= this.acknowledgedEnd ? this.acknowledgedEnd : found;
  }

  async deleteRecordsBefore(offset: number): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.acknowledgedEnd)
      throw new TopicError(
        "OFFSET_OUT_OF_RANGE",
        `beforeOffset: expected an offset from 0 to ${this.acknowledgedEnd}, got ${offset}`,
        "beforeOffset",
      );
    await this.log.deleteRecordsBefore(offset);
  }

  /** Makes everything appended durable now. */
  flush(): Promise<void> {
    return this.log.flush();
  }

  async close(): Promise<void> {
    await this.log.close();
    this.wakeAll();
  }

  kill(): void {
    this.log.kill();
    this.wakeAll();
  }

  private wakeAll(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
    for (const wake of this.watchers) wake();
  }
}
