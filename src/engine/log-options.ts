import { invalid } from "../errors/index.js";
import type { MetricsRegistry } from "../observability/index.js";
import type { Clock } from "../time/index.js";
import { type CompressionName, CompressionCodec, codecByName } from "./compression.js";
import type { FaultSeams } from "./fault-seams.js";
import type { FileSystem } from "./file-system.js";
import type { FsyncPlacement } from "./fsync-placement.js";

/**
 * When an append's promise resolves. "always": after fdatasync (concurrent appends share one);
 * `{ intervalMs }`: after the write reaches the OS, with an fdatasync at least every intervalMs;
 * "never": after the write reaches the OS, synced when the OS decides.
 */
export type FsyncPolicy = "always" | "never" | { readonly intervalMs: number };

export type CleanupPolicy = "delete" | "compact" | "compact,delete";

export interface LogOptions {
  readonly fsync?: FsyncPolicy;
  /** Roll the active segment past this size (default 128 MiB). */
  readonly segmentBytes?: number;
  /** Roll the active segment when its first batch is this old (default 7 days). */
  readonly segmentMs?: number;
  /** Bytes between sparse index entries (default 4 KiB, as Kafka). */
  readonly indexIntervalBytes?: number;
  /** Largest key + value + headers of one record (default 1 MiB). */
  readonly maxRecordBytes?: number;
  /** Largest encoded batch (default 16 MiB). */
  readonly maxBatchBytes?: number;
  readonly cleanupPolicy?: CleanupPolicy;
  /** Delete whole segments whose newest record is older than this (default: keep forever). */
  readonly retentionMs?: number;
  /** Delete the oldest segments while the log is larger than this (default: unbounded). */
  readonly retentionBytes?: number;
  /** How often retention and compaction run in the background (default 5 min; 0 = never). */
  readonly maintenanceIntervalMs?: number;
  /** How long compaction keeps tombstones (default 24 h). */
  readonly deleteRetentionMs?: number;
  /**
   * Records younger than this (by their timestamp) are never compacted away, superseded or
   * not: Kafka's min.compaction.lag.ms (default 0).
   */
  readonly minCompactionLagMs?: number;
  /**
   * Compaction keeps each idempotent producer's last batch (emptied if all its records go: its
   * header holds the producer's last sequence, which the topics rebuild their duplicate checks
   * from at open) while it is younger than this, as Kafka's cleaner keeps the last batch of
   * every producer not expired (default one day: Kafka's `producer.id.expiration.ms`).
   */
  readonly producerStateRetentionMs?: number;
  /** Bytes of the newest batches kept in memory to serve tail reads (default 8 MiB). */
  readonly tailCacheBytes?: number;
  /**
   * At most this many batches in the tail cache (default 1024): with tiny batches the byte
   * bound alone would keep tens of thousands of buffers, which the garbage collector then
   * promotes and marks.
   */
  readonly tailCacheBatches?: number;
  readonly compression?: CompressionName;
  readonly clock?: Clock;
  readonly fs?: FileSystem;
  readonly metrics?: MetricsRegistry;
  /** Name used in metric labels (default: the directory's base name). */
  readonly name?: string;
  readonly faults?: FaultSeams;
  /**
   * Decides whether a commit's fdatasync runs on the event loop (see `FsyncPlacement`). Logs
   * sharing a device share one: the default is the process's.
   */
  readonly fsyncPlacement?: FsyncPlacement;
}

/** The settings `Log.reconfigure` can change on an open log. */
export type ReconfigurableLogOptions = Pick<
  LogOptions,
  | "segmentBytes"
  | "maxRecordBytes"
  | "maxBatchBytes"
  | "cleanupPolicy"
  | "retentionMs"
  | "retentionBytes"
  | "deleteRetentionMs"
  | "minCompactionLagMs"
>;

export interface ResolvedLogOptions {
  readonly fsync: FsyncPolicy;
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly indexIntervalBytes: number;
  readonly maxRecordBytes: number;
  readonly maxBatchBytes: number;
  readonly cleanupPolicy: CleanupPolicy;
  readonly retentionMs: number | undefined;
  readonly retentionBytes: number | undefined;
  readonly maintenanceIntervalMs: number;
  readonly deleteRetentionMs: number;
  readonly minCompactionLagMs: number;
  readonly producerStateRetentionMs: number;
  readonly tailCacheBytes: number;
  readonly tailCacheBatches: number;
  readonly compressionId: number;
}

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min)
    throw invalid(name, `an integer >= ${min}`, value);
  return value;
}

/** Validates options at the edge and fills in defaults. */
export function resolveLogOptions(options: LogOptions): ResolvedLogOptions {
  const fsync = options.fsync ?? { intervalMs: 50 };
  if (typeof fsync === "object") positiveInt("fsync.intervalMs", fsync.intervalMs, 50);
  else if (fsync !== "always" && fsync !== "never")
    throw invalid("fsync", `"always", "never" or { intervalMs }`, fsync);
  const cleanupPolicy = options.cleanupPolicy ?? "delete";
  if (!["delete", "compact", "compact,delete"].includes(cleanupPolicy))
    throw invalid("cleanupPolicy", `"delete", "compact" or "compact,delete"`, cleanupPolicy);
  const compression = options.compression ?? "none";
  if (!(compression in CompressionCodec))
    throw invalid("compression", "none, gzip, snappy, lz4 or zstd", compression);
  if (compression !== "none" && codecByName(compression) === undefined)
    throw invalid(
      "compression",
      `a registered codec (${compression} is not registered)`,
      compression,
    );
  const segmentBytes = positiveInt("segmentBytes", options.segmentBytes, 128 * 1024 * 1024, 1024);
  return {
    fsync,
    segmentBytes,
    segmentMs: positiveInt("segmentMs", options.segmentMs, 7 * 24 * 3600_000),
    indexIntervalBytes: positiveInt("indexIntervalBytes", options.indexIntervalBytes, 4096),
    maxRecordBytes: positiveInt("maxRecordBytes", options.maxRecordBytes, 1024 * 1024),
    maxBatchBytes: positiveInt("maxBatchBytes", options.maxBatchBytes, 16 * 1024 * 1024),
    cleanupPolicy,
    retentionMs:
      options.retentionMs === undefined
        ? undefined
        : positiveInt("retentionMs", options.retentionMs, 0),
    retentionBytes:
      options.retentionBytes === undefined
        ? undefined
        : positiveInt("retentionBytes", options.retentionBytes, 0),
    maintenanceIntervalMs: positiveInt(
      "maintenanceIntervalMs",
      options.maintenanceIntervalMs,
      300_000,
      0,
    ),
    deleteRetentionMs: positiveInt(
      "deleteRetentionMs",
      options.deleteRetentionMs,
      24 * 3600_000,
      0,
    ),
    minCompactionLagMs: positiveInt("minCompactionLagMs", options.minCompactionLagMs, 0, 0),
    producerStateRetentionMs: positiveInt(
      "producerStateRetentionMs",
      options.producerStateRetentionMs,
      86_400_000,
      0,
    ),
    tailCacheBytes: positiveInt("tailCacheBytes", options.tailCacheBytes, 8 * 1024 * 1024, 0),
    tailCacheBatches: positiveInt("tailCacheBatches", options.tailCacheBatches, 1024, 0),
    compressionId: CompressionCodec[compression],
  };
}
