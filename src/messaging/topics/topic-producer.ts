/**
 * The producer half of the topics interface, with Kafka's semantics: partitioners, batching by
 * bytes and linger, compression, idempotence and transactions.
 */
import type { OffsetAndMetadata, TopicPartition } from "./topic-admin.js";

/** A record header; Kafka allows a key more than once. */
export interface MessageHeader {
  readonly key: string;
  readonly value: Buffer | string | null;
}

export interface ProducerRecord {
  readonly topic: string;
  /** Records with equal keys go to one partition under the key-hash partitioner. */
  readonly key?: Buffer | string | null;
  /** null with a key is a tombstone on a compacted topic. */
  readonly value: Buffer | string | null;
  readonly headers?: readonly MessageHeader[];
  /** Overrides the partitioner. */
  readonly partition?: number;
  /** Milliseconds since the epoch (default: when the record is sent). */
  readonly timestamp?: number;
}

/** Where a record landed. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

/**
 * "key-hash": Kafka's default: murmur2 of the key, positive modulo the partition count (records
 * without a key go sticky). "round-robin": every record to the next partition, keys ignored.
 * "sticky": fill one partition's batch, switch when it is sent, keys ignored.
 */
export type PartitionerName = "key-hash" | "round-robin" | "sticky";

export type CompressionType = "none" | "gzip" | "snappy" | "lz4" | "zstd";

/** acks=0 resolves when the record is handed over, 1 and "all" once it is in the log (as durable as the log's fsync promises). */
export type Acks = 0 | 1 | -1 | "all";

export interface ProducerOptions {
  readonly clientId?: string;
  readonly partitioner?: PartitionerName;
  /** Bytes of records gathered per partition before a batch is sent (default 16384). */
  readonly batchSize?: number;
  /** How long a batch waits for more records before it is sent (default 5 ms, as Kafka 4). */
  readonly lingerMs?: number;
  readonly compression?: CompressionType;
  readonly acks?: Acks;
  /** Producer id + epoch + per-partition sequence: a retried batch is written once (default true). */
  readonly idempotent?: boolean;
  /**
   * Makes the producer transactional (implies idempotent): records are sent inside
   * `beginTransaction` .. `commitTransaction`/`abortTransaction`. One live producer per id: a new
   * one with the same id fences the old (its next call fails with PRODUCER_FENCED).
   */
  readonly transactionalId?: string;
  /** An open transaction is aborted by the coordinator after this long (default 60 s, max 15 min). */
  readonly transactionTimeoutMs?: number;
  /** Largest request the producer sends; a larger record fails with MESSAGE_TOO_LARGE (default 1 MiB). */
  readonly maxRequestBytes?: number;
}

/** The consumer group a transaction commits offsets for. */
export interface ConsumerGroupMetadata {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
}

export interface TopicProducer {
  /** Sends one record; resolves with where it landed once its batch is acknowledged. */
  send(record: ProducerRecord): Promise<RecordMetadata>;
  /** Sends records in order; results in the same order. */
  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]>;
  /** Sends every lingering batch now and waits for them. */
  flush(): Promise<void>;

  /**
   * Registers the transactional id (Kafka's initTransactions): fences every older producer with
   * the same id and settles what it left open. `beginTransaction` calls it if needed.
   */
  initTransactions(): Promise<void>;
  /** Starts a transaction (transactional producers only; INVALID_TXN_STATE otherwise). */
  beginTransaction(): Promise<void>;
  /** Adds a group's offsets to the open transaction: they commit or abort with its records. */
  sendOffsetsToTransaction(
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
    group: ConsumerGroupMetadata,
  ): Promise<void>;
  /**
   * Sends what is pending, then commits: read_committed consumers see the transaction's records
   * and its offsets count, all at once. After a failed send it rejects; abort instead.
   */
  commitTransaction(): Promise<void>;
  /** Drops what is unsent and aborts: nothing of the transaction is ever visible to read_committed. */
  abortTransaction(): Promise<void>;

  /** Flushes, then releases the producer. */
  close(): Promise<void>;
}
