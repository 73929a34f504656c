// An in-memory KafkaBackend for listener tests: topics of partitions holding raw batches, with the
// same validation of appended batches (CRC, magic, one whole batch) as the embedded topics.
import { SluiceError } from "../../../errors/index.js";
import { checkBatch } from "../../../engine/index.js";
import type {
  CreateTopicInput,
  PartitionDescription,
  TopicConfig,
  TopicDescription,
} from "../../../messaging/topics/index.js";
import { TopicError } from "../../../messaging/topics/index.js";
import { unknownTopic } from "../../../messaging/topics/topic-error.js";
import type {
  AppendedBatch,
  KafkaBackend,
  KafkaPartitionStore,
  KafkaTopicAdmin,
  PartitionBatches,
} from "../kafka-backend.js";

const DEFAULT_CONFIG: TopicConfig = {
  retentionBytes: -1,
  retentionMs: 604_800_000,
  cleanupPolicy: "delete",
  segmentBytes: 1_073_741_824,
  maxMessageBytes: 1_048_588,
  minCompactionLagMs: 0,
};

interface MemoryPartition {
  batches: { baseOffset: number; bytes: Buffer }[];
  nextOffset: number;
  waiters: Array<() => void>;
}

interface MemoryTopic {
  config: TopicConfig;
  partitions: MemoryPartition[];
}

const newPartition = (): MemoryPartition => ({ batches: [], nextOffset: 0, waiters: [] });

/** Topics in memory, behind the listener's backend interface. */
export class MemoryBackend implements KafkaBackend, KafkaTopicAdmin, KafkaPartitionStore {
  readonly topics = new Map<string, MemoryTopic>();
  readonly admin: KafkaTopicAdmin = this;
  readonly partitions: KafkaPartitionStore = this;

  async createTopic(input: CreateTopicInput): Promise<TopicDescription> {
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(input.name))
      throw new TopicError(
        "INVALID_TOPIC_EXCEPTION",
        `name: invalid topic name ${input.name}`,
        "name",
      );
    if (this.topics.has(input.name))
      throw new TopicError("TOPIC_ALREADY_EXISTS", `topic ${input.name} exists`, "name");
    const count = input.partitions ?? 1;
    if (!Number.isInteger(count) || count < 1)
      throw new TopicError("INVALID_PARTITIONS", "partitions: expected at least 1", "partitions");
    const { name: _name, partitions: _partitions, ...config } = input;
    this.topics.set(input.name, {
      config: { ...DEFAULT_CONFIG, ...config },
      partitions: Array.from({ length: count }, newPartition),
    });
    return await this.describeTopic(input.name);
  }

  async deleteTopic(name: string): Promise<void> {
    if (!this.topics.delete(name)) throw unknownTopic(name);
    return;
  }

  async listTopics(): Promise<string[]> {
    return [...this.topics.keys()].sort();
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const topic = this.topics.get(name);
    if (topic === undefined) throw unknownTopic(name);
    return {
      name,
      partitions: topic.partitions.length,
      config: topic.config,
      internal: false,
    };
  }

  async alterTopicConfig(name: string, config: Partial<TopicConfig>): Promise<TopicDescription> {
    const topic = this.topics.get(name);
    if (topic === undefined) throw unknownTopic(name);
    topic.config = { ...topic.config, ...config };
    return await this.describeTopic(name);
  }

  async createPartitions(name: string, totalCount: number): Promise<void> {
    const topic = this.topics.get(name);
    if (topic === undefined) throw unknownTopic(name);
    if (totalCount <= topic.partitions.length)
      throw new TopicError(
        "INVALID_PARTITIONS",
        "totalCount: expected more partitions",
        "totalCount",
      );
    while (topic.partitions.length < totalCount) topic.partitions.push(newPartition());
    return;
  }

  async describePartition(topicName: string, partition: number): Promise<PartitionDescription> {
    {
      const p = this.partition(topicName, partition);
      return {
        topic: topicName,
        partition,
        logStartOffset: 0,
        highWatermark: p.nextOffset,
        lastStableOffset: p.nextOffset,
        sizeBytes: p.batches.reduce((sum, b) => sum + b.bytes.length, 0),
      };
    }
  }

  /** This backend keeps every record: DeleteRecords is refused. */
  async deleteRecords(topicName: string, partition: number): Promise<void> {
    this.partition(topicName, partition);
    throw new SluiceError(
      "SLUICE_VALIDATION",
      "beforeOffset: the memory backend keeps every record",
      {
        field: "beforeOffset",
      },
    );
  }

  async offsetForTimestamp(
    topicName: string,
    partition: number,
    timestampMs: number,
  ): Promise<number> {
    const p = this.partition(topicName, partition);
    const hit = p.batches.find((b) => b.bytes.readBigInt64BE(35) >= BigInt(timestampMs));
    return hit?.baseOffset ?? p.nextOffset;
  }

  private producerIds = 0;

  async allocateProducerId(): Promise<number> {
    return this.producerIds++;
  }

  async append(topicName: string, partition: number, batch: Buffer): Promise<AppendedBatch> {
    {
      const p = this.partition(topicName, partition);
      const header = checkBatch(batch, 0);
      if (header instanceof SluiceError || header.sizeBytes !== batch.length)
        throw new TopicError(
          "CORRUPT_MESSAGE",
          "batch: expected one whole RecordBatch with a valid CRC",
          "batch",
        );
      const own = Buffer.from(batch);
      const baseOffset = p.nextOffset;
      own.writeBigInt64BE(BigInt(baseOffset), 0);
      p.batches.push({ baseOffset, bytes: own });
      p.nextOffset += header.lastOffsetDelta + 1;
      const waiting = p.waiters;
      p.waiters = [];
      for (const wake of waiting) wake();
      return { baseOffset, logStartOffset: 0 };
    }
  }

  async read(
    topicName: string,
    partition: number,
    offset: number,
    maxBytes: number,
  ): Promise<PartitionBatches> {
    {
      const p = this.partition(topicName, partition);
      if (offset < 0 || offset > p.nextOffset)
        throw new TopicError(
          "OFFSET_OUT_OF_RANGE",
          `offset: expected 0 to ${p.nextOffset}, got ${offset}`,
          "offset",
        );
      const parts: Buffer[] = [];
      let bytes = 0;
      for (const batch of p.batches) {
        const last = batch.baseOffset + batch.bytes.readInt32BE(23);
        if (last < offset) continue;
        if (parts.length > 0 && bytes + batch.bytes.length > maxBytes) break;
        parts.push(batch.bytes);
        bytes += batch.bytes.length;
      }
      const state = {
        highWatermark: p.nextOffset,
        lastStableOffset: p.nextOffset,
        abortedTransactions: [],
        logStartOffset: 0,
      };
      return { bytes: Buffer.concat(parts), ...state };
    }
  }

  async waitForRecords(
    topicName: string,
    partition: number,
    offset: number,
    signal: AbortSignal,
  ): Promise<void> {
    const p = this.partition(topicName, partition);
    if (p.nextOffset > offset || signal.aborted) return;
    return new Promise((resolve) => {
      p.waiters.push(resolve);
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  private partition(topicName: string, partition: number): MemoryPartition {
    const p = this.topics.get(topicName)?.partitions[partition];
    if (p === undefined) throw unknownTopic(topicName, partition);
    return p;
  }
}
