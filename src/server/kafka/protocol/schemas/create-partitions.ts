// Transcribed from Apache Kafka's CreatePartitionsRequest.json and CreatePartitionsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's CreatePartitions API (key 37). */
export const createPartitions: ApiSchema = {
  apiKey: 37,
  name: "CreatePartitions",
  request: {
    validVersions: "0-3",
    flexibleVersions: "2+",
    fields: [
      {
        name: "topics",
        type: "[]CreatePartitionsTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "count", type: "int32", versions: "0+" },
          {
            name: "assignments",
            type: "[]CreatePartitionsAssignment",
            versions: "0+",
            nullableVersions: "0+",
            fields: [{ name: "brokerIds", type: "[]int32", versions: "0+" }],
          },
        ],
      },
      { name: "timeoutMs", type: "int32", versions: "0+" },
      { name: "validateOnly", type: "bool", versions: "0+" },
    ],
  },
  response: {
    validVersions: "0-3",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "results",
        type: "[]CreatePartitionsTopicResult",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "errorCode", type: "int16", versions: "0+" },
          {
            name: "errorMessage",
            type: "string",
            versions: "0+",
            nullableVersions: "0+",
            default: "null",
          },
        ],
      },
    ],
  },
};

/** A decoded CreatePartitions request: every field of every version, defaults where absent. */
export interface CreatePartitionsRequest {
  topics: Array<{
    name: string;
    count: number;
    assignments: Array<{
      brokerIds: number[];
    }> | null;
  }>;
  timeoutMs: number;
  validateOnly: boolean;
}

/** A CreatePartitions response to encode: fields left out take their schema defaults. */
export interface CreatePartitionsResponse {
  throttleTimeMs?: number;
  results?: Array<{
    name?: string;
    errorCode?: number;
    errorMessage?: string | null;
  }>;
}
