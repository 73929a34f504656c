import { defineApi, type RequestContext } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import {
  describeConfigs,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
} from "../protocol/schemas/index.js";
import { errorCodeOf, errorMessageOf } from "./kafka-errors.js";
import { ConfigResourceType, topicConfigToKafka } from "./topic-configs.js";

type Resource = DescribeConfigsRequest["resources"][number];
type ResourceResult = NonNullable<DescribeConfigsResponse["results"]>[number];

const { TOPIC, BROKER } = ConfigResourceType;
/** Kafka's ConfigSource values. */
const DYNAMIC_TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;

/** DescribeConfigs for topics (their settings) and for the broker (the listener's own choices). */
export const describeConfigsApi = defineApi<DescribeConfigsRequest, DescribeConfigsResponse>({
  schema: describeConfigs,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, context) {
    const results: ResourceResult[] = [];
    for (const resource of request.resources) results.push(await describe(resource, context));
    return { results };
  },
});

async function describe(resource: Resource, context: RequestContext): Promise<ResourceResult> {
  const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
  let entries: Array<{ name: string; value: string }>;
  let source: number;
  try {
    if (resource.resourceType === TOPIC) {
      entries = topicConfigToKafka(
        (await context.backend.admin.describeTopic(resource.resourceName)).config,
      );
      source = DYNAMIC_TOPIC_CONFIG;
    } else if (resource.resourceType === BROKER) {
      entries = [
        { name: "auto.create.topics.enable", value: String(context.settings.autoCreateTopics) },
        { name: "num.partitions", value: String(context.settings.defaultPartitions) },
        { name: "default.replication.factor", value: "1" },
      ];
      source = STATIC_BROKER_CONFIG;
    } else
      return {
        ...base,
        errorCode: KafkaErrorCode.INVALID_REQUEST,
        errorMessage: `resourceType: expected 2 (topic) or 4 (broker), got ${resource.resourceType}`,
        configs: [],
      };
  } catch (error) {
    return {
      ...base,
      errorCode: errorCodeOf(error),
      errorMessage: errorMessageOf(error),
      configs: [],
    };
  }
  const keys = resource.configurationKeys;
  const wanted = keys === null ? entries : entries.filter((e) => keys.includes(e.name));
  return {
    ...base,
    errorCode: KafkaErrorCode.NONE,
    configs: wanted.map((e) => ({
      ...e,
      readOnly: resource.resourceType === BROKER,
      isDefault: false,
      configSource: source,
      isSensitive: false,
      synonyms: [],
    })),
  };
}
