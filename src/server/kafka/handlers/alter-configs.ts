import type { TopicConfig } from "../../../messaging/topics/index.js";
import { resolveTopicConfig } from "../../../messaging/topics/topic-config.js";
import { defineApi, type RequestContext } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import {
  alterConfigs,
  type AlterConfigsRequest,
  type AlterConfigsResponse,
  incrementalAlterConfigs,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse,
} from "../protocol/schemas/index.js";
import { attempt } from "./kafka-errors.js";
import {
  ConfigResourceType,
  incrementedTopicConfig,
  replacedTopicConfig,
} from "./topic-configs.js";

type ResourceResult = NonNullable<AlterConfigsResponse["responses"]>[number];

const { TOPIC, BROKER } = ConfigResourceType;

/** AlterConfigs: replaces a topic's config (settings not given go back to their defaults). */
export const alterConfigsApi = defineApi<AlterConfigsRequest, AlterConfigsResponse>({
  schema: alterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, context) {
    const responses: ResourceResult[] = [];
    for (const resource of request.resources)
      responses.push(
        await alter(resource, request.validateOnly, context, () =>
          replacedTopicConfig(resource.configs),
        ),
      );
    return { responses };
  },
});

/** IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT on a topic's config. */
export const incrementalAlterConfigsApi = defineApi<
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse
>({
  schema: incrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, context) {
    const responses: ResourceResult[] = [];
    for (const resource of request.resources)
      responses.push(
        await alter(resource, request.validateOnly, context, (current) =>
          incrementedTopicConfig(current, resource.configs),
        ),
      );
    return { responses };
  },
});

/**
 * Alters one resource: only topics have settings to change; the broker's come from the
 * options `sluice start` was given.
 */
async function alter(
  resource: { resourceType: number; resourceName: string },
  validateOnly: boolean,
  context: RequestContext,
  next: (current: TopicConfig) => TopicConfig,
): Promise<ResourceResult> {
  const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
  if (resource.resourceType === BROKER)
    return {
      ...base,
      errorCode: KafkaErrorCode.INVALID_CONFIG,
      errorMessage: "resourceName: the broker's configs are fixed by the options of sluice start",
    };
  if (resource.resourceType !== TOPIC)
    return {
      ...base,
      errorCode: KafkaErrorCode.INVALID_REQUEST,
      errorMessage: `resourceType: expected 2 (topic) or 4 (broker), got ${resource.resourceType}`,
    };
  const admin = context.backend.admin;
  const result = await attempt(async () => {
    const current = (await admin.describeTopic(resource.resourceName)).config;
    const config = resolveTopicConfig(next(current), current);
    if (!validateOnly) await admin.alterTopicConfig(resource.resourceName, config);
  });
  return { ...base, errorCode: result.errorCode, errorMessage: result.errorMessage };
}
