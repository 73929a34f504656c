import type { GroupCoordinator } from "../../messaging/topics/group-coordinator.js";
import type { IsolationLevel, TopicAdmin } from "../../messaging/topics/index.js";
import type { TransactionCoordinator } from "../../messaging/topics/transaction-coordinator.js";

/** Whole RecordBatch v2 bytes read from one partition, with where the partition stands. */
export interface PartitionBatches {
  /** Batches from the one holding the requested offset, as stored (possibly empty). */
  readonly bytes: Buffer;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly logStartOffset: number;
  /**
   * For read_committed: the aborted transactions overlapping the batches served (producer id and
   * first offset), so the client drops their records; empty for read_uncommitted.
   */
  readonly abortedTransactions: ReadonlyArray<{ producerId: number; firstOffset: number }>;
}

/** Where an appended batch landed. */
export interface AppendedBatch {
  readonly baseOffset: number;
  readonly logStartOffset: number;
}

/**
 * Raw access to partition logs, which the Kafka listener needs beyond the topic interfaces:
 * Produce appends the client's batch bytes as they are and Fetch serves stored bytes as they are.
 * Errors are TopicErrors, whose Kafka names the listener answers with.
 */
export interface KafkaPartitionStore {
  /** Appends one batch as given; resolves once it is acknowledged (durable as the log promises). */
  append(topic: string, partition: number, batch: Buffer): Promise<AppendedBatch>;
  /** Up to about `maxBytes` of batches from `offset` (always at least one whole batch if any). */
  read(
    topic: string,
    partition: number,
    offset: number,
    maxBytes: number,
    isolation: IsolationLevel,
  ): Promise<PartitionBatches>;
  /** A producer id no other producer of these topics has had (for idempotent producers). */
  allocateProducerId(): Promise<number>;
  /** Resolves once the partition has records at or past `offset`, or when `signal` aborts. */
  waitForRecords(
    topic: string,
    partition: number,
    offset: number,
    signal: AbortSignal,
  ): Promise<void>;
}

/** The admin calls the listener makes. */
export type KafkaTopicAdmin = Pick<
  TopicAdmin,
  | "createTopic"
  | "deleteTopic"
  | "listTopics"
  | "describeTopic"
  | "alterTopicConfig"
  | "createPartitions"
  | "describePartition"
  | "offsetForTimestamp"
  | "deleteRecords"
>;

/** The transaction coordinator's calls behind InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn. */
export type KafkaTransactions = Pick<
  TransactionCoordinator,
  | "initProducerId"
  | "addPartitions"
  | "addOffsets"
  | "commitOffsets"
  | "endTransaction"
  | "describe"
  | "isCompleting"
  | "startAbortForInit"
>;

/** What the Kafka listener serves: topic administration and the partitions' raw batches. */
export interface KafkaBackend {
  readonly admin: KafkaTopicAdmin;
  readonly partitions: KafkaPartitionStore;
  /**
   * The consumer groups library consumers use: Kafka clients join the same groups and commit to
   * the same durable store. Without it the listener keeps groups of its own, in memory.
   */
  readonly groups?: GroupCoordinator;
  /**
   * The library's transaction coordinator: Kafka's transactional producers run on it. Without
   * it the transaction APIs are neither served nor advertised.
   */
  readonly transactions?: KafkaTransactions;
}
