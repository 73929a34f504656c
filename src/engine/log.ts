import { basename, join } from "node:path";
import { SluiceError, asError, invalid } from "../errors/index.js";
import {
  type Counter,
  type Gauge,
  type LatencyHistogram,
  MetricsRegistry,
} from "../observability/index.js";
import { type Clock, type Timer, systemClock } from "../time/index.js";
import { type CompactableLog, type CompactionMark, compactLog } from "./compactor.js";
import { DirLock } from "./dir-lock.js";
import type { FaultSeams } from "./fault-seams.js";
import { type FileSystem, makeDirectory, nodeFileSystem } from "./file-system.js";
import {
  type LogOptions,
  type ReconfigurableLogOptions,
  type ResolvedLogOptions,
  resolveLogOptions,
} from "./log-options.js";
import {
  type BatchHeader,
  type BatchProducer,
  batchFits,
  checkBatch,
  emptyRecordView,
  logRecord,
  type RecordFactory,
  type RecordVisitor,
  encodeBatch,
  readBatchHeader,
  visitRecords,
} from "./record-batch.js";
import type { LogRecord, RecordInput } from "./record.js";
import { LOG_START_FILE, RECOVERY_POINT_FILE, loadLog } from "./log-loader.js";
import type { RecoveryReport } from "./recovery.js";
import { type BatchKind, type RawBatchTrust, validateProducedBatch } from "./produced-batch.js";
import { type FsyncPlacement, fsyncPlacement } from "./fsync-placement.js";
import { type Preallocation, Segment } from "./segment.js";
import { type BatchRelease, TailCache } from "./tail-cache.js";
import { readInt64 } from "./varint.js";

export { LOG_START_FILE, RECOVERY_POINT_FILE };

export interface AppendResult {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** The largest record timestamp in the batch. */
  readonly maxTimestamp: number;
}

export interface AppendOptions {
  readonly producer?: BatchProducer;
}

export interface ReadOptions {
  /** At most this many records (default 10,000). */
  readonly maxRecords?: number;
  /** About this many bytes of batches; at least one record is returned (default 1 MiB). */
  readonly maxBytes?: number;
  /**
   * Also read records written but not yet durable (under `fsync: "always"`, where reads
   * otherwise stop at the durable end). Only for a writer reading its own records that hands
   * nothing out before its appends resolve.
   */
  readonly includeUnsynced?: boolean;
  /** Stop before this offset (a reader with its own high watermark). */
  readonly endOffset?: number;
}

export interface TailOptions {
  readonly signal?: AbortSignal;
  /** Records fetched per read while catching up (default 1,000). */
  readonly batchRecords?: number;
}

export interface SegmentInfo {
  readonly baseOffset: number;
  readonly nextOffset: number;
  readonly sizeBytes: number;
  readonly maxTimestamp: number;
  readonly file: string;
}

interface DurabilityWaiter {
  readonly lastOffset: number;
  readonly result: AppendResult;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: Error) => void;
}

interface LogMetrics {
  readonly appends: Counter;
  readonly records: Counter;
  readonly bytes: Counter;
  readonly fsyncs: Counter;
  readonly fsyncMs: LatencyHistogram;
  readonly fsyncsOnEventLoop: Counter;
  readonly segments: Gauge;
  readonly failed: Gauge;
}

/**
 * A durable, segmented, append-only log of record batches in Kafka's on-disk format.
 * One writer (enforced by a lock file); reads never wait for writes.
 */
export class Log implements CompactableLog {
  /** What recovery found on open. */
  recovery!: RecoveryReport;
  private segments: Segment[] = [];
  private startOffset = 0;
  private nextOffset = 0;
  private durableOffset = 0;
  private lastTimestamp = -1;
  private state: "open" | "failed" | "closed" = "open";
  private failure: Error | undefined;
  private waiters: DurabilityWaiter[] = [];
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private lastSyncAt = 0;
  private fsyncTimer: Timer | undefined;
  private maintenanceTimer: Timer | undefined;
  private maintenance: Promise<void> | undefined;
  private appendWaiters: Array<() => void> = [];
  private readonly tailCache: TailCache;
  private readonly metrics: LogMetrics;
  private readonly faults: FaultSeams;
  private sealing: Promise<void> = Promise.resolve();
  /** A segment was created since the directory was last synced. */
  private dirDirty = false;
  private retaining: Promise<number> | undefined;
  /** Unlinks of dropped segments' files still running (see dropSegmentsBefore). */
  private removing: Promise<void> = Promise.resolve();
  /** After a failure: the cut of unacknowledged data, and the appends waiting for it. */
  private failing: Promise<void> | undefined;
  private failingWaiters: DurabilityWaiter[] = [];
  /** Set by the compactor while it rewrites sealed segments. */
  compacting = false;
  /** @internal left by the last compaction that ran to its end (see `CompactionMark`). */
  compactionMark: CompactionMark | undefined;

