import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { registerKafkaCodecs } from "../../messaging/topics/kafka-codecs.js";
import type { TopicAdmin } from "../../messaging/topics/topic-admin.js";
import type { ConsumerOptions, TopicConsumer } from "../../messaging/topics/topic-consumer.js";
import { checkTopicOptions } from "../../messaging/topics/input-checks.js";
import { TopicError } from "../../messaging/topics/topic-error.js";
import type { ProducerOptions, TopicProducer } from "../../messaging/topics/topic-producer.js";
import type { TopicService } from "../../messaging/topics/topic-service.js";
import { type Clock, systemClock } from "../../time/index.js";
import {
  type NatsConnectionOptions,
  checkNamespace,
  natsConnection,
  wholeNumberOption,
} from "./nats-connection.js";
import { NatsGroupStore } from "./nats-group-store.js";
import { ReconnectWatch } from "./reconnect-watch.js";
import { NatsTopicAdmin } from "./nats-topic-admin.js";
import { NatsTopicCatalog } from "./nats-topic-catalog.js";
import { type ConsumerContext, NatsTopicConsumer } from "./nats-topic-consumer.js";
import { NatsTopicProducer } from "./nats-topic-producer.js";
import { READER_TIMEOUT_MS } from "./partition-reader.js";
import { WrittenEnds } from "./written-ends.js";
import { NatsTopicCompactor, type TopicCompactorOptions } from "./nats-topic-compactor.js";
import type { CompactionRound } from "./partition-compaction.js";

export interface NatsTopicServiceOptions extends NatsConnectionOptions {
  readonly clock?: Clock;
  /** Copies JetStream keeps of every partition stream and of the topics bucket: 1, 3 or 5 (default 1). */
  readonly replicas?: number;
  /** Prefix of every stream and bucket name, so several services can share servers (default "SLUICE"). */
  readonly namespace?: string;
  /** The key-value bucket of topics and consumer groups (default "<namespace>_topics"). */
  readonly bucket?: string;
  /**
   * How often the partitions of topics with cleanupPolicy "compact" are compacted, by whichever
   * process of the namespace claims each round (default 5 minutes; 0: only by `compactTopics`).
   */
  readonly compactionIntervalMs?: number;
  /** How long compaction keeps a tombstone after its timestamp (default 24 hours). */
  readonly deleteRetentionMs?: number;
}

/**
 * Kafka-semantics topics on NATS JetStream, shared by any number of processes: one stream per
 * partition (offsets are its sequences), topics and consumer groups (membership, assignment,
 * committed offsets) in a replicated key-value bucket. Transactions are not available (see
 * `NO_TRANSACTIONS`).
 */
export class NatsTopicService implements TopicService {
  readonly admin: TopicAdmin;
  private readonly producers = new Set<NatsTopicProducer>();
  private readonly consumers = new Set<NatsTopicConsumer>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly context: ConsumerContext;
  private readonly watch: ReconnectWatch;
  private readonly compactor: NatsTopicCompactor;
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    jsm: JetStreamManager,
    private readonly catalog: NatsTopicCatalog,
    private readonly namespace: string,
    private readonly clock: Clock,
    replicas: number,
    compaction: TopicCompactorOptions,
  ) {
    this.watch = new ReconnectWatch(nc);
    this.compactor = new NatsTopicCompactor(
      jetstream(nc),
      jsm,
      catalog,
      namespace,
      clock,
      compaction,
    );
    const groups = new NatsGroupStore(catalog.kv, catalog.jsm, catalog.bucket, this.watch);
    this.admin = new NatsTopicAdmin(jsm, catalog, groups, namespace, replicas, clock);
    this.context = {
      js: jetstream(nc, { timeout: READER_TIMEOUT_MS }),
      jsm,
      catalog,
      groups,
      watch: this.watch,
      namespace,
      clock,
      written: new WrittenEnds(),
      track: (work) => {
        this.background.add(work);
        void work.finally(() => this.background.delete(work)).catch(() => undefined);
        return work;
      },
    };
  }

  /** Connects and loads the namespace's topics. */
  static async open(options: NatsTopicServiceOptions = {}): Promise<NatsTopicService> {
    registerKafkaCodecs();
    const namespace = checkNamespace(options.namespace ?? "SLUICE");
    const replicas = options.replicas ?? 1;
    const compaction = {
      intervalMs: wholeNumberOption(options.compactionIntervalMs, "compactionIntervalMs", 300_000),
      deleteRetentionMs: wholeNumberOption(
        options.deleteRetentionMs,
        "deleteRetentionMs",
        24 * 3600_000,
      ),
    };
    const { nc, owned } = await natsConnection(options);
    try {
      const jsm = await jetstreamManager(nc);
      const catalog = await NatsTopicCatalog.open(
        nc,
        options.bucket ?? `${namespace}_topics`,
        replicas,
      );
      return new NatsTopicService(
        nc,
        owned,
        jsm,
        catalog,
        namespace,
        options.clock ?? systemClock,
        replicas,
        compaction,
      );
    } catch (error) {
      if (owned) await nc.close();
      throw error;
    }
  }

  producer(given?: ProducerOptions): TopicProducer {
    this.ensureOpen();
    const options = checkTopicOptions(given);
    const producer = new NatsTopicProducer(
      this.nc,
      this.catalog,
      this.namespace,
      this.clock,
      options,
      this.context.written,
      (p) => this.producers.delete(p),
    );
    this.producers.add(producer);
    return producer;
  }

  consumer(given?: ConsumerOptions): TopicConsumer {
    this.ensureOpen();
    const options = checkTopicOptions(given);
    const consumer = new NatsTopicConsumer(this.context, options, (c) => this.consumers.delete(c));
    this.consumers.add(consumer);
    return consumer;
  }

  /**
   * Compacts now the partitions of topics with cleanupPolicy "compact" that no process of the
   * namespace compacted within the interval; what each round did, by "topic-partition".
   */
  compactTopics(): Promise<Map<string, CompactionRound>> {
    this.ensureOpen();
    return this.compactor.compactTopics();
  }

  /** Resolves once background work (heartbeats, asynchronous commits) started so far is done. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private ensureOpen(): void {
    if (this.closed) throw TopicError.serviceClosed();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.producers]) await p.close().catch(() => undefined);
    for (const c of [...this.consumers]) await c.close().catch(() => undefined);
    await this.idle();
    await this.compactor.close();
    this.watch.close();
    this.catalog.close();
    if (this.ownsConnection) await this.nc.close();
  }
}
