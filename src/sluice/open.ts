import { DirLock } from "../engine/dir-lock.js";
import { type FileSystem, type FsyncPolicy, nodeFileSystem } from "../engine/index.js";
import { invalid } from "../errors/index.js";
import { EmbeddedQueueService } from "../messaging/queues/index.js";
import type { QueueAddressing } from "../messaging/queues/index.js";
import { EmbeddedTopicService } from "../messaging/topics/embedded-topic-service.js";
import { MetricsRegistry } from "../observability/index.js";
import { type Clock, systemClock } from "../time/index.js";
import { type DataDirLayout, dataDirLayout } from "./data-dir-layout.js";

export interface OpenOptions {
  readonly clock?: Clock;
  /** Durability of every primitive (default: fsync every 50 ms). */
  readonly fsync?: FsyncPolicy;
  /** The one registry every primitive reports into (default: a new one, see `Sluice.metrics`). */
  readonly metrics?: MetricsRegistry;
  readonly fs?: FileSystem;
  /** How queue URLs and ARNs are spelled (region, account, host). */
  readonly queues?: QueueAddressing;
}

/**
 * One embedded Sluice on one data directory: every primitive in its own sub-directory, behind
 * one lock, reporting into one metrics registry, closed by one `close()`.
 */
export class Sluice {
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly layout: DataDirLayout,
    /** SQS-semantics queues. */
    readonly queues: EmbeddedQueueService,
    /** Kafka-semantics topics and consumer groups. */
    readonly topics: EmbeddedTopicService,
    readonly metrics: MetricsRegistry,
    private readonly lock: DirLock,
  ) {}

  /** Opens (creating if needed) the data directory `dir`; see `open`. */
  static async open(dir: string, options: OpenOptions = {}): Promise<Sluice> {
    if (typeof dir !== "string" || dir.length === 0)
      throw invalid("dir", "a data directory path", dir);
    const fs = options.fs ?? nodeFileSystem;
    if (!fs.exists(dir)) fs.mkdir(dir);
    const lock = await DirLock.acquire(fs, dir);
    const layout = dataDirLayout(fs, dir);
    const metrics = options.metrics ?? new MetricsRegistry();
    const common = {
      clock: options.clock ?? systemClock,
      fsync: options.fsync ?? { intervalMs: 50 },
      metrics,
      ...(options.fs === undefined ? {} : { fs: options.fs }),
    };
    let queues: EmbeddedQueueService | undefined;
    try {
      queues = await EmbeddedQueueService.open(layout.queues, { ...common, ...options.queues });
      const topics = await EmbeddedTopicService.open(layout.topics, common);
      return new Sluice(dir, layout, queues, topics, metrics, lock);
    } catch (error) {
      await queues?.close();
      lock.release();
      throw error;
    }
  }

  /** Closes every primitive (flushing what each promised), then releases the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await Promise.all([this.topics.close(), this.queues.close()]);
    } finally {
      this.lock.release();
    }
  }
}

/**
 * Opens one data directory hosting every primitive: `sluice.queues`, `sluice.topics` (and the
 * event store and bus as they land), one lock, one metrics registry, one `close()`.
 */
export function open(dir: string, options: OpenOptions = {}): Promise<Sluice> {
  return Sluice.open(dir, options);
}
