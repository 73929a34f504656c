// Transcribed from Apache Kafka's ListOffsetsRequest.json and ListOffsetsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's ListOffsets API (key 2). */
export const listOffsets: ApiSchema = {
  apiKey: 2,
  name: "ListOffsets",
  request: {
    validVersions: "0-10",
    flexibleVersions: "6+",
    fields: [
      { name: "replicaId", type: "int32", versions: "0+" },
      { name: "isolationLevel", type: "int8", versions: "2+" },
      {
        name: "topics",
        type: "[]ListOffsetsTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]ListOffsetsPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "currentLeaderEpoch", type: "int32", versions: "4+", default: "-1" },
              { name: "timestamp", type: "int64", versions: "0+" },
              { name: "maxNumOffsets", type: "int32", versions: "0", default: "1" },
            ],
          },
        ],
      },
      { name: "timeoutMs", type: "int32", versions: "10+" },
    ],
  },
  response: {
    validVersions: "0-10",
    flexibleVersions: "6+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "2+" },
      {
        name: "topics",
        type: "[]ListOffsetsTopicResponse",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]ListOffsetsPartitionResponse",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "errorCode", type: "int16", versions: "0+" },
              { name: "oldStyleOffsets", type: "[]int64", versions: "0" },
              { name: "timestamp", type: "int64", versions: "1+", default: "-1" },
              { name: "offset", type: "int64", versions: "1+", default: "-1" },
              { name: "leaderEpoch", type: "int32", versions: "4+", default: "-1" },
            ],
          },
        ],
      },
    ],
  },
};

/** A decoded ListOffsets request: every field of every version, defaults where absent. */
export interface ListOffsetsRequest {
  replicaId: number;
  isolationLevel: number;
  topics: Array<{
    name: string;
    partitions: Array<{
      partitionIndex: number;
      currentLeaderEpoch: number;
      timestamp: number;
      maxNumOffsets: number;
    }>;
  }>;
  timeoutMs: number;
}

/** A ListOffsets response to encode: fields left out take their schema defaults. */
export interface ListOffsetsResponse {
  throttleTimeMs?: number;
  topics?: Array<{
    name?: string;
    partitions?: Array<{
      partitionIndex?: number;
      errorCode?: number;
      oldStyleOffsets?: number[];
      timestamp?: number;
      offset?: number;
      leaderEpoch?: number;
    }>;
  }>;
}
