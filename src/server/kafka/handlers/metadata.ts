import type { TopicDescription } from "../../../messaging/topics/index.js";
import { defineApi, type RequestContext } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import {
  metadata,
  type MetadataRequest,
  type MetadataResponse,
} from "../protocol/schemas/index.js";
import { topicIdOf } from "../topic-ids.js";
import { errorCodeOf } from "./kafka-errors.js";
import { refuseCollidingName } from "./topic-collision.js";

type TopicMetadata = NonNullable<MetadataResponse["topics"]>[number];

/** Metadata: one broker (this listener, as advertised), its own controller, every partition led by it. */
export const metadataApi = defineApi<MetadataRequest, MetadataResponse>({
  schema: metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(request, context) {
    const { broker } = context;
    // v0 asks for every topic with an empty list; later versions with null.
    const all =
      request.topics === null || (context.apiVersion === 0 && request.topics.length === 0);
    const names = all
      ? await context.backend.admin.listTopics()
      : request.topics!.map((t) => t.name ?? "");
    const autoCreate =
      !all &&
      context.settings.autoCreateTopics &&
      (context.apiVersion < 4 || request.allowAutoTopicCreation);
    const topics: TopicMetadata[] = [];
    for (const name of names) topics.push(await describe(name, autoCreate, context));
    return {
      brokers: [{ nodeId: broker.nodeId, host: broker.host, port: broker.port, rack: null }],
      clusterId: broker.clusterId,
      controllerId: broker.nodeId,
      topics,
    };
  },
});

async function describe(
  name: string,
  autoCreate: boolean,
  context: RequestContext,
): Promise<TopicMetadata> {
  let topic: TopicDescription;
  try {
    topic = await context.backend.admin.describeTopic(name);
  } catch (error) {
    const errorCode = errorCodeOf(error);
    if (errorCode !== KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION || !autoCreate)
      return { errorCode, name, partitions: [] };
    try {
      await refuseCollidingName(name, context.backend.admin);
      topic = await context.backend.admin.createTopic({
        name,
        partitions: context.settings.defaultPartitions,
      });
    } catch (createError) {
      // Another client may have created it meanwhile.
      if (errorCodeOf(createError) !== KafkaErrorCode.TOPIC_ALREADY_EXISTS)
        return { errorCode: errorCodeOf(createError), name, partitions: [] };
      topic = await context.backend.admin.describeTopic(name);
    }
  }
  const node = context.broker.nodeId;
  return {
    errorCode: KafkaErrorCode.NONE,
    name,
    topicId: topicIdOf(name),
    isInternal: topic.internal,
    partitions: Array.from({ length: topic.partitions }, (_, partitionIndex) => ({
      errorCode: KafkaErrorCode.NONE,
      partitionIndex,
      leaderId: node,
      leaderEpoch: 0,
      replicaNodes: [node],
      isrNodes: [node],
      offlineReplicas: [],
    })),
  };
}
