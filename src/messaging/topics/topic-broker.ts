import { asError } from "../../errors/index.js";
import { join } from "node:path";
import {
  type AppendResult,
  type BatchRelease,
  type FileSystem,
  type FsyncPolicy,
  nodeFileSystem,
} from "../../engine/index.js";
import { MetricsRegistry } from "../../observability/index.js";
import type { Clock } from "../../time/index.js";
import { refuseInternalTopicName } from "./internal-topics.js";
import { PartitionLog, type TransactionGuard } from "./partition-log.js";
import type { CreateTopicInput, TopicConfig, TopicDescription } from "./topic-admin.js";
import { type TopicDefinition, TopicCatalog } from "./topic-catalog.js";
import {
  checkPartitionCount,
  checkTopicName,
  configOf,
  resolveTopicConfig,
} from "./topic-config.js";
import { DeletesInProgress } from "../deletes-in-progress.js";
import { PerKeySerializer } from "../per-key-serializer.js";
import { invalidTopicInput, TopicError, unknownTopic } from "./topic-error.js";

export interface TopicBrokerOptions {
  readonly clock: Clock;
  readonly fsync: FsyncPolicy;
  readonly metrics?: MetricsRegistry;
  readonly fs?: FileSystem;
  /** See `PartitionLogOptions.producerIdExpirationMs`. */
  readonly producerIdExpirationMs?: number;
}

interface HostedTopic {
  definition: TopicDefinition;
  readonly partitions: PartitionLog[];
}

/** Called when a topic appears, grows or goes, so groups subscribed to it rebalance. */
export type MetadataListener = (topic: string) => void;

/**
 * The embedded storage of topics: the catalog, and one `PartitionLog` per partition in
 * `<dir>/partitions/<topic>-<partition>` (Kafka's layout). Producers, consumers, the admin,
 * and the Kafka listener all go through it.
 */
export class TopicBroker {
  private readonly topics = new Map<string, HostedTopic>();
  private readonly definitionEdits = new PerKeySerializer();
  private readonly deleting = new DeletesInProgress();
  private readonly listeners = new Set<MetadataListener>();
  private transactionGuard: TransactionGuard | undefined;
  private closed = false;
  readonly metrics: MetricsRegistry;

  private constructor(
    private readonly dir: string,
    private readonly catalog: TopicCatalog,
    private readonly options: TopicBrokerOptions,
  ) {
    this.metrics = options.metrics ?? new MetricsRegistry();
  }

  /** Opens (creating if needed) the topics stored in `dir`. */
  static async open(dir: string, options: TopicBrokerOptions): Promise<TopicBroker> {
    const fs = options.fs ?? nodeFileSystem;
    if (!fs.exists(dir)) fs.mkdir(dir);
    const { catalog, definitions } = await TopicCatalog.open(
      join(dir, "catalog"),
      options.clock,
      options.fs,
      options.metrics,
    );
    const broker = new TopicBroker(dir, catalog, options);
    try {
      const partitionsDir = join(dir, "partitions");
      if (!fs.exists(partitionsDir)) fs.mkdir(partitionsDir);
      const wanted = new Set<string>();
      for (const d of definitions)
        for (let p = 0; p < d.partitions; p++) wanted.add(partitionDirName(d.name, p));
      // Partitions of a topic deleted just before a crash.
      for (const leftover of fs.list(partitionsDir).filter((name) => !wanted.has(name)))
        await fs.removeDir(join(partitionsDir, leftover));
      for (const definition of definitions) {
        const hosted: HostedTopic = { definition, partitions: [] };
        broker.topics.set(definition.name, hosted);
        for (let p = 0; p < definition.partitions; p++)
          hosted.partitions.push(await broker.openPartition(definition, p));
      }
    } catch (error) {
      await broker.close();
      throw error;
    }
    return broker;
  }

