import type { RequestContext } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import { partitionExistence } from "./partition-existence.js";

/** Kafka's offset.metadata.max.bytes default: longer metadata is OFFSET_METADATA_TOO_LARGE. */
export const OFFSET_METADATA_MAX_LENGTH = 4096;

interface CommitRequestTopic<P> {
  readonly name: string;
  readonly partitions: readonly P[];
}

interface CommitRequestPartition {
  readonly partitionIndex: number;
  readonly committedMetadata?: string | null;
}

/**
 * The partitions of an OffsetCommit or TxnOffsetCommit that Kafka answers on their own, before
 * the group: a partition the broker does not have is UNKNOWN_TOPIC_OR_PARTITION, metadata over
 * offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE (in Kafka, once the group accepts the
 * commit). The others are `accepted`, to be committed; `answer` gives each partition's code.
 */
export async function screenCommit<P extends CommitRequestPartition>(
  topics: readonly CommitRequestTopic<P>[],
  context: RequestContext,
): Promise<{
  readonly accepted: Array<{ readonly topic: string; readonly partition: P }>;
  /** Whether any partition exists here (else the group is not asked at all, as in Kafka). */
  readonly anyKnown: boolean;
  /** A partition's code, given the group's answer to the accepted ones. */
  answer(topic: string, partition: P, groupError: number): number;
}> {
  const exists = await partitionExistence(topics, context);
  const known = (topic: string, p: P): boolean => exists(topic, p.partitionIndex);
  const oversized = (p: P): boolean =>
    (p.committedMetadata?.length ?? 0) > OFFSET_METADATA_MAX_LENGTH;
  const accepted = topics.flatMap((t) =>
    t.partitions
      .filter((p) => known(t.name, p) && !oversized(p))
      .map((p) => ({ topic: t.name, partition: p })),
  );
  return {
    accepted,
    anyKnown: topics.some((t) => t.partitions.some((p) => known(t.name, p))),
    answer(topic, p, groupError) {
      if (!known(topic, p)) return KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      if (groupError !== KafkaErrorCode.NONE) return groupError;
      return oversized(p) ? KafkaErrorCode.OFFSET_METADATA_TOO_LARGE : KafkaErrorCode.NONE;
    },
  };
}
