// Transcribed from Apache Kafka's AddPartitionsToTxnRequest.json and AddPartitionsToTxnResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's AddPartitionsToTxn API (key 24). */
export const addPartitionsToTxn: ApiSchema = {
  apiKey: 24,
  name: "AddPartitionsToTxn",
  request: {
    validVersions: "0-5",
    flexibleVersions: "3+",
    fields: [
      {
        name: "transactions",
        type: "[]AddPartitionsToTxnTransaction",
        versions: "4+",
        fields: [
          { name: "transactionalId", type: "string", versions: "4+" },
          { name: "producerId", type: "int64", versions: "4+" },
          { name: "producerEpoch", type: "int16", versions: "4+" },
          { name: "verifyOnly", type: "bool", versions: "4+", default: "false" },
          {
            name: "topics",
            type: "[]AddPartitionsToTxnTopic",
            versions: "4+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              { name: "partitions", type: "[]int32", versions: "0+" },
            ],
          },
        ],
      },
      { name: "v3AndBelowTransactionalId", type: "string", versions: "0-3" },
      { name: "v3AndBelowProducerId", type: "int64", versions: "0-3" },
      { name: "v3AndBelowProducerEpoch", type: "int16", versions: "0-3" },
      {
        name: "v3AndBelowTopics",
        type: "[]AddPartitionsToTxnTopic",
        versions: "0-3",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "partitions", type: "[]int32", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    validVersions: "0-5",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "4+" },
      {
        name: "resultsByTransaction",
        type: "[]AddPartitionsToTxnResult",
        versions: "4+",
        fields: [
          { name: "transactionalId", type: "string", versions: "4+" },
          {
            name: "topicResults",
            type: "[]AddPartitionsToTxnTopicResult",
            versions: "4+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              {
                name: "resultsByPartition",
                type: "[]AddPartitionsToTxnPartitionResult",
                versions: "0+",
                fields: [
                  { name: "partitionIndex", type: "int32", versions: "0+" },
                  { name: "partitionErrorCode", type: "int16", versions: "0+" },
                ],
              },
            ],
          },
        ],
      },
      {
        name: "resultsByTopicV3AndBelow",
        type: "[]AddPartitionsToTxnTopicResult",
        versions: "0-3",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "resultsByPartition",
            type: "[]AddPartitionsToTxnPartitionResult",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "partitionErrorCode", type: "int16", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
};

/** A decoded AddPartitionsToTxn request: every field of every version, defaults where absent. */
export interface AddPartitionsToTxnRequest {
  transactions: Array<{
    transactionalId: string;
    producerId: number;
    producerEpoch: number;
    verifyOnly: boolean;
    topics: Array<{
      name: string;
      partitions: number[];
    }>;
  }>;
  v3AndBelowTransactionalId: string;
  v3AndBelowProducerId: number;
  v3AndBelowProducerEpoch: number;
  v3AndBelowTopics: Array<{
    name: string;
    partitions: number[];
  }>;
}

/** A AddPartitionsToTxn response to encode: fields left out take their schema defaults. */
export interface AddPartitionsToTxnResponse {
  throttleTimeMs?: number;
  errorCode?: number;
  resultsByTransaction?: Array<{
    transactionalId?: string;
    topicResults?: Array<{
      name?: string;
      resultsByPartition?: Array<{
        partitionIndex?: number;
        partitionErrorCode?: number;
      }>;
    }>;
  }>;
  resultsByTopicV3AndBelow?: Array<{
    name?: string;
    resultsByPartition?: Array<{
      partitionIndex?: number;
      partitionErrorCode?: number;
    }>;
  }>;
}