  private constructor(
    readonly dir: string,
    /** Resolved at open; `reconfigure` changes the cleanup and size settings. */
    public options: ResolvedLogOptions,
    readonly fs: FileSystem,
    readonly clock: Clock,
    private readonly lock: DirLock,
    metrics: MetricsRegistry,
    name: string,
    faults: FaultSeams,
    private readonly placement: FsyncPlacement,
  ) {
    this.tailCache = new TailCache(options.tailCacheBytes, options.tailCacheBatches);
    this.lastSyncAt = clock.now();
    this.faults = faults;
    const labels = { log: name };
    this.metrics = {
      appends: metrics.counter("sluice_log_appends_total", "Batches appended", labels),
      records: metrics.counter("sluice_log_records_total", "Records appended", labels),
      bytes: metrics.counter("sluice_log_bytes_total", "Bytes appended", labels),
      fsyncs: metrics.counter("sluice_log_fsyncs_total", "fdatasync calls", labels),
      fsyncMs: metrics.histogram("sluice_log_fsync_ms", "fdatasync latency", labels),
      fsyncsOnEventLoop: metrics.counter(
        "sluice_log_fsyncs_on_event_loop_total",
        "fdatasync calls made on the event loop (one log committing alone on a fast device)",
        labels,
      ),
      segments: metrics.gauge("sluice_log_segments", "Segments in the log", labels),
      failed: metrics.gauge(
        "sluice_log_failed",
        "1 while the log is stopped after an I/O failure (a failed fsync): reopen to recover",
        labels,
      ),
    };
    this.metrics.failed.set(0);
  }

  /** Opens (creating if needed) the log in `dir`, recovering from any crash first. */
  static async open(dir: string, options: LogOptions = {}): Promise<Log> {
    if (typeof dir !== "string" || dir.length === 0) throw invalid("dir", "a directory path", dir);
    const resolved = resolveLogOptions(options);
    const fs = options.fs ?? nodeFileSystem;
    await makeDirectory(fs, dir);
    const lock = await DirLock.acquire(fs, dir);
    const log = new Log(
      dir,
      resolved,
      fs,
      options.clock ?? systemClock,
      lock,
      options.metrics ?? new MetricsRegistry(),
      options.name ?? basename(dir),
      options.faults ?? {},
      options.fsyncPlacement ?? fsyncPlacement,
    );
    try {
      const loaded = loadLog(fs, dir, resolved.indexIntervalBytes);
      log.segments = loaded.segments;
      log.active.preallocation = log.preallocation;
      log.startOffset = loaded.startOffset;
      log.recovery = loaded.report;
      log.nextOffset = log.active.nextOffset;
      log.durableOffset = log.nextOffset;
      for (const s of log.segments) {
        if (s.maxTimestamp > log.lastTimestamp) log.lastTimestamp = s.maxTimestamp;
      }
      log.metrics.segments.set(log.segments.length);
      // Recovery may have cut a torn tail, created the first segment or removed leftovers:
      // make that durable before anything is written over it, or a crash could bring the old
      // bytes back under new ones.
      if (loaded.report.truncatedBytes > 0) await log.active.sync();
      await fs.syncDir(dir);
    } catch (error) {
      for (const s of log.segments) s.close();
      lock.release();
      throw error;
    }
    log.scheduleMaintenance();
    return log;
  }

  // ---------------------------------------------------------------- state

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  /** The first offset that can be read. */
  get logStartOffset(): number {
    return this.startOffset;
  }

  /** The offset the next appended record gets (one past the last record). */
  get logEndOffset(): number {
    return this.nextOffset;
  }

  /**
   * One past the last record readers see: under `fsync: "always"` the durable end (a record is
   * visible once its append can resolve), otherwise the log end.
   */
  get highWatermark(): number {
    return this.options.fsync === "always" ? this.durableOffset : this.nextOffset;
  }

  /** One past the last offset known to be on the device (fsynced). */
  get durableEndOffset(): number {
    return this.durableOffset;
  }

  get isClosed(): boolean {
    return this.state === "closed";
  }

  /** Whether the log stopped after an I/O failure (a failed fsync): reopen it to recover. */
  get hasFailed(): boolean {
    return this.state === "failed";
  }

