// Transcribed from Apache Kafka's InitProducerIdRequest.json and InitProducerIdResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's InitProducerId API (key 22). */
export const initProducerId: ApiSchema = {
  apiKey: 22,
  name: "InitProducerId",
  request: {
    validVersions: "0-5",
    flexibleVersions: "2+",
    fields: [
      { name: "transactionalId", type: "string", versions: "0+", nullableVersions: "0+" },
      { name: "transactionTimeoutMs", type: "int32", versions: "0+" },
      { name: "producerId", type: "int64", versions: "3+", default: "-1" },
      { name: "producerEpoch", type: "int16", versions: "3+", default: "-1" },
    ],
  },
  response: {
    validVersions: "0-5",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "producerId", type: "int64", versions: "0+", default: "-1" },
      { name: "producerEpoch", type: "int16", versions: "0+" },
    ],
  },
};

/** A decoded InitProducerId request: every field of every version, defaults where absent. */
export interface InitProducerIdRequest {
  transactionalId: string | null;
  transactionTimeoutMs: number;
  producerId: number;
  producerEpoch: number;
}

/** A InitProducerId response to encode: fields left out take their schema defaults. */
export interface InitProducerIdResponse {
  throttleTimeMs?: number;
  errorCode?: number;
  producerId?: number;
  producerEpoch?: number;
}
