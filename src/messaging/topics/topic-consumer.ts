/**
 * The consumer half of the topics interface, with Kafka's semantics: consumer groups with
 * rebalancing, poll or async iteration, commits, seeks, pause and resume.
 */
import type { OffsetAndMetadata, TopicPartition } from "./topic-admin.js";
import type { ConsumerGroupMetadata } from "./topic-producer.js";

/** A record as a consumer sees it. */
export interface ConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: Buffer | null }>;
}

/** "range" and "roundrobin" are eager (all partitions revoked, then reassigned); "cooperative-sticky" only moves what must move. */
export type AssignorName = "range" | "roundrobin" | "cooperative-sticky";

export type IsolationLevel = "read_uncommitted" | "read_committed";

/** Where a member with no committed offset starts: Kafka's auto.offset.reset. */
export type OffsetReset = "earliest" | "latest" | "none";

export interface ConsumerOptions {
  /** Without a group the consumer only reads partitions given to `assign`. */
  readonly groupId?: string;
  readonly clientId?: string;
  /** Preferred first; the group uses the first one every member supports (default ["range", "cooperative-sticky"]). */
  readonly assignors?: readonly AssignorName[];
  /** A member silent this long is removed and its partitions reassigned (default 45 s). */
  readonly sessionTimeoutMs?: number;
  /** How often the member heartbeats (default 3 s). */
  readonly heartbeatIntervalMs?: number;
  /** How long a rebalance waits for members to rejoin (default 5 minutes, max.poll.interval.ms). */
  readonly rebalanceTimeoutMs?: number;
  /** Commit the positions of returned records every autoCommitIntervalMs (default true). */
  readonly autoCommit?: boolean;
  readonly autoCommitIntervalMs?: number;
  readonly autoOffsetReset?: OffsetReset;
  readonly isolationLevel?: IsolationLevel;
  /** Most records one poll returns (default 500). */
  readonly maxPollRecords?: number;
  /** About this many bytes per partition per fetch (default 1 MiB). */
  readonly maxPartitionFetchBytes?: number;
}

/** Called around a rebalance: revoked before partitions leave, assigned after new ones arrive. */
export interface RebalanceListener {
  onPartitionsRevoked?(partitions: readonly TopicPartition[]): void | Promise<void>;
  onPartitionsAssigned?(partitions: readonly TopicPartition[]): void | Promise<void>;
  /** Partitions lost without a clean revoke (session expired, fenced). */
  onPartitionsLost?(partitions: readonly TopicPartition[]): void | Promise<void>;
}

export interface PollOptions {
  /** Wait at most this long for records (default 0: return what is there). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export type OffsetCommits = ReadonlyArray<TopicPartition & OffsetAndMetadata>;

export interface TopicConsumer {
  /** Joins the group for these topics; partitions arrive through the listener and `assignment()`. */
  subscribe(topics: readonly string[], listener?: RebalanceListener): Promise<void>;
  /** Leaves the group (revoking everything) and stops reading. */
  unsubscribe(): Promise<void>;
  /** Reads exactly these partitions, without group management. */
  assign(partitions: readonly TopicPartition[]): Promise<void>;
  /** The partitions this consumer reads now. */
  assignment(): TopicPartition[];

  /** The next records from the assigned, unpaused partitions; waits up to `timeoutMs` for some. */
  poll(options?: PollOptions): Promise<ConsumerRecord[]>;
  /** Records one by one, polling as needed, until `signal` aborts or the consumer closes. */
  records(signal?: AbortSignal): AsyncIterableIterator<ConsumerRecord>;

  /** Commits the given offsets, or the positions of everything returned so far; waits for it. */
  commitSync(offsets?: OffsetCommits): Promise<void>;
  /** Same as commitSync without waiting; failures go to `onComplete`. */
  commitAsync(offsets?: OffsetCommits, onComplete?: (error: Error | undefined) => void): void;
  /** The group's committed offsets for these partitions (undefined where none). */
  committed(
    partitions: readonly TopicPartition[],
  ): Promise<Array<(TopicPartition & OffsetAndMetadata) | undefined>>;

  /** The offset the next poll reads from in this partition. */
  position(partition: TopicPartition): number;
  seek(partition: TopicPartition, offset: number): void;
  seekToBeginning(partitions?: readonly TopicPartition[]): Promise<void>;
  seekToEnd(partitions?: readonly TopicPartition[]): Promise<void>;
  /** Seeks to the first record at or after `timestampMs` (to the end if there is none). */
  seekToTimestamp(partition: TopicPartition, timestampMs: number): Promise<void>;
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  paused(): TopicPartition[];

  /** The group, generation and member id (for sendOffsetsToTransaction). */
  groupMetadata(): ConsumerGroupMetadata;
  /** Commits (with auto-commit on), leaves the group and stops. */
  close(): Promise<void>;
}