  get sizeBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.sizeBytes;
    return total;
  }

  /** How many segments the log has (the active one included). */
  get segmentCount(): number {
    return this.segments.length;
  }

  segmentInfos(): SegmentInfo[] {
    return this.segments.map((s) => ({
      baseOffset: s.baseOffset,
      nextOffset: s.nextOffset,
      sizeBytes: s.sizeBytes,
      maxTimestamp: s.maxTimestamp,
      file: s.path(),
    }));
  }

  private ensureWritable(): void {
    if (this.state === "closed")
      throw new SluiceError("SLUICE_CLOSED", `log ${this.dir} is closed`);
    if (this.state === "failed") {
      throw new SluiceError(
        "SLUICE_IO",
        `log ${this.dir} stopped after an I/O failure; reopen it to recover: ${this.failure?.message}`,
        { cause: this.failure },
      );
    }
  }

  // ---------------------------------------------------------------- append

  /**
   * Appends records as one batch. Resolves when the batch is as durable as the log's fsync
   * policy promises; rejects with a SluiceError naming the bad field or the I/O failure.
   */
  append(records: readonly RecordInput[], options: AppendOptions = {}): Promise<AppendResult> {
    let result: AppendResult;
    try {
      result = this.write(records, options);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    if (this.options.fsync !== "always") {
      this.syncIfOverdue();
      return Promise.resolve(result);
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ lastOffset: result.lastOffset, result, resolve, reject });
      void this.groupCommit();
    });
  }

  private validate(records: readonly RecordInput[]): number {
    this.ensureWritable();
    const list: unknown = records;
    if (!Array.isArray(list) || records.length === 0)
      throw invalid("records", "a non-empty array of records", records);
    let previous = this.lastTimestamp;
    const now = Math.max(this.clock.now(), this.lastTimestamp);
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (r === null || typeof r !== "object") throw invalid(`records[${i}]`, "a record object", r);
      if (r.value !== null && !Buffer.isBuffer(r.value))
        throw invalid(`records[${i}].value`, "a Buffer or null", r.value);
      if (r.key !== undefined && r.key !== null && !Buffer.isBuffer(r.key))
        throw invalid(`records[${i}].key`, "a Buffer, null or undefined", r.key);
      let headerBytes = 0;
      if (r.headers !== undefined) {
        const headers: unknown = r.headers;
        if (!Array.isArray(headers))
          throw invalid(`records[${i}].headers`, "an array of { key, value }", r.headers);
        for (const [h, header] of r.headers.entries()) {
          if (typeof header?.key !== "string")
            throw invalid(`records[${i}].headers[${h}].key`, "a string", header?.key);
          if (header.value !== null && !Buffer.isBuffer(header.value))
            throw invalid(`records[${i}].headers[${h}].value`, "a Buffer or null", header.value);
          headerBytes += Buffer.byteLength(header.key) + (header.value?.length ?? 0);
        }
      }
      // Name the part that takes the record past the limit, counting key, value, headers in turn.
      const keyBytes = r.key?.length ?? 0;
      const valueBytes = r.value?.length ?? 0;
      const size = keyBytes + valueBytes + headerBytes;
      if (size > this.options.maxRecordBytes) {
        const part =
          keyBytes > this.options.maxRecordBytes
            ? "key"
            : keyBytes + valueBytes > this.options.maxRecordBytes
              ? "value"
              : "headers";
        throw invalid(
          `records[${i}].${part}`,
          `a record of at most ${this.options.maxRecordBytes} bytes (key + value + headers)`,
          `${size} bytes`,
        );
      }
      if (r.timestamp !== undefined) {
        if (!Number.isSafeInteger(r.timestamp) || r.timestamp < 0)
          throw invalid(`records[${i}].timestamp`, "milliseconds since the epoch", r.timestamp);
        if (r.timestamp < previous)
          throw invalid(
            `records[${i}].timestamp`,
            `a timestamp >= ${previous} (timestamps never go backwards in a log)`,
            r.timestamp,
          );
        previous = r.timestamp;
      } else previous = Math.max(previous, now);
    }
    return now;
  }

  private write(records: readonly RecordInput[], options: AppendOptions): AppendResult {
    const now = this.validate(records);
    const baseOffset = this.nextOffset;
    const compression = this.options.compressionId;
    const batch = encodeBatch(
      records,
      options.producer === undefined
        ? { baseOffset, defaultTimestamp: now, compression }
        : { baseOffset, defaultTimestamp: now, compression, producer: options.producer },
    );
    if (batch.length > this.options.maxBatchBytes)
      throw invalid(
        "records",
        `a batch of at most ${this.options.maxBatchBytes} bytes`,
        `${batch.length} bytes`,
      );
    const maxTimestamp = readInt64(batch, 35);
    return this.writeBatch(
      batch,
      baseOffset,
      baseOffset + records.length - 1,
      maxTimestamp,
      records.length,
    );
  }

  /**
   * Checks a producer's RecordBatch v2 as `appendRawBatch` would (see `validateProducedBatch`),
   * CRC and records included, without appending it; returns its header. A caller that must
   * refuse a bad batch before doing anything else (Kafka checks a batch before its producer's
   * sequence) calls this, then appends with trust "checked" so the records are not read twice.
   */
  checkProducedBatch(batch: Buffer, kind: BatchKind = "data"): BatchHeader {
    return validateProducedBatch(batch, this.options, kind, true);
  }

  /**
   * Appends an already encoded RecordBatch v2 (as a Kafka producer sends it): the batch is
   * validated whole (see `validateProducedBatch`), given the next offsets, and written without
   * re-encoding. `kind` widens what is accepted: "transactional" for a producer's batch inside a
   * transaction the caller has checked, "control" for a transaction marker. `trust`:
   * "unchecked" checks everything; "checked": the caller ran `checkProducedBatch` on these very
   * bytes, so only the header is checked again; "encoded-here": the batch was built in this
   * process by `encodeBatch` or a `RecordBatchBuilder` (an embedded producer) and is handed
   * over: its header is checked, its CRC and records are trusted, and the log keeps the buffer
   * itself (the caller must not touch it again) instead of a copy. With "encoded-here", a
   * `release` callback gets the buffer back once the log no longer holds it, if no reader was
   * ever given a view of it (see `TailCache`): the caller may then build a later batch in it.
   */
  appendRawBatch(
    batch: Buffer,
    kind: BatchKind = "data",
    trust: RawBatchTrust = "unchecked",
    release?: BatchRelease,
  ): Promise<AppendResult> {
    try {
      this.ensureWritable();
      // Producers' clocks differ, so their timestamps may go back; readers use the max.
      const header = validateProducedBatch(batch, this.options, kind, trust === "unchecked");
      // A caller's buffer may be reused once the call returns; one built here is handed over.
      const own = trust === "encoded-here" ? batch : Buffer.from(batch);
      const baseOffset = this.nextOffset;
      own.writeInt32BE(Math.floor(baseOffset / 4294967296), 0);
      own.writeUInt32BE(baseOffset >>> 0, 4);
      const result = this.writeBatch(
        own,
        baseOffset,
        baseOffset + header.lastOffsetDelta,
        header.maxTimestamp,
        header.recordCount,
        trust === "encoded-here" ? release : undefined,
      );
      if (this.options.fsync !== "always") {
        this.syncIfOverdue();
        return Promise.resolve(result);
      }
      return new Promise((resolve, reject) => {
        this.waiters.push({ lastOffset: result.lastOffset, result, resolve, reject });
        void this.groupCommit();
      });
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  private writeBatch(
    batch: Buffer,
    baseOffset: number,
    lastOffset: number,
    maxTimestamp: number,
    recordCount: number,
    release?: BatchRelease,
  ): AppendResult {
    this.maybeRoll(batch.length);
    const segment = this.active;
    const position = segment.sizeBytes;
    try {
      this.faults.beforeWrite?.(segment.path(), batch.length);
      segment.append(batch, baseOffset, lastOffset, maxTimestamp, this.clock.now());
      this.faults.afterWrite?.(segment.path(), batch.length);
    } catch (error) {
      // Undo a partial write so the file never holds a batch nobody was told about.
      try {
        segment.truncate(position);
        segment.nextOffset = baseOffset;
      } catch (truncateError) {
        this.fail(truncateError as Error);
      }
      throw error;
    }
    this.nextOffset = lastOffset + 1;
    if (maxTimestamp > this.lastTimestamp) this.lastTimestamp = maxTimestamp;
    this.tailCache.add(batch, baseOffset, lastOffset, release);
    this.metrics.appends.inc();
    this.metrics.records.inc(recordCount);
    this.metrics.bytes.inc(batch.length);
    if (this.options.fsync !== "always") this.wakeReaders();
    return { baseOffset, lastOffset, maxTimestamp };
  }

  /** Wakes readers waiting for the high watermark to move. */
  private wakeReaders(): void {
    if (this.appendWaiters.length === 0) return;
    const waiting = this.appendWaiters;
    this.appendWaiters = [];
    for (const wake of waiting) wake();
  }

  private maybeRoll(incomingBytes: number): void {
    const active = this.active;
    if (active.isEmpty) return;
    const tooBig = active.sizeBytes + incomingBytes > this.options.segmentBytes;
    const tooOld =
      active.firstAppendAtMs !== undefined &&
      this.clock.now() - active.firstAppendAtMs >= this.options.segmentMs;
    if (tooBig || tooOld) this.roll();
  }

  /** Zeros ahead of the appends under `fsync: "always"`, where each group pays a commit. */
  private get preallocation(): Preallocation | undefined {
    if (this.options.fsync !== "always") return undefined;
    const limitBytes = this.options.segmentBytes;
    return { maxAheadBytes: Math.min(MAX_PREALLOCATION_BYTES, limitBytes), limitBytes };
  }

  private newSegment(baseOffset: number): Segment {
    const segment = Segment.create(this.fs, this.dir, baseOffset, this.options.indexIntervalBytes);
    segment.preallocation = this.preallocation;
    return segment;
  }

  /** Seals the active segment and starts a new one at the log end offset. */
  roll(): void {
    this.ensureWritable();
    const sealed = this.active;
    if (sealed.isEmpty) return;
    sealed.trimPreallocation();
    this.segments.push(this.newSegment(this.nextOffset));
    this.dirDirty = true; // its entry must be durable before an append in it is acknowledged
    this.tailCache.clear();
    this.metrics.segments.set(this.segments.length);
    // Seals run one after another so the recovery point only moves over synced segments.
    this.sealing = this.sealing.then(() => this.sealInBackground(sealed));
  }

  /** Syncs a sealed segment and its indexes, then moves the recovery point past it. */
  private async sealInBackground(sealed: Segment): Promise<void> {
    if (sealed.deleted) return;
    try {
      await this.syncSegment(sealed);
      // A killed log does nothing more: a dead process writes no files.
      if (this.state === "closed") return;
      await sealed.writeIndexes();
      if (this.state === "open" && this.segments.includes(sealed)) {
        const recoveryPoint = sealed.nextOffset;
        await this.fs.writeFileAtomic(
          join(this.dir, RECOVERY_POINT_FILE),
          Buffer.from(String(recoveryPoint)),
        );
      }
    } catch (error) {
      if (this.state === "open") this.fail(error as Error);
    }
  }

  // ---------------------------------------------------------------- durability

  private async syncDirectory(): Promise<void> {
    try {
      await this.fs.syncDir(this.dir);
    } catch (error) {
      this.dirDirty = true;
      throw error;
    }
  }

  private async syncSegment(segment: Segment, onEventLoop = false): Promise<void> {
    const path = segment.path();
    await this.faults.beforeFsync?.(path);
    const started = performance.now();
    const syncing = segment.sync({ onEventLoop });
    if (onEventLoop) {
      this.placement.tookMs(performance.now() - started);
      this.metrics.fsyncsOnEventLoop.inc();
    }
    await syncing;
    this.metrics.fsyncs.inc();
    this.metrics.fsyncMs.recordMs(performance.now() - started);
    await this.faults.afterFsync?.(path);
  }

  /**
   * Under `{ intervalMs }` the fsync timer only runs when the event loop gets to timers; a
   * writer that never yields (appends resolve at once) would starve it, so appends catch up.
   */
  private syncIfOverdue(): void {
    const policy = this.options.fsync;
    if (typeof policy !== "object") return;
    if (this.fsyncTimer === undefined) this.scheduleFsync();
    if (this.syncing !== undefined) return;
    if (this.clock.now() - this.lastSyncAt >= policy.intervalMs) void this.groupCommit();
  }

  /** Syncs every dirty segment; concurrent callers share the fsync in flight or the next one. */
  private groupCommit(): Promise<void> {
    if (this.syncing !== undefined) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.lastSyncAt = this.clock.now();
    this.syncing = (async () => {
      try {
        do {
          this.syncAgain = false;
          const upTo = this.nextOffset;
          const dirty = this.segments.filter((s) => s.dirty);
          const onEventLoop =
            this.options.fsync === "always" &&
            dirty.length === 1 &&
            !this.dirDirty &&
            this.placement.onEventLoop(this);
          const syncs = dirty.map((s) => this.syncSegment(s, onEventLoop));
          for (const s of this.segments)
            if (!s.dirty && s.syncing !== undefined) syncs.push(s.syncing);
          if (this.dirDirty) {
            this.dirDirty = false;
            syncs.push(this.syncDirectory());
          }
          await Promise.all(syncs);
          this.durableOffset = Math.max(this.durableOffset, upTo);
          this.releaseWaiters();
          if (this.options.fsync === "always") {
            this.wakeReaders();
            // The callers just released append their next records in their continuations,
            // handed to the log at the end of an event-loop turn, some a few turns later (a
            // consumer's delete follows its receive): wait while they keep coming, so they share
            // the next fdatasync instead of the one after it (a turn costs far less than one).
            for (let turns = 0, seen = -1; turns < GROUP_COMMIT_MAX_TURNS; turns++) {
              if (this.nextOffset === seen) break;
              seen = this.nextOffset;
              await afterNextTurn();
              if (this.state !== "open") break;
            }
            if (this.state !== "open") break;
          }
        } while (this.syncAgain || this.waiters.length > 0);
      } catch (error) {
        this.fail(error as Error);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private releaseWaiters(): void {
    let released = 0;
    while (
      released < this.waiters.length &&
      this.waiters[released]!.lastOffset < this.durableOffset
    ) {
      const waiter = this.waiters[released]!;
      waiter.resolve(waiter.result);
      released++;
    }
    if (released > 0) this.waiters.splice(0, released);
  }

  /** Makes everything appended so far durable now, whatever the policy. */
  async flush(): Promise<void> {
    this.ensureWritable();
    await this.groupCommit();
    if (this.state === "failed") this.ensureWritable();
  }

  /**
   * After a failed write or fsync the page cache may have dropped data (fsyncgate): stop
   * accepting appends, reject every waiter, and let a reopen re-verify the files.
   */
  private fail(error: Error): void {
    if (this.state !== "open") return;
    this.state = "failed";
    this.metrics.failed.set(1);
    this.failure = error;
    this.tailCache.clear();
    const wrapped =
      error instanceof SluiceError
        ? error
        : new SluiceError("SLUICE_IO", error.message, { cause: error });
    this.failingWaiters = this.waiters;
    this.waiters = [];
    // Waiters hear of the failure only once what they wrote is cut away for good.
    this.failing = this.discardUnacknowledged().finally(() => {
      for (const w of this.failingWaiters.splice(0)) w.reject(wrapped);
    });
  }

  /**
   * Cuts everything from the first offset whose append did not resolve, and makes the cut
   * durable, so no append rejected by a failure is ever read, before or after a reopen (it may
   * have reached the device: some of its segments synced before another sync failed).
   */
  private async discardUnacknowledged(): Promise<void> {
    const keep = this.durableOffset;
    try {
      let removed = false;
      while (this.segments.length > 1 && this.active.baseOffset >= keep) {
        this.segments.pop()!.delete();
        removed = true;
      }
      const last = this.active;
      if (last.nextOffset > keep) {
        const position = last.positionFor(keep);
        last.truncate(position);
        last.nextOffset = keep;
        last.timeIndex.truncateToValue(keep);
      }
      this.nextOffset = keep;
      this.metrics.segments.set(this.segments.length);
      await last.sync();
      if (removed) await this.fs.syncDir(this.dir);
    } catch {
      // The disk refuses even that: the reopen's recovery will judge what it finds.
    }
  }

  /**
   * Arms the interval fsync once something is written and keeps it armed while writes keep
   * coming: an idle log holds no timer, so a thousand idle queues cost no CPU.
   */
  private scheduleFsync(): void {
    const policy = this.options.fsync;
    if (typeof policy !== "object") return;
    this.fsyncTimer = this.clock.setTimer(policy.intervalMs, () => {
      if (this.state !== "open") return;
      const dirty = this.dirDirty || this.segments.some((s) => s.dirty);
      if (!dirty) {
        this.fsyncTimer = undefined;
        return;
      }
      void this.groupCommit().finally(() => {
        if (this.state === "open") this.scheduleFsync();
      });
    });
  }

  // ---------------------------------------------------------------- read

  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  private checkReadOffset(offset: number, field: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw invalid(field, "a non-negative integer offset", offset);
    if (this.state === "closed")
      throw new SluiceError("SLUICE_CLOSED", `log ${this.dir} is closed`);
    if (offset < this.startOffset) {
      throw new SluiceError(
        "SLUICE_OFFSET_OUT_OF_RANGE",
        `offset ${offset} is below the log start offset ${this.startOffset}`,
        {
          field,
          details: { offset, logStartOffset: this.startOffset, logEndOffset: this.nextOffset },
        },
      );
    }
  }

  /**
   * Visits whole batches from the one holding `offset`, until `visit` returns false or about
   * `maxBytes` were visited. Batches come from the tail cache when hot, else from the file.
   */
  private forEachBatch(
    offset: number,
    maxBytes: number,
    limit: number,
    visit: (buf: Buffer, at: number, header: BatchHeader) => boolean,
  ): void {
    let from = offset;
    let visited = 0;
    for (let index = this.segmentIndexFor(offset); index < this.segments.length; index++) {
      const segment = this.segments[index]!;
      if (from >= segment.nextOffset) continue;
      const cached =
        segment === this.active ? this.tailCache.from(from, maxBytes - visited) : undefined;
      if (cached !== undefined) {
        let served = false;
        for (const buf of cached) {
          served = true;
          const header = readBatchHeader(buf, 0) as BatchHeader;
          if (header.baseOffset >= limit) return;
          visited += buf.length;
          if (!visit(buf, 0, header) || visited >= maxBytes) return;
          from = header.baseOffset + header.lastOffsetDelta + 1;
        }
        if (served) continue;
      }
      let position = segment.positionFor(from);
      // Start small and double: a reader after a few records pays for a few kilobytes, a
      // sequential scan soon reads in 4 MiB chunks.
      let chunkBytes = 16 * 1024;
      while (position < segment.sizeBytes) {
        const first = segment.headerAt(position);
        if (first instanceof SluiceError) throw segment.corruptAt(position, first);
        const chunk = segment.readBytes(
          position,
          Math.max(first.sizeBytes, Math.min(maxBytes - visited, chunkBytes)),
        );
        chunkBytes = Math.min(chunkBytes * 2, 4 * 1024 * 1024);
        let at = 0;
        while (at < chunk.length) {
          if (at > 0 && !batchFits(chunk, at)) break; // continues in the next chunk
          const header = checkBatch(chunk, at);
          if (header instanceof SluiceError) throw segment.corruptAt(position + at, header);
          if (header.baseOffset >= limit) return;
          visited += header.sizeBytes;
          if (!visit(chunk, at, header) || visited >= maxBytes) return;
          from = header.baseOffset + header.lastOffsetDelta + 1;
          at += header.sizeBytes;
        }
        position += at;
      }
    }
  }

  /**
   * Reads records from `offset` on (skipping offsets removed by compaction). `make` builds each
   * record (the engine's `LogRecord` by default), so a reader gets its own objects in one pass.
   */
  read(offset: number, options?: ReadOptions): LogRecord[];
  read<T>(offset: number, options: ReadOptions, make: RecordFactory<T>): T[];
  read<T>(offset: number, options: ReadOptions = {}, make?: RecordFactory<T>): T[] {
    const out: T[] = [];
    const build = make ?? (logRecord as unknown as RecordFactory<T>);
    this.scan(offset, options, (view) => {
      const { buf, keyStart, valueStart } = view;
      out.push(
        build(
          view.offset,
          view.timestamp,
          keyStart < 0 ? null : buf.subarray(keyStart, view.keyEnd),
          valueStart < 0 ? null : buf.subarray(valueStart, view.valueEnd),
          view.headers,
        ),
      );
      return true;
    });
    return out;
  }

  /**
   * `read` for readers that decode records themselves: visits each record as a view into the
   * batch bytes (no object per record), until `visit` returns false or the limits of `options`
   * are reached. Returns how many records were visited.
   */
  scan(offset: number, options: ReadOptions, visit: RecordVisitor): number {
    this.checkReadOffset(offset, "offset");
    const maxRecords = options.maxRecords ?? 10_000;
    const maxBytes = options.maxBytes ?? 1024 * 1024;
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 1)
      throw invalid("maxRecords", "an integer >= 1", maxRecords);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      throw invalid("maxBytes", "an integer >= 1", maxBytes);
    const visible = options.includeUnsynced === true ? this.nextOffset : this.highWatermark;
    const limit = Math.min(visible, options.endOffset ?? visible);
    if (offset >= limit) return 0;
    const range = { fromOffset: offset, endOffset: limit };
    const view = emptyRecordView();
    let visited = 0;
    let more = true;
    const counted: RecordVisitor = (record) => {
      visited++;
      more = visit(record) && visited < maxRecords;
      return more;
    };
    this.forEachBatch(offset, maxBytes, limit, (buf, at, header) => {
      const error = visitRecords(buf, at, header, counted, range, undefined, view);
      if (error !== undefined)
        throw new SluiceError(
          "SLUICE_CORRUPT",
          `batch at offset ${header.baseOffset}: ${error.message}`,
          { cause: error },
        );
      return more;
    });
    return visited;
  }

  /**
   * Whole batches from the one holding `offset`, as bytes (for serving fetches as-is). At most
   * `maxBytes`, except that the first batch always goes whole, as Kafka's fetch does, so that a
   * reader can make progress past a batch bigger than its limit.
   */
  readBatches(offset: number, maxBytes = 1024 * 1024): Buffer {
    this.checkReadOffset(offset, "offset");
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      throw invalid("maxBytes", "an integer >= 1", maxBytes);
    const parts: Buffer[] = [];
    let total = 0;
    const limit = this.highWatermark;
    if (offset >= limit) return Buffer.alloc(0);
    this.forEachBatch(offset, maxBytes, limit, (buf, at, header) => {
      if (parts.length > 0 && total + header.sizeBytes > maxBytes) return false;
      parts.push(buf.subarray(at, at + header.sizeBytes));
      total += header.sizeBytes;
      return true;
    });
    return Buffer.concat(parts);
  }

  /** The first offset whose record timestamp is >= `timestampMs`, or undefined if none. */
  offsetForTimestamp(timestampMs: number): number | undefined {
    if (!Number.isFinite(timestampMs))
      throw invalid("timestampMs", "a number of milliseconds", timestampMs);
    let lo = 0;
    let hi = this.segments.length - 1;
    let index = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.maxTimestamp >= timestampMs) {
        index = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    // As Kafka's LogSegment.findOffsetByTimestamp: from the later of the time index's position
    // and the log start's, every batch of the segment that reaches the time is searched, then
    // the next segments. A batch with no match at or after the log start (one that straddles
    // it, or one compaction emptied) is passed over, not the end of the search.
    const start = this.startOffset;
    const end = this.highWatermark;
    for (; index >= 0 && index < this.segments.length; index++) {
      const segment = this.segments[index]!;
      let position = segment.positionForTimestamp(timestampMs);
      if (start > segment.baseOffset) position = Math.max(position, segment.positionFor(start));
      while (position < segment.sizeBytes) {
        const header = segment.headerAt(position);
        if (header instanceof SluiceError) throw segment.corruptAt(position, header);
        if (header.baseOffset >= end) return undefined;
        if (header.maxTimestamp >= timestampMs) {
          const { records } = segment.batchAt(position);
          const hit = records.find((r) => r.timestamp >= timestampMs && r.offset >= start);
          if (hit !== undefined) return hit.offset < end ? hit.offset : undefined;
        }
        position += header.sizeBytes;
      }
    }
    return undefined;
  }

  /** Resolves once the high watermark passes `offset`, or the log closes, or `signal` aborts. */
  waitForAppend(offset: number, signal?: AbortSignal): Promise<void> {
    if (this.highWatermark > offset || this.state === "closed" || signal?.aborted === true)
      return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.appendWaiters.push(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Follows the log from `offset`: yields every record, then waits for new ones, until aborted or closed. */
  async *tail(
    offset: number,
    options: TailOptions = {},
  ): AsyncGenerator<LogRecord, void, undefined> {
    let next = offset;
    const batchRecords = options.batchRecords ?? 1000;
    while (this.state !== "closed" && options.signal?.aborted !== true) {
      if (next < this.startOffset) next = this.startOffset;
      const end = this.highWatermark;
      const records = next < end ? this.read(next, { maxRecords: batchRecords }) : [];
      if (records.length > 0) {
        for (const r of records) yield r;
        next = records[records.length - 1]!.offset + 1;
        continue;
      }
      if (next < end) next = end; // compaction left a gap at the end
      await this.waitForAppend(next, options.signal);
    }
  }

  // ---------------------------------------------------------------- retention

  /** Makes `offset` the new log start (Kafka's DeleteRecords); segments wholly before it go. */
  async deleteRecordsBefore(offset: number): Promise<void> {
    this.ensureWritable();
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.nextOffset)
      throw invalid("offset", `an offset between 0 and ${this.nextOffset}`, offset);
    if (offset <= this.startOffset) return;
    this.startOffset = offset;
    await this.dropSegmentsBefore(offset);
  }

  /**
   * Writes the new log start durably, then unlinks the segments wholly below it. In that order
   * a crash can leave only segments below the checkpoint, which recovery removes; never a hole.
   * The segments leave the log at once; their files are unlinked off the event loop (freeing
   * megabytes of blocks is slow in the kernel), and `close` waits for that.
   */
  private async dropSegmentsBefore(offset: number): Promise<number> {
    await this.fs.writeFileAtomic(join(this.dir, LOG_START_FILE), Buffer.from(String(offset)));
    await this.sealing; // a segment is never removed while its seal is writing its indexes
    if (this.state === "closed") return 0; // killed meanwhile: a dead process unlinks nothing
    const removals: Promise<void>[] = [];
    while (this.segments.length > 1 && this.segments[0]!.nextOffset <= offset && !this.compacting)
      removals.push(this.segments.shift()!.remove());
    // Compaction may have emptied the offsets up to the next segment: nothing below it is left.
    this.startOffset = Math.max(
      this.startOffset,
      Math.min(this.segments[0]!.baseOffset, this.nextOffset),
    );
    this.metrics.segments.set(this.segments.length);
    if (removals.length === 0) return 0;
    const removed = Promise.all([this.removing, ...removals]).then(() => undefined);
    this.removing = removed.catch(() => undefined);
    await removed;
    return removals.length;
  }

  /**
   * Applies new cleanup and size settings (a topic's altered config) from the next append,
   * retention or compaction on; the ones not given go back to their defaults, as at open.
   * Refused with a typed error naming the setting, leaving the current ones.
   */
  reconfigure(changes: ReconfigurableLogOptions): void {
    const fresh = resolveLogOptions(changes);
    this.options = {
      ...this.options,
      segmentBytes: fresh.segmentBytes,
      maxRecordBytes: fresh.maxRecordBytes,
      maxBatchBytes: fresh.maxBatchBytes,
      cleanupPolicy: fresh.cleanupPolicy,
      retentionMs: fresh.retentionMs,
      retentionBytes: fresh.retentionBytes,
      deleteRetentionMs: fresh.deleteRetentionMs,
      minCompactionLagMs: fresh.minCompactionLagMs,
    };
    this.active.preallocation = this.preallocation;
  }

  /** Deletes whole segments past `retentionMs` or beyond `retentionBytes`; resolves to how many. */
  enforceRetention(): Promise<number> {
    try {
      this.ensureWritable();
    } catch (error) {
      return Promise.reject(asError(error));
    }
    // One pass at a time: a second caller shares the pass in flight.
    this.retaining ??= this.retain().finally(() => (this.retaining = undefined));
    return this.retaining;
  }

  private async retain(): Promise<number> {
    if (!this.options.cleanupPolicy.includes("delete") || this.compacting) return 0;
    const { retentionMs, retentionBytes } = this.options;
    const cutoff = retentionMs === undefined ? undefined : this.clock.now() - retentionMs;
    const expired = (s: Segment): boolean =>
      cutoff !== undefined && !s.isEmpty && s.maxTimestamp < cutoff;
    // A wholly expired log rolls so its last segment can go too (Kafka does the same).
    if (expired(this.active)) this.roll();
    let size = this.sizeBytes;
    let count = 0;
    while (count < this.segments.length - 1) {
      const oldest = this.segments[count]!;
      const overSize = retentionBytes !== undefined && size - oldest.sizeBytes >= retentionBytes;
      if (!expired(oldest) && !overSize) break;
      size -= oldest.sizeBytes;
      count++;
    }
    if (count === 0) return 0;
    const newStart = this.segments[count]!.baseOffset;
    if (newStart > this.startOffset) this.startOffset = newStart;
    return this.dropSegmentsBefore(newStart);
  }

  private scheduleMaintenance(): void {
    if (this.options.maintenanceIntervalMs === 0) return;
    this.maintenanceTimer = this.clock.setTimer(this.options.maintenanceIntervalMs, () => {
      if (this.state !== "open") return;
      this.maintenance = this.runMaintenance().finally(() => {
        this.maintenance = undefined;
        if (this.state === "open") this.scheduleMaintenance();
      });
    });
  }

  private async runMaintenance(): Promise<void> {
    try {
      await this.enforceRetention();
      if (this.options.cleanupPolicy.includes("compact")) {
        await compactLog(this);
      }
    } catch (error) {
      if (this.state === "open") this.fail(error as Error);
    }
  }

  // ---------------------------------------------------------------- compaction support

  /**
   * @internal settles once every segment rolled so far is sealed (synced, indexes written): the
   * compactor waits for it, so that it never closes a segment whose seal is still syncing it.
   */
  get seals(): Promise<void> {
    return this.sealing;
  }

  /** @internal the compactor's view: sealed segments (all but the active one). */
  sealedSegments(): Segment[] {
    return this.segments.slice(0, -1);
  }

  /** @internal swaps a rewritten segment in place of the one it replaces. */
  replaceSegment(old: Segment, replacement: Segment): void {
    const at = this.segments.indexOf(old);
    if (at < 0)
      throw new SluiceError("SLUICE_INTERNAL", `segment ${old.path()} is no longer in the log`);
    this.segments[at] = replacement;
  }

  /** @internal reads every batch of the active segment (for what the compactor counts). */
  activeBatches(visit: (header: BatchHeader, records: readonly LogRecord[]) => void): void {
    const active = this.active;
    for (let position = 0; position < active.sizeBytes;) {
      const { header, records } = active.batchAt(position);
      visit(header, records);
      position += header.sizeBytes;
    }
  }

  // ---------------------------------------------------------------- close

  /** Flushes everything, writes indexes and the recovery point, and releases the lock. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.fsyncTimer?.cancel();
    this.maintenanceTimer?.cancel();
    await this.maintenance;
    await this.sealing;
    await this.failing;
    let error: Error | undefined;
    if (this.state === "open") {
      try {
        await this.groupCommit();
        this.active.trimPreallocation();
        for (const s of this.segments) if (s.dirty) await this.syncSegment(s);
        await this.active.writeIndexes();
        await this.fs.writeFileAtomic(
          join(this.dir, RECOVERY_POINT_FILE),
          Buffer.from(String(this.nextOffset)),
        );
      } catch (e) {
        error = e as Error;
      }
    }
    this.state = "closed";
    this.metrics.failed.set(0);
    for (const s of this.segments) s.close();
    // The directory is handed on whole: no unlink of ours still lands in it.
    await this.removing;
    this.lock.release();
    for (const wake of this.appendWaiters.splice(0)) wake();
    const closed = new SluiceError("SLUICE_CLOSED", `log ${this.dir} was closed`);
    for (const w of this.waiters.splice(0)) w.reject(closed);
    if (error !== undefined) throw error;
  }

  /**
   * Stops as a killed process would: no flush, no index or checkpoint writes, the lock file
   * left behind. For crash simulations on the simulated file system.
   */
  kill(): void {
    this.fsyncTimer?.cancel();
    this.maintenanceTimer?.cancel();
    this.state = "closed";
    this.metrics.failed.set(0);
    this.lock.abandon();
    for (const wake of this.appendWaiters.splice(0)) wake();
    const killed = new SluiceError("SLUICE_CLOSED", `log ${this.dir} was killed`);
    for (const w of [...this.waiters.splice(0), ...this.failingWaiters.splice(0)]) w.reject(killed);
  }
}

/**
 * The most zeros a segment writes ahead of its appends at once: writing them blocks the event
 * loop, and the commit after them syncs them too (a few milliseconds a mebibyte here).
 */
const MAX_PREALLOCATION_BYTES = 1024 * 1024;

/** Event-loop turns a group commit waits at most for appends that keep coming (see there). */
const GROUP_COMMIT_MAX_TURNS = 4;

/**
 * Resolves after the callbacks `setImmediate` queues in this turn have run (so it waits out a
 * turn's batched appends, which are themselves handed over by `setImmediate`).
 */
function afterNextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Opens the log in `dir` (see `Log.open`). */
export function openLog(dir: string, options: LogOptions = {}): Promise<Log> {
  return Log.open(dir, options);
}
