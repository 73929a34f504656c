import { DirLock } from "../engine/dir-lock.js";
import {
  type FileSystem,
  type FsyncPolicy,
  makeDirectory,
  nodeFileSystem,
  removeCreatedDirectories,
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
import type { QueueAddressing, QueueService } from "../messaging/queues/index.js";
import { EmbeddedTopicService } from "../messaging/topics/embedded-topic-service.js";
import type { TopicService } from "../messaging/topics/topic-service.js";
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
  /**
   * NATS servers ("nats://a:4222,b:4222,c:4222"): queues and topics then live on NATS JetStream
   * there, shared by every process that names the same servers; the data directory still hosts
   * the event store, pub/sub and buses. Unset: everything is embedded in the directory.
   */
  readonly messaging?: string;
  /** Settings of the NATS backends when `messaging` is set. */
  readonly nats?: {
    /** Copies of every stream and bucket: 1, 3 or 5 (default 1). */
    readonly replicas?: number;
    /** Prefix of stream and bucket names (default "SLUICE"). */
    readonly namespace?: string;
    /**
     * Bytes of queue message bodies and attributes each process keeps in memory (default 64
     * MiB); past them, payloads are read back from the queue streams when needed.
     */
    readonly heldPayloadBytes?: number;
  };
}

/** Options of a Sluice whose queues and topics are on NATS JetStream. */
export type MessagingOpenOptions = OpenOptions & { readonly messaging: string };
/** Options of a wholly embedded Sluice. */
export type EmbeddedOpenOptions = OpenOptions & { readonly messaging?: undefined };

/**
 * One embedded Sluice on one data directory: every primitive in its own sub-directory, behind
 * one lock, reporting into one metrics registry, closed by one `close()`.
 */
export class Sluice<
  Q extends QueueService = EmbeddedQueueService,
  T extends TopicService = EmbeddedTopicService,
> {
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly layout: DataDirLayout,
    /** SQS-semantics queues (on NATS JetStream with `messaging`). */
    readonly queues: Q,
    /** Kafka-semantics topics and consumer groups (on NATS JetStream with `messaging`). */
    readonly topics: T,
    /** Event streams with expected versions, projections and time travel. */
    readonly eventStore: EmbeddedEventStore,
    /** SNS-semantics fan-out; its queue subscriptions deliver to `queues`. */
    readonly pubsub: EmbeddedPubSubService,
    /** EventBridge-semantics buses; rules target `queues` and `pubsub` topics. */
    readonly bus: EmbeddedEventBus,
    readonly metrics: MetricsRegistry,
    private readonly lock: DirLock,
    /** Closed after every primitive (the NATS connection the messaging backends share). */
    private readonly closeLast: () => Promise<void>,
  ) {}

  /** Opens (creating if needed) the data directory `dir`; see `open`. */
  static open(
    dir: string,
    options: MessagingOpenOptions,
  ): Promise<Sluice<QueueService, TopicService>>;
  static open(dir: string, options?: EmbeddedOpenOptions): Promise<Sluice>;
  static async open(
    dir: string,
    options: OpenOptions = {},
  ): Promise<Sluice<QueueService, TopicService>> {
    if (typeof dir !== "string" || dir.length === 0)
      throw invalid("dir", "a data directory path", dir);
    const servers = options.messaging === undefined ? undefined : checkMessaging(options.messaging);
    const fs = options.fs ?? nodeFileSystem;
    const created = await makeDirectory(fs, dir);
    const lock = await DirLock.acquire(fs, dir, { what: "data directory" });
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
    let closeLast = (): Promise<void> => Promise.resolve();
    try {
      let queues: QueueService;
      let topics: TopicService;
      if (servers === undefined) {
        queues = track(
          await EmbeddedQueueService.open(layout.queues, { ...common, ...options.queues }),
        );
        topics = track(await EmbeddedTopicService.open(layout.topics, common));
      } else {
        // Loaded only for a data directory that puts its messaging on NATS: a wholly embedded
        // Sluice (and every CLI command on one) starts without the NATS client.
        const [{ natsConnection }, { NatsQueueService }, { NatsTopicService }] = await Promise.all([
          import("../backends/nats/nats-connection.js"),
          import("../backends/nats/nats-queue-service.js"),
          import("../backends/nats/nats-topic-service.js"),
        ]);
        // One connection for both backends, closed once they are.
        const { nc } = await natsConnection({ servers });
        closeLast = () => nc.close();
        const nats = { connection: nc, clock: common.clock, ...options.nats };
        queues = track(await NatsQueueService.open({ ...nats, ...options.queues }));
        topics = track(await NatsTopicService.open(nats));
      }
      const eventStore = track(await EmbeddedEventStore.open(layout.eventstore, common));
      const pubsub = track(
        await openPubSub(layout.pubsub, { ...common, ...options.pubsub, queues }),
      );
      const bus = track(await openEventBus(layout.bus, { ...common, queues, topics: pubsub }));
      return new Sluice(
        dir,
        layout,
        queues,
        topics,
        eventStore,
        pubsub,
        bus,
        metrics,
        lock,
        closeLast,
      );
    } catch (error) {
      for (const service of opened) await service.close();
      await closeLast();
      lock.release();
      // A directory this call made is not left behind (after unreachable NATS servers, say):
      // everything in it is this call's own.
      await removeCreatedDirectories(fs, created);
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
      await this.closeLast();
    } finally {
      this.lock.release();
    }
  }
}

/**
 * Opens one data directory hosting every primitive: `sluice.queues`, `sluice.topics`,
 * `sluice.eventStore`, `sluice.pubsub` and `sluice.bus`, each in its own sub-directory, behind
 * one lock, one metrics registry, one `close()`. A directory (and parents) it creates is removed
 * again if the open then fails.
 */
export function open(
  dir: string,
  options: MessagingOpenOptions,
): Promise<Sluice<QueueService, TopicService>>;
export function open(dir: string, options?: EmbeddedOpenOptions): Promise<Sluice>;
export function open(
  dir: string,
  options: OpenOptions = {},
): Promise<Sluice<QueueService, TopicService>> {
  return options.messaging === undefined
    ? Sluice.open(dir, options as EmbeddedOpenOptions)
    : Sluice.open(dir, options as MessagingOpenOptions);
}

/** `messaging` names NATS servers: "nats://host:port", comma-separated for several. */
function checkMessaging(messaging: unknown): string {
  const urls = typeof messaging === "string" ? messaging.split(",").map((u) => u.trim()) : [];
  if (urls.length === 0 || urls.some((u) => !/^(nats|tls):\/\/[^\s/]+$/.test(u)))
    throw invalid("messaging", `NATS server URLs such as "nats://a:4222,b:4222"`, messaging);
  return urls.join(",");
}