  private async openPartition(
    definition: TopicDefinition,
    partition: number,
  ): Promise<PartitionLog> {
    const log = await PartitionLog.open(
      join(this.dir, "partitions", partitionDirName(definition.name, partition)),
      definition.name,
      partition,
      definition.config,
      {
        clock: this.options.clock,
        fsync: this.options.fsync,
        metrics: this.metrics,
        ...(this.options.fs === undefined ? {} : { fs: this.options.fs }),
        ...(this.options.producerIdExpirationMs === undefined
          ? {}
          : { producerIdExpirationMs: this.options.producerIdExpirationMs }),
      },
    );
    log.setTransactionGuard((producerId, epoch, topic, p) => {
      if (this.transactionGuard === undefined)
        throw new TopicError(
          "INVALID_TXN_STATE",
          `batch: no transaction coordinator takes transactional batches for ${topic}-${p}`,
          "batch",
        );
      this.transactionGuard(producerId, epoch, topic, p);
    });
    return log;
  }

  /** The transaction coordinator's check on every transactional batch a producer sends. */
  setTransactionGuard(guard: TransactionGuard | undefined): void {
    this.transactionGuard = guard;
  }

  get clock(): Clock {
    return this.options.clock;
  }

  get fsync(): FsyncPolicy {
    return this.options.fsync;
  }

