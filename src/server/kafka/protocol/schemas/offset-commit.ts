// Transcribed from Apache Kafka's OffsetCommitRequest.json and OffsetCommitResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's OffsetCommit API (key 8). */
export const offsetCommit: ApiSchema = {
  apiKey: 8,
  name: "OffsetCommit",
  request: {
    validVersions: "0-9",
    flexibleVersions: "8+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      { name: "generationIdOrMemberEpoch", type: "int32", versions: "1+", default: "-1" },
      { name: "memberId", type: "string", versions: "1+" },
      {
        name: "groupInstanceId",
        type: "string",
        versions: "7+",
        nullableVersions: "7+",
        default: "null",
      },
      { name: "retentionTimeMs", type: "int64", versions: "2-4", default: "-1" },
      {
        name: "topics",
        type: "[]OffsetCommitRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]OffsetCommitRequestPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "committedOffset", type: "int64", versions: "0+" },
              { name: "committedLeaderEpoch", type: "int32", versions: "6+", default: "-1" },
              { name: "commitTimestamp", type: "int64", versions: "1", default: "-1" },
              { name: "committedMetadata", type: "string", versions: "0+", nullableVersions: "0+" },
            ],
          },
        ],
      },
    ],
  },
  response: {
    validVersions: "0-9",
    flexibleVersions: "8+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "3+" },
      {
        name: "topics",
        type: "[]OffsetCommitResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]OffsetCommitResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "errorCode", type: "int16", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
};

/** A decoded OffsetCommit request: every field of every version, defaults where absent. */
export interface OffsetCommitRequest {
  groupId: string;
  generationIdOrMemberEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
  retentionTimeMs: number;
  topics: Array<{
    name: string;
    partitions: Array<{
      partitionIndex: number;
      committedOffset: number;
      committedLeaderEpoch: number;
      commitTimestamp: number;
      committedMetadata: string | null;
    }>;
  }>;
}

/** A OffsetCommit response to encode: fields left out take their schema defaults. */
export interface OffsetCommitResponse {
  throttleTimeMs?: number;
  topics?: Array<{
    name?: string;
    partitions?: Array<{
      partitionIndex?: number;
      errorCode?: number;
    }>;
  }>;
}
