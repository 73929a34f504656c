// Transcribed from Apache Kafka's DeleteTopicsRequest.json and DeleteTopicsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's DeleteTopics API (key 20). */
export const deleteTopics: ApiSchema = {
  apiKey: 20,
  name: "DeleteTopics",
  request: {
    validVersions: "0-6",
    flexibleVersions: "4+",
    fields: [
      {
        name: "topics",
        type: "[]DeleteTopicState",
        versions: "6+",
        fields: [
          { name: "name", type: "string", versions: "6+", nullableVersions: "6+", default: "null" },
          { name: "topicId", type: "uuid", versions: "6+" },
        ],
      },
      { name: "topicNames", type: "[]string", versions: "0-5" },
      { name: "timeoutMs", type: "int32", versions: "0+" },
    ],
  },
  response: {
    validVersions: "0-6",
    flexibleVersions: "4+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      {
        name: "responses",
        type: "[]DeletableTopicResult",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+", nullableVersions: "6+" },
          { name: "topicId", type: "uuid", versions: "6+" },
          { name: "errorCode", type: "int16", versions: "0+" },
          {
            name: "errorMessage",
            type: "string",
            versions: "5+",
            nullableVersions: "5+",
            default: "null",
          },
        ],
      },
    ],
  },
};

/** A decoded DeleteTopics request: every field of every version, defaults where absent. */
export interface DeleteTopicsRequest {
  topics: Array<{
    name: string | null;
    topicId: Buffer;
  }>;
  topicNames: string[];
  timeoutMs: number;
}

/** A DeleteTopics response to encode: fields left out take their schema defaults. */
export interface DeleteTopicsResponse {
  throttleTimeMs?: number;
  responses?: Array<{
    name?: string | null;
    topicId?: Buffer;
    errorCode?: number;
    errorMessage?: string | null;
  }>;
}
