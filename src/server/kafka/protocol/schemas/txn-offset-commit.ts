// Transcribed from Apache Kafka's TxnOffsetCommitRequest.json and TxnOffsetCommitResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's TxnOffsetCommit API (key 28). */
export const txnOffsetCommit: ApiSchema = {
  apiKey: 28,
  name: "TxnOffsetCommit",
  request: {
    validVersions: "0-4",
    flexibleVersions: "3+",
    fields: [
      { name: "transactionalId", type: "string", versions: "0+" },
      { name: "groupId", type: "string", versions: "0+" },
      { name: "producerId", type: "int64", versions: "0+" },
      { name: "producerEpoch", type: "int16", versions: "0+" },
      { name: "generationId", type: "int32", versions: "3+", default: "-1" },
      { name: "memberId", type: "string", versions: "3+", default: "" },
      {
        name: "groupInstanceId",
        type: "string",
        versions: "3+",
        nullableVersions: "3+",
        default: "null",
      },
      {
        name: "topics",
        type: "[]TxnOffsetCommitRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]TxnOffsetCommitRequestPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "committedOffset", type: "int64", versions: "0+" },
              { name: "committedLeaderEpoch", type: "int32", versions: "2+", default: "-1" },
              { name: "committedMetadata", type: "string", versions: "0+", nullableVersions: "0+" },
            ],
          },
        ],
      },
    ],
  },
  response: {
    validVersions: "0-4",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "topics",
        type: "[]TxnOffsetCommitResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]TxnOffsetCommitResponsePartition",
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

/** A decoded TxnOffsetCommit request: every field of every version, defaults where absent. */
export interface TxnOffsetCommitRequest {
  transactionalId: string;
  groupId: string;
  producerId: number;
  producerEpoch: number;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  topics: Array<{
    name: string;
    partitions: Array<{
      partitionIndex: number;
      committedOffset: number;
      committedLeaderEpoch: number;
      committedMetadata: string | null;
    }>;
  }>;
}

/** A TxnOffsetCommit response to encode: fields left out take their schema defaults. */
export interface TxnOffsetCommitResponse {
  throttleTimeMs?: number;
  topics?: Array<{
    name?: string;
    partitions?: Array<{
      partitionIndex?: number;
      errorCode?: number;
    }>;
  }>;
}