  onMetadataChange(listener: MetadataListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(topic: string): void {
    for (const listener of this.listeners) listener(topic);
  }

  ensureOpen(): void {
    if (this.closed) throw TopicError.serviceClosed();
  }

  // ---------------------------------------------------------------- topics

  async createTopic(input: CreateTopicInput, internal = false): Promise<TopicDescription> {
    this.ensureOpen();
    if (input === null || typeof input !== "object")
      throw new TopicError("INVALID_REQUEST", "input: expected { name, partitions?, ...config }");
    const name = checkTopicName(input.name);
    if (!internal) refuseInternalTopicName(name);
    const partitions = checkPartitionCount(input.partitions ?? 1);
    const config = resolveTopicConfig(configOf(input));
    await this.deleting.finished(name);
    if (this.topics.has(name))
      throw new TopicError("TOPIC_ALREADY_EXISTS", `name: topic ${name} already exists`, "name");
    const definition: TopicDefinition = {
      name,
      partitions,
      config,
      internal,
      createdAt: this.clock.now(),
    };
    const hosted: HostedTopic = { definition, partitions: [] };
    this.topics.set(name, hosted);
    // Its partitions are opened as the first edit of the topic: a grow, a config change or a
    // delete asked for meanwhile runs once they are all open.
    await this.definitionEdits.run(name, async () => {
      try {
        await this.catalog.put(definition);
        for (let p = 0; p < partitions; p++)
          hosted.partitions.push(await this.openPartition(definition, p));
      } catch (error) {
        if (this.topics.get(name) === hosted) this.topics.delete(name);
        await Promise.all(hosted.partitions.map((p) => p.close().catch(() => undefined)));
        throw error;
      }
    });
    this.changed(name);
    return describe(definition);
  }

  async deleteTopic(name: string): Promise<void> {
    const hosted = this.hosted(name, "name");
    if (hosted.definition.internal)
      throw new TopicError("INVALID_REQUEST", `name: ${name} is an internal topic`, "name");
    this.topics.delete(name);
    await this.deleting.run(name, () =>
      this.definitionEdits.run(name, () => this.removeTopic(name, hosted)),
    );
    this.changed(name);
  }

  private async removeTopic(name: string, hosted: HostedTopic): Promise<void> {
    // The catalog first: a crash after it leaves directories the next open removes.
    try {
      await this.catalog.remove(name);
    } catch (error) {
      // Still in the catalog: the topic takes calls again, and a retry deletes it.
      if (!this.topics.has(name)) this.topics.set(name, hosted);
      throw error;
    }
    await Promise.all(hosted.partitions.map((p) => p.close()));
    const fs = this.options.fs ?? nodeFileSystem;
    await Promise.all(
      hosted.partitions.map((_, p) =>
        fs.removeDir(join(this.dir, "partitions", partitionDirName(name, p))),
      ),
    );
  }

  /**
   * Edits of one topic's definition (partitions, config) run one after another, each on the
   * definition the last one stored: concurrent edits never overwrite each other, and growing
   * twice at once never opens a partition twice.
   */
  createPartitions(name: string, totalCount: number): Promise<void> {
    return this.definitionEdits.run(name, async () => {
      const hosted = this.hosted(name, "name");
      const count = checkPartitionCount(totalCount, "totalCount");
      if (count <= hosted.definition.partitions)
        throw new TopicError(
          "INVALID_PARTITIONS",
          `totalCount: topic ${name} has ${hosted.definition.partitions} partitions; expected more, got ${count}`,
          "totalCount",
        );
      const definition = { ...hosted.definition, partitions: count };
      // Taken into use only once the catalog holds them: a producer never writes to a
      // partition that a failed write or a crash before it would leave out of the topic.
      const opened: PartitionLog[] = [];
      try {
        for (let p = hosted.partitions.length; p < count; p++)
          opened.push(await this.openPartition(definition, p));
        await this.catalog.put(definition);
      } catch (error) {
        await Promise.all(opened.map((p) => p.close().catch(() => undefined)));
        throw error;
      }
      hosted.partitions.push(...opened);
      hosted.definition = definition;
      this.changed(name);
    });
  }

  alterConfig(name: string, config: Partial<TopicConfig>): Promise<TopicDescription> {
    return this.definitionEdits.run(name, async () => {
      const hosted = this.hosted(name, "name");
      const resolved = resolveTopicConfig(config, hosted.definition.config);
      const definition = { ...hosted.definition, config: resolved };
      await this.catalog.put(definition);
      hosted.definition = definition;
      for (const p of hosted.partitions) p.updateConfig(resolved);
      return describe(definition);
    });
  }

  listTopics(includeInternal: boolean): string[] {
    this.ensureOpen();
    return [...this.topics.values()]
      .filter((t) => includeInternal || !t.definition.internal)
      .map((t) => t.definition.name)
      .sort();
  }

  hasTopic(name: string): boolean {
    return this.topics.has(name);
  }

  describeTopic(name: string): TopicDescription {
    return describe(this.hosted(name, "name").definition);
  }

  definition(name: string, field = "topic"): TopicDefinition {
    return this.hosted(name, field).definition;
  }

  /** Partition count, or undefined for an unknown topic. */
  partitionCount(name: string): number | undefined {
    return this.topics.get(name)?.partitions.length;
  }

  partitionLog(topic: string, partition: number, field = "partition"): PartitionLog {
    const hosted = this.hosted(topic, "topic");
    // A partition of the wrong type is a bad request; a number that names none is unknown, as
    // Kafka answers for it.
    if (!Number.isSafeInteger(partition)) throw invalidTopicInput(field, "an integer", partition);
    const log = hosted.partitions[partition];
    if (log === undefined) throw unknownTopic(topic, partition, field);
    return log;
  }

  /**
   * Appends one RecordBatch v2 to a partition as given. `verify` decodes it first (for batches
   * from outside this process, e.g. the Kafka listener): corrupt batches and decompression
   * bombs are refused with CORRUPT_MESSAGE and never reach the disk. `release`: see
   * `PartitionLog.append`.
   */
  appendBatch(
    topic: string,
    partition: number,
    batch: Buffer,
    verify = true,
    release?: BatchRelease,
  ): Promise<AppendResult> {
    try {
      this.ensureOpen();
      return this.partitionLog(topic, partition).append(batch, verify, "client", release);
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  allocateProducerId(): Promise<number> {
    this.ensureOpen();
    return this.catalog.allocateProducerId();
  }

  private hosted(name: string, field: string): HostedTopic {
    this.ensureOpen();
    if (typeof name !== "string") throw invalidTopicInput(field, "a topic name", name);
    const hosted = this.topics.get(name);
    if (hosted === undefined) throw unknownTopic(name, undefined, field);
    return hosted;
  }

  // ---------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.topics.values()].flatMap((t) => t.partitions);
    this.topics.clear();
    await Promise.all(all.map((p) => p.close()));
    await this.catalog.close();
  }

  /** Stops as a killed process would (for crash simulations on the simulated disk). */
  kill(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.topics.values()) for (const p of t.partitions) p.kill();
    this.topics.clear();
    this.catalog.kill();
  }
}

/** Kafka's directory name for a partition. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

function describe(definition: TopicDefinition): TopicDescription {
  return {
    name: definition.name,
    partitions: definition.partitions,
    config: definition.config,
    internal: definition.internal,
  };
}
