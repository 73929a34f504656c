// Transcribed from Apache Kafka's CreateTopicsRequest.json and CreateTopicsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's CreateTopics API (key 19). */
export const createTopics: ApiSchema = {
  apiKey: 19,
  name: "CreateTopics",
  request: {
    validVersions: "0-7",
    flexibleVersions: "5+",
    fields: [
      {
        name: "topics",
        type: "[]CreatableTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "numPartitions", type: "int32", versions: "0+" },
          { name: "replicationFactor", type: "int16", versions: "0+" },
          {
            name: "assignments",
            type: "[]CreatableReplicaAssignment",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "brokerIds", type: "[]int32", versions: "0+" },
            ],
          },
          {
            name: "configs",
            type: "[]CreatableTopicConfig",
            versions: "0+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
            ],
          },
        ],
      },
      { name: "timeoutMs", type: "int32", versions: "0+", default: "60000" },
      { name: "validateOnly", type: "bool", versions: "1+", default: "false" },
    ],
  },
  response: {
    validVersions: "0-7",
    flexibleVersions: "5+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "2+" },
      {
        name: "topics",
        type: "[]CreatableTopicResult",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "topicId", type: "uuid", versions: "7+" },
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "1+", nullableVersions: "0+" },
          {
            name: "topicConfigErrorCode",
            type: "int16",
            versions: "5+",
            taggedVersions: "5+",
            tag: 0,
          },
          { name: "numPartitions", type: "int32", versions: "5+", default: "-1" },
          { name: "replicationFactor", type: "int16", versions: "5+", default: "-1" },
          {
            name: "configs",
            type: "[]CreatableTopicConfigs",
            versions: "5+",
            nullableVersions: "5+",
            fields: [
              { name: "name", type: "string", versions: "5+" },
              { name: "value", type: "string", versions: "5+", nullableVersions: "5+" },
              { name: "readOnly", type: "bool", versions: "5+" },
              { name: "configSource", type: "int8", versions: "5+", default: "-1" },
              { name: "isSensitive", type: "bool", versions: "5+" },
            ],
          },
        ],
      },
    ],
  },
};

/** A decoded CreateTopics request: every field of every version, defaults where absent. */
export interface CreateTopicsRequest {
  topics: Array<{
    name: string;
    numPartitions: number;
    replicationFactor: number;
    assignments: Array<{
      partitionIndex: number;
      brokerIds: number[];
    }>;
    configs: Array<{
      name: string;
      value: string | null;
    }>;
  }>;
  timeoutMs: number;
  validateOnly: boolean;
}

/** A CreateTopics response to encode: fields left out take their schema defaults. */
export interface CreateTopicsResponse {
  throttleTimeMs?: number;
  topics?: Array<{
    name?: string;
    topicId?: Buffer;
    errorCode?: number;
    errorMessage?: string | null;
    topicConfigErrorCode?: number;
    numPartitions?: number;
    replicationFactor?: number;
    configs?: Array<{
      name?: string;
      value?: string | null;
      readOnly?: boolean;
      configSource?: number;
      isSensitive?: boolean;
    }> | null;
  }>;
}
