import { SluiceError, asError } from "../../errors/index.js";
import {
  type AppendResult,
  type BatchHeader,
  type FileSystem,
  type FsyncPolicy,
  type Log,
  type LogRecord,
  MAX_DECOMPRESSED_BATCH_BYTES,
  checkBatch,
  decodeRecords,
  openLog,
  readBatchHeader,
} from "../../engine/index.js";
import type { MetricsRegistry } from "../../observability/index.js";
import type { Clock } from "../../time/index.js";
import { ProducerStateTable } from "./producer-state.js";
import type { TopicConfig } from "./topic-admin.js";
import { logOptionsFor } from "./topic-config.js";
import { TopicError } from "./topic-error.js";

export interface PartitionLogOptions {
  readonly clock: Clock;
  readonly fsync: FsyncPolicy;
  readonly metrics: MetricsRegistry;
  readonly fs?: FileSystem;
}

/** Bytes of a batch beyond its records that Kafka does not count against max.message.bytes. */
const BATCH_OVERHEAD_BYTES = 61;

/**
 * One partition of a topic: one engine log of Kafka RecordBatch v2, the idempotent producers'
 * sequence table, and the high watermark readers stop at: the end of what was acknowledged,
 * so under fsync "always" a consumer never sees a record that a crash could still take away.
 */
export class PartitionLog {
  private readonly producers = new ProducerStateTable();
  private acknowledgedEnd: number;
  private waiters: Array<() => void> = [];
  private pending = 0;

  private constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: Log,
    private config: TopicConfig,
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
    const log = await openLog(dir, {
      ...logOptionsFor(config),
      fsync: options.fsync,
      clock: options.clock,
      metrics: options.metrics,
      name: `${topic}-${partition}`,
      ...(options.fs === undefined ? {} : { fs: options.fs }),
    });
    const p = new PartitionLog(topic, partition, log, config);
    try {
      p.rebuildProducerState();
    } catch (error) {
      await log.close();
      throw error;
    }
    return p;
  }

  /**
   * Idempotence survives a restart for producers whose batches are in the active segment (the
   * retry window is seconds, a segment holds far more); older producer state is forgotten, as
   * Kafka forgets producers past its expiration time.
   */
  private rebuildProducerState(): void {
    const segments = this.log.segmentInfos();
    let offset = Math.max(this.log.logStartOffset, segments[segments.length - 1]?.baseOffset ?? 0);
    while (offset < this.log.logEndOffset) {
      const bytes = this.log.readBatches(offset, 4 * 1024 * 1024);
      if (bytes.length === 0) break;
      for (let at = 0; at < bytes.length;) {
        const header = readBatchHeader(bytes, at) as BatchHeader;
        const lastOffset = header.baseOffset + header.lastOffsetDelta;
        this.producers.record(header, {
          baseOffset: header.baseOffset,
          lastOffset,
          maxTimestamp: header.maxTimestamp,
        });
        offset = lastOffset + 1;
        at += header.sizeBytes;
      }
    }
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

  get sizeBytes(): number {
    return this.log.sizeBytes;
  }

  updateConfig(config: TopicConfig): void {
    this.config = config;
  }

  /**
   * Appends one encoded batch as given (no re-encoding). With `verify` (batches from outside
   * this process) the records are decoded first with a bounded decompression, so a corrupt
   * batch or a decompression bomb is refused before it reaches the disk.
   */
  append(batch: Buffer, verify: boolean): Promise<AppendResult> {
    try {
      const header = checkBatch(batch, 0);
      if (header instanceof SluiceError)
        throw new TopicError("CORRUPT_MESSAGE", `batch: ${header.message}`, "batch");
      if (header.sizeBytes - BATCH_OVERHEAD_BYTES > this.config.maxMessageBytes)
        throw new TopicError(
          "MESSAGE_TOO_LARGE",
          `batch: ${header.sizeBytes} bytes is over maxMessageBytes ${this.config.maxMessageBytes} of topic ${this.topic}`,
          "batch",
          { sizeBytes: header.sizeBytes, maxMessageBytes: this.config.maxMessageBytes },
        );
      if (verify) this.verifyRecords(batch, header);
      const check = this.producers.check(header, this.name);
      if (check.kind === "duplicate") return this.whenAcknowledged(check.result);
      const baseOffset = this.log.logEndOffset;
      const appended = this.log.appendRawBatch(batch);
      if (this.log.logEndOffset === baseOffset) return appended; // refused before writing
      const result: AppendResult = {
        baseOffset,
        lastOffset: baseOffset + header.lastOffsetDelta,
        maxTimestamp: header.maxTimestamp,
      };
      this.producers.record(header, result);
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
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  private verifyRecords(batch: Buffer, header: BatchHeader): void {
    const records = decodeRecords(batch, 0, header, MAX_DECOMPRESSED_BATCH_BYTES);
    if (records instanceof SluiceError)
      throw new TopicError("CORRUPT_MESSAGE", `batch: ${records.message}`, "batch", {
        ...records.details,
      });
    if (records.length !== header.recordCount)
      throw new TopicError("CORRUPT_MESSAGE", "batch: record count does not match", "batch");
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
  }

  /** Records from `offset` up to the high watermark. */
  read(offset: number, maxRecords: number, maxBytes: number): LogRecord[] {
    const end = this.acknowledgedEnd;
    if (offset >= end) return [];
    let from = offset;
    if (from < this.log.logStartOffset) from = this.log.logStartOffset;
    const records = this.log.read(from, { maxRecords, maxBytes });
    let keep = records.length;
    while (keep > 0 && records[keep - 1]!.offset >= end) keep--;
    return keep === records.length ? records : records.slice(0, keep);
  }

  /** Resolves once the high watermark passes `offset`, on abort, or when the log closes. */
  waitForRecords(offset: number, signal?: AbortSignal): Promise<void> {
    if (this.acknowledgedEnd > offset || this.log.isClosed || signal?.aborted === true)
      return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener("abort", done, { once: true });
    });
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
  }
}
