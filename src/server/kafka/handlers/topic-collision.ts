import type { KafkaTopicAdmin } from "../kafka-backend.js";
import { TopicError } from "../../../messaging/topics/topic-error.js";

/** The name with '.' read as '_', as Kafka's metric names do. */
function unified(name: string): string {
  return name.replace(/\./g, "_");
}

/**
 * Kafka refuses a new topic whose name differs from an existing topic's only in '.' against
 * '_' (the two would share metric names): INVALID_TOPIC_EXCEPTION naming the other topic
 * (KRaft's ReplicationControlManager, ZooKeeper's AdminZkClient alike). A client that counts on
 * the refusal gets it here too, though Sluice's own metrics keep the names apart.
 */
export async function refuseCollidingName(
  name: string,
  admin: Pick<KafkaTopicAdmin, "listTopics">,
): Promise<void> {
  if (!name.includes(".") && !name.includes("_")) return;
  const wanted = unified(name);
  const other = (await admin.listTopics({ includeInternal: true })).find(
    (existing) => existing !== name && unified(existing) === wanted,
  );
  if (other !== undefined)
    throw new TopicError(
      "INVALID_TOPIC_EXCEPTION",
      `name: topic '${name}' collides with existing topic: ${other} ('.' and '_' count as one)`,
      "name",
    );
}
