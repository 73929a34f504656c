import { defineApi } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import {
  deleteTopics,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
} from "../protocol/schemas/index.js";
import { attempt } from "./kafka-errors.js";

/** DeleteTopics by name (v0-v5 send names, v6 topic entries; deleting by topic id is refused). */
export const deleteTopicsApi = defineApi<DeleteTopicsRequest, DeleteTopicsResponse>({
  schema: deleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, context) {
    const names = context.apiVersion >= 6 ? request.topics.map((t) => t.name) : request.topicNames;
    const responses = [];
    for (const name of names) {
      if (name === null) {
        responses.push({
          name: null,
          errorCode: KafkaErrorCode.UNKNOWN_TOPIC_ID,
          errorMessage: "topics are deleted by name",
        });
        continue;
      }
      const result = await attempt(() => context.backend.admin.deleteTopic(name));
      responses.push({ name, errorCode: result.errorCode, errorMessage: result.errorMessage });
    }
    return { responses };
  },
});
