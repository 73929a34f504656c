import { TopicError } from "./topic-error.js";

/** The internal compacted topic holding every group's committed offsets (Kafka's name). */
export const OFFSETS_TOPIC = "__consumer_offsets";

/** The internal compacted topic holding the transaction coordinator's state (Kafka's name). */
export const TRANSACTION_STATE_TOPIC = "__transaction_state";

/**
 * Topics the engine keeps for itself. Only these names are reserved: other names beginning with
 * "__" are ordinary topics, as in Kafka (Debezium's `__debezium-heartbeat.<prefix>` is one).
 */
const INTERNAL_TOPICS: ReadonlySet<string> = new Set([OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC]);

/** Refuses a user's creation of an internal topic, with Kafka's error (INVALID_REQUEST). */
export function refuseInternalTopicName(name: string): void {
  if (INTERNAL_TOPICS.has(name))
    throw new TopicError(
      "INVALID_REQUEST",
      `name: creation of internal topic ${name} is prohibited`,
      "name",
    );
}
