import { DirLock } from "../engine/dir-lock.js";
import {
  type FileSystem,
  type FsyncPolicy,
  makeDirectory,
  nodeFileSystem,
} from "../engine/index.js";
import { invalid } from "../errors/index.js";
import { EmbeddedEventStore } from "../eventstore/embedded-event-store.js";
import { type EmbeddedEventBus, openEventBus } from "../messaging/bus/index.js";
import {
  type EmbeddedPubSubService,
  type PubSubAddressing,
  openPubSub,
} from "../messaging/pubsub/index.js";
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
  /** How topic ARNs are spelled, and the server URL in SubscribeURL and UnsubscribeURL links. */
  readonly pubsub?: PubSubAddressing;
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
    /** Event streams with expected versions, projections and time travel. */
    readonly eventStore: EmbeddedEventStore,
    /** SNS-semantics fan-out; its queue subscriptions deliver to `queues`. */
    readonly pubsub: EmbeddedPubSubService,
    /** EventBridge-semantics buses; rules target `queues` and `pubsub` topics. */
    readonly bus: EmbeddedEventBus,
    readonly metrics: MetricsRegistry,
    private readonly lock: DirLock,
  ) {}

  /** Opens (creating if needed) the data directory `dir`; see `open`. */
  static async open(dir: string, options: OpenOptions = {}): Promise<Sluice> {
    if (typeof dir !== "string" || dir.length === 0)
      throw invalid("dir", "a data directory path", dir);
    const fs = options.fs ?? nodeFileSystem;
    await makeDirectory(fs, dir);
    const lock = await DirLock.acquire(fs, dir);
    const layout = dataDirLayout(fs, dir);
    const metrics = options.metrics ?? new MetricsRegistry();
    const common = {
      clock: options.clock ?? systemClock,
      fsync: options.fsync ?? { intervalMs: 50 },
      metrics,
      ...(options.fs === undefined ? {} : { fs: options.fs }),
    };
    const opened: Array<{ close(): Promise<void> }> = [];
    const track = <T extends { close(): Promise<void> }>(service: T): T => {
      opened.unshift(service); // closed in reverse: deliverers before what they deliver to
      return service;
    };
    try {
      const queues = track(
        await EmbeddedQueueService.open(layout.queues, { ...common, ...options.queues }),
      );
      const topics = track(await EmbeddedTopicService.open(layout.topics, common));
      const eventStore = track(await EmbeddedEventStore.open(layout.eventstore, common));
      const pubsub = track(
        await openPubSub(layout.pubsub, { ...common, ...options.pubsub, queues }),
      );
      const bus = track(await openEventBus(layout.bus, { ...common, queues, topics: pubsub }));
      return new Sluice(dir, layout, queues, topics, eventStore, pubsub, bus, metrics, lock);
    } catch (error) {
      for (const service of opened) await service.close();
      lock.release();
      throw error;
    }
  }

  /** Closes every primitive (flushing what each promised), then releases the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // The bus and pub/sub deliver into queues and topics: they stop first.
      await this.bus.close();
      await this.pubsub.close();
      await Promise.all([this.topics.close(), this.queues.close(), this.eventStore.close()]);
    } finally {
      this.lock.release();
    }
  }
}

/**
 * Opens one data directory hosting every primitive: `sluice.queues`, `sluice.topics`,
 * `sluice.eventStore`, `sluice.pubsub` and `sluice.bus`, each in its own sub-directory, behind
 * one lock, one metrics registry, one `close()`.
 */
export function open(dir: string, options: OpenOptions = {}): Promise<Sluice> {
  return Sluice.open(dir, options);
}
