/**
 * The admin half of the topics interface: topics, partitions and consumer groups. Plain data
 * in and out, every call async, so an embedded backend, NATS JetStream and a remote client can
 * all implement it.
 */

export type TopicCleanupPolicy = "delete" | "compact" | "compact,delete";

/** A topic's settings; Kafka's config names in camelCase with units in the name. */
export interface TopicConfig {
  /** Delete the oldest data of a partition while it is larger than this (-1 = unbounded). */
  readonly retentionBytes: number;
  /** Delete data older than this (-1 = keep forever; Kafka's default is 7 days). */
  readonly retentionMs: number;
  readonly cleanupPolicy: TopicCleanupPolicy;
  /** Size at which a partition's log rolls a new segment. */
  readonly segmentBytes: number;
  /** Largest record batch a producer may send (Kafka's max.message.bytes). */
  readonly maxMessageBytes: number;
  /** A record stays uncompacted at least this long. */
  readonly minCompactionLagMs: number;
}

export interface CreateTopicInput extends Partial<TopicConfig> {
  readonly name: string;
  /** Number of partitions (default 1). */
  readonly partitions?: number;
}

export interface TopicDescription {
  readonly name: string;
  readonly partitions: number;
  readonly config: TopicConfig;
  /** Internal topics (committed offsets, transaction state) are hidden from plain listings. */
  readonly internal: boolean;
}

/** Where a partition's log stands. */
export interface PartitionDescription {
  readonly topic: string;
  readonly partition: number;
  /** First readable offset. */
  readonly logStartOffset: number;
  /** One past the last offset a read_uncommitted consumer may read. */
  readonly highWatermark: number;
  /** One past the last offset a read_committed consumer may read (first open transaction). */
  readonly lastStableOffset: number;
  readonly sizeBytes: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Kafka's group states. */
export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

export interface GroupListing {
  readonly groupId: string;
  readonly state: GroupState;
  readonly members: number;
}

export interface GroupMemberDescription {
  readonly memberId: string;
  readonly clientId: string;
  readonly host: string;
  readonly assignment: readonly TopicPartition[];
}

/** One row of kafka-consumer-groups --describe. */
export interface GroupOffsetDescription extends TopicPartition {
  /** Next offset the group will read (-1 when nothing is committed). */
  readonly committedOffset: number;
  readonly logEndOffset: number;
  /** logEndOffset - committedOffset (the whole partition when nothing is committed). */
  readonly lag: number;
  /** The member that owns the partition now, if any. */
  readonly memberId: string | undefined;
  readonly clientId: string | undefined;
  readonly host: string | undefined;
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: GroupState;
  /** The assignor the members agreed on ("range", "roundrobin", "cooperative-sticky"). */
  readonly protocol: string;
  readonly generationId: number;
  readonly members: readonly GroupMemberDescription[];
  readonly offsets: readonly GroupOffsetDescription[];
}

/** A committed offset: `offset` is the next record to read, as in Kafka. */
export interface OffsetAndMetadata {
  readonly offset: number;
  readonly metadata?: string;
}

export interface TopicAdmin {
  /** Creates a topic; TOPIC_ALREADY_EXISTS if it exists, INVALID_PARTITIONS / INVALID_CONFIG for bad input. */
  createTopic(input: CreateTopicInput): Promise<TopicDescription>;
  /** Deletes a topic and its data; UNKNOWN_TOPIC_OR_PARTITION if absent. */
  deleteTopic(name: string): Promise<void>;
  /** Names of the user topics, sorted (internal ones with `includeInternal`). */
  listTopics(options?: { readonly includeInternal?: boolean }): Promise<string[]>;
  describeTopic(name: string): Promise<TopicDescription>;
  /** Changes settings of an existing topic (partitions excluded: see createPartitions). */
  alterTopicConfig(name: string, config: Partial<TopicConfig>): Promise<TopicDescription>;
  /** Grows the topic to `totalCount` partitions (never shrinks: INVALID_PARTITIONS). */
  createPartitions(name: string, totalCount: number): Promise<void>;
  describePartition(topic: string, partition: number): Promise<PartitionDescription>;
  /** The first offset with a timestamp >= `timestampMs`, or the high watermark if none. */
  offsetForTimestamp(topic: string, partition: number, timestampMs: number): Promise<number>;
  /** Moves the log start of a partition forward (Kafka's DeleteRecords). */
  deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<void>;

  listGroups(): Promise<GroupListing[]>;
  /** Members, assignment and per-partition committed offset, log end and lag; GROUP_ID_NOT_FOUND if unknown. */
  describeGroup(groupId: string): Promise<GroupDescription>;
  /** The group's committed offsets (only partitions with a commit). */
  listGroupOffsets(groupId: string): Promise<Array<TopicPartition & OffsetAndMetadata>>;
  /** Sets a group's committed offsets while it has no members (NON_EMPTY_GROUP otherwise). */
  alterGroupOffsets(
    groupId: string,
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
  ): Promise<void>;
  /** Deletes an empty group and its offsets (NON_EMPTY_GROUP while it has members). */
  deleteGroup(groupId: string): Promise<void>;
}
