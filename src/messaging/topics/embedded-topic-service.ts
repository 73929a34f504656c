import type { FileSystem, FsyncPolicy } from "../../engine/index.js";
import { MetricsRegistry } from "../../observability/index.js";
import { type Clock, systemClock } from "../../time/index.js";
import { EmbeddedConsumer } from "./embedded-consumer.js";
import { EmbeddedProducer } from "./embedded-producer.js";
import { EmbeddedTopicAdmin } from "./embedded-topic-admin.js";
import { GroupCoordinator } from "./group-coordinator.js";
import { checkTopicOptions } from "./input-checks.js";
import { registerKafkaCodecs } from "./kafka-codecs.js";
import { OFFSETS_TOPIC } from "./internal-topics.js";
import { OffsetStore } from "./offset-store.js";
import { TopicBroker } from "./topic-broker.js";
import type { ConsumerOptions, TopicConsumer } from "./topic-consumer.js";
import type { ProducerOptions, TopicProducer } from "./topic-producer.js";
import type { TopicService } from "./topic-service.js";
import { TransactionCoordinator } from "./transaction-coordinator.js";

export interface EmbeddedTopicServiceOptions {
  readonly clock?: Clock;
  /** Durability of every partition (default: fsync every 50 ms). */
  readonly fsync?: FsyncPolicy;
  readonly metrics?: MetricsRegistry;
  readonly fs?: FileSystem;
  /** How often open transactions are checked against their timeout (default 1 s). */
  readonly transactionTimeoutCheckIntervalMs?: number;
  /**
   * How long an idempotent producer that writes nothing to a partition is remembered there
   * (Kafka's `producer.id.expiration.ms`; default one day).
   */
  readonly producerIdExpirationMs?: number;
}

/**
 * Kafka-semantics topics embedded in the process, durable on local disk: one engine log per
 * partition, committed offsets in the compacted `__consumer_offsets` topic, consumer groups
 * coordinated in process.
 */
export class EmbeddedTopicService implements TopicService {
  readonly admin: EmbeddedTopicAdmin;
  private readonly producers = new Set<EmbeddedProducer>();
  private readonly consumers = new Set<EmbeddedConsumer>();
  private closed = false;
  private readonly stopLagMetrics: () => void;

  private constructor(
    /** The storage, for listeners that append client batches as-is (the Kafka protocol). */
    readonly broker: TopicBroker,
    private readonly coordinator: GroupCoordinator,
    /** The transaction coordinator, for listeners that serve Kafka's transaction calls. */
    readonly transactions: TransactionCoordinator,
    metrics: MetricsRegistry | undefined,
  ) {
    this.admin = new EmbeddedTopicAdmin(broker, coordinator);
    this.stopLagMetrics = metrics?.onCollect(() => this.refreshLag(metrics)) ?? (() => undefined);
  }

  /** Consumer lag per group and partition (log end minus committed offset), as of now. */
  private refreshLag(metrics: MetricsRegistry): void {
    if (this.closed) return;
    for (const { groupId } of this.coordinator.list())
      for (const o of this.coordinator.describe(groupId).offsets)
        metrics
          .gauge(
            "sluice_consumer_group_lag",
            "Records a consumer group has yet to consume (log end offset minus committed offset)",
            { group: groupId, topic: o.topic, partition: String(o.partition) },
          )
          .set(o.lag);
  }

  /** Opens (creating if needed) the topics stored in `dir`. */
  static async open(
    dir: string,
    options: EmbeddedTopicServiceOptions = {},
  ): Promise<EmbeddedTopicService> {
    registerKafkaCodecs();
    const clock = options.clock ?? systemClock;
    const broker = await TopicBroker.open(dir, {
      clock,
      fsync: options.fsync ?? { intervalMs: 50 },
      metrics: options.metrics ?? new MetricsRegistry(),
      ...(options.fs === undefined ? {} : { fs: options.fs }),
      ...(options.producerIdExpirationMs === undefined
        ? {}
        : { producerIdExpirationMs: options.producerIdExpirationMs }),
    });
    try {
      if (!broker.hasTopic(OFFSETS_TOPIC))
        await broker.createTopic(
          { name: OFFSETS_TOPIC, partitions: 1, cleanupPolicy: "compact", retentionMs: -1 },
          true,
        );
      const offsets = OffsetStore.load(broker.partitionLog(OFFSETS_TOPIC, 0), () => clock.now());
      const groups = new GroupCoordinator(broker, offsets, clock);
      // Opening settles every transaction a crash left open or half-ended.
      const transactions = await TransactionCoordinator.open(broker, groups, clock, {
        ...(options.transactionTimeoutCheckIntervalMs === undefined
          ? {}
          : { timeoutCheckIntervalMs: options.transactionTimeoutCheckIntervalMs }),
      });
      return new EmbeddedTopicService(broker, groups, transactions, options.metrics);
    } catch (error) {
      await broker.close();
      throw error;
    }
  }

  /** The consumer-group coordinator, for listeners that serve Kafka's group protocol. */
  get groupCoordinator(): GroupCoordinator {
    return this.coordinator;
  }

  producer(given?: ProducerOptions): TopicProducer {
    this.broker.ensureOpen();
    const options = checkTopicOptions(given);
    const producer = new EmbeddedProducer(this.broker, this.transactions, options, (p) =>
      this.producers.delete(p),
    );
    this.producers.add(producer);
    return producer;
  }

  consumer(given?: ConsumerOptions): TopicConsumer {
    this.broker.ensureOpen();
    const options = checkTopicOptions(given);
    const consumer = new EmbeddedConsumer(this.broker, this.coordinator, options, (c) =>
      this.consumers.delete(c),
    );
    this.consumers.add(consumer);
    return consumer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopLagMetrics();
    await Promise.all([...this.producers].map((p) => p.close().catch(() => undefined)));
    await Promise.all([...this.consumers].map((c) => c.close().catch(() => undefined)));
    await this.transactions.close();
    this.coordinator.close();
    await this.broker.close();
  }

  /** Stops as a killed process would (for crash simulations on the simulated disk). */
  kill(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.producers) p.abandon();
    for (const c of this.consumers) c.silence();
    this.transactions.kill();
    this.coordinator.close();
    this.broker.kill();
  }
}
