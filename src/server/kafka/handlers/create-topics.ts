import type { TopicDescription } from "../../../messaging/topics/index.js";
import {
  checkPartitionCount,
  checkTopicName,
  resolveTopicConfig,
} from "../../../messaging/topics/topic-config.js";
import { invalidTopicInput } from "../../../messaging/topics/topic-error.js";
import { defineApi, type RequestContext } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import {
  createTopics,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
} from "../protocol/schemas/index.js";
import { topicIdOf } from "../topic-ids.js";
import { errorCodeOf, errorMessageOf } from "./kafka-errors.js";
import { refuseCollidingName } from "./topic-collision.js";
import { topicConfigFromKafka, topicConfigToKafka } from "./topic-configs.js";

type TopicRequest = CreateTopicsRequest["topics"][number];
type TopicResult = NonNullable<CreateTopicsResponse["topics"]>[number];

/** CreateTopics: replication factor 1 (or -1, the default) only, as a single node has one replica. */
export const createTopicsApi = defineApi<CreateTopicsRequest, CreateTopicsResponse>({
  schema: createTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(request, context) {
    const topics: TopicResult[] = [];
    for (const topic of request.topics)
      topics.push(await create(topic, request.validateOnly, context));
    return { topics };
  },
});

async function create(
  topic: TopicRequest,
  validateOnly: boolean,
  context: RequestContext,
): Promise<TopicResult> {
  try {
    if (topic.replicationFactor !== -1 && topic.replicationFactor !== 1)
      throw invalidTopicInput(
        "replicationFactor",
        "1 (a single node keeps one replica)",
        topic.replicationFactor,
        "INVALID_REPLICATION_FACTOR",
      );
    const partitions =
      topic.assignments.length > 0
        ? topic.assignments.length
        : topic.numPartitions === -1
          ? context.settings.defaultPartitions
          : topic.numPartitions;
    const config = topicConfigFromKafka(topic.configs);
    let created: TopicDescription;
    if (validateOnly) {
      // The checks a creation makes, as Kafka runs them either way: a request that would fail
      // fails the same way when only validated.
      checkTopicName(topic.name);
      if ((await context.backend.admin.listTopics({ includeInternal: true })).includes(topic.name))
        throw invalidTopicInput(
          "name",
          "a topic that does not exist",
          topic.name,
          "TOPIC_ALREADY_EXISTS",
        );
      await refuseCollidingName(topic.name, context.backend.admin);
      checkPartitionCount(partitions);
      resolveTopicConfig(config);
      return {
        name: topic.name,
        errorCode: KafkaErrorCode.NONE,
        numPartitions: partitions,
        replicationFactor: 1,
      };
    } else {
      await refuseCollidingName(topic.name, context.backend.admin);
      created = await context.backend.admin.createTopic({
        ...config,
        name: topic.name,
        partitions,
      });
    }
    return {
      name: topic.name,
      topicId: topicIdOf(topic.name),
      errorCode: KafkaErrorCode.NONE,
      numPartitions: created.partitions,
      replicationFactor: 1,
      configs: topicConfigToKafka(created.config).map((c) => ({
        ...c,
        readOnly: false,
        configSource: 1,
        isSensitive: false,
      })),
    };
  } catch (error) {
    return {
      name: topic.name,
      errorCode: errorCodeOf(error),
      errorMessage: errorMessageOf(error),
      numPartitions: -1,
      replicationFactor: -1,
    };
  }
}
