// Transcribed from Apache Kafka's MetadataRequest.json and MetadataResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's Metadata API (key 3). */
export const metadata: ApiSchema = {
  apiKey: 3,
  name: "Metadata",
  request: {
    validVersions: "0-12",
    flexibleVersions: "9+",
    fields: [
      {
        name: "topics",
        type: "[]MetadataRequestTopic",
        versions: "0+",
        nullableVersions: "1+",
        fields: [
          { name: "topicId", type: "uuid", versions: "10+" },
          { name: "name", type: "string", versions: "0+", nullableVersions: "10+" },
        ],
      },
      { name: "allowAutoTopicCreation", type: "bool", versions: "4+", default: "true" },
      { name: "includeClusterAuthorizedOperations", type: "bool", versions: "8-10" },
      { name: "includeTopicAuthorizedOperations", type: "bool", versions: "8+" },
    ],
  },
  response: {
    validVersions: "0-12",
    flexibleVersions: "9+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "3+" },
      {
        name: "brokers",
        type: "[]MetadataResponseBroker",
        versions: "0+",
        fields: [
          { name: "nodeId", type: "int32", versions: "0+" },
          { name: "host", type: "string", versions: "0+" },
          { name: "port", type: "int32", versions: "0+" },
          { name: "rack", type: "string", versions: "1+", nullableVersions: "1+", default: "null" },
        ],
      },
      {
        name: "clusterId",
        type: "string",
        versions: "2+",
        nullableVersions: "2+",
        default: "null",
      },
      { name: "controllerId", type: "int32", versions: "1+", default: "-1" },
      {
        name: "topics",
        type: "[]MetadataResponseTopic",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "name", type: "string", versions: "0+", nullableVersions: "12+" },
          { name: "topicId", type: "uuid", versions: "10+" },
          { name: "isInternal", type: "bool", versions: "1+", default: "false" },
          {
            name: "partitions",
            type: "[]MetadataResponsePartition",
            versions: "0+",
            fields: [
              { name: "errorCode", type: "int16", versions: "0+" },
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "leaderId", type: "int32", versions: "0+" },
              { name: "leaderEpoch", type: "int32", versions: "7+", default: "-1" },
              { name: "replicaNodes", type: "[]int32", versions: "0+" },
              { name: "isrNodes", type: "[]int32", versions: "0+" },
              { name: "offlineReplicas", type: "[]int32", versions: "5+" },
            ],
          },
          {
            name: "topicAuthorizedOperations",
            type: "int32",
            versions: "8+",
            default: "-2147483648",
          },
        ],
      },
      {
        name: "clusterAuthorizedOperations",
        type: "int32",
        versions: "8-10",
        default: "-2147483648",
      },
    ],
  },
};

/** A decoded Metadata request: every field of every version, defaults where absent. */
export interface MetadataRequest {
  topics: Array<{
    topicId: Buffer;
    name: string | null;
  }> | null;
  allowAutoTopicCreation: boolean;
  includeClusterAuthorizedOperations: boolean;
  includeTopicAuthorizedOperations: boolean;
}

/** A Metadata response to encode: fields left out take their schema defaults. */
export interface MetadataResponse {
  throttleTimeMs?: number;
  brokers?: Array<{
    nodeId?: number;
    host?: string;
    port?: number;
    rack?: string | null;
  }>;
  clusterId?: string | null;
  controllerId?: number;
  topics?: Array<{
    errorCode?: number;
    name?: string | null;
    topicId?: Buffer;
    isInternal?: boolean;
    partitions?: Array<{
      errorCode?: number;
      partitionIndex?: number;
      leaderId?: number;
      leaderEpoch?: number;
      replicaNodes?: number[];
      isrNodes?: number[];
      offlineReplicas?: number[];
    }>;
    topicAuthorizedOperations?: number;
  }>;
  clusterAuthorizedOperations?: number;
}
