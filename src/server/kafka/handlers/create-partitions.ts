import { invalidTopicInput } from "../../../messaging/topics/topic-error.js";
import { defineApi } from "../api-handler.js";
import {
  createPartitions,
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
} from "../protocol/schemas/index.js";
import { attempt } from "./kafka-errors.js";

/** CreatePartitions: grows a topic to `count` partitions (validateOnly only checks that it would grow). */
export const createPartitionsApi = defineApi<CreatePartitionsRequest, CreatePartitionsResponse>({
  schema: createPartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, context) {
    const results = [];
    for (const topic of request.topics) {
      const result = await attempt(async () => {
        if (!request.validateOnly)
          return context.backend.admin.createPartitions(topic.name, topic.count);
        const current = await context.backend.admin.describeTopic(topic.name);
        if (topic.count <= current.partitions)
          throw invalidTopicInput(
            "count",
            `more than the ${current.partitions} partitions there are`,
            topic.count,
            "INVALID_PARTITIONS",
          );
      });
      results.push({
        name: topic.name,
        errorCode: result.errorCode,
        errorMessage: result.errorMessage,
      });
    }
    return { results };
  },
});
