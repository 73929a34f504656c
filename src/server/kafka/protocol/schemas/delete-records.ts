// Transcribed from Apache Kafka's DeleteRecordsRequest.json and DeleteRecordsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's DeleteRecords API (key 21). */
export const deleteRecords: ApiSchema = {
  apiKey: 21,
  name: "DeleteRecords",
  request: {
    validVersions: "0-2",
    flexibleVersions: "2+",
    fields: [
      {
        name: "topics",
        type: "[]DeleteRecordsTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]DeleteRecordsPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "offset", type: "int64", versions: "0+" },
            ],
          },
        ],
      },
      { name: "timeoutMs", type: "int32", versions: "0+" },
    ],
  },
  response: {
    validVersions: "0-2",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "topics",
        type: "[]DeleteRecordsTopicResult",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]DeleteRecordsPartitionResult",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "lowWatermark", type: "int64", versions: "0+" },
              { name: "errorCode", type: "int16", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
};

/** A decoded DeleteRecords request: every field of every version, defaults where absent. */
export interface DeleteRecordsRequest {
  topics: Array<{
    name: string;
    partitions: Array<{
      partitionIndex: number;
      offset: number;
    }>;
  }>;
  timeoutMs: number;
}

/** A DeleteRecords response to encode: fields left out take their schema defaults. */
export interface DeleteRecordsResponse {
  throttleTimeMs?: number;
  topics?: Array<{
    name?: string;
    partitions?: Array<{
      partitionIndex?: number;
      lowWatermark?: number;
      errorCode?: number;
    }>;
  }>;
}
