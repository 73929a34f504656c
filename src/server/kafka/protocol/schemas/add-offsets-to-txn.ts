// Transcribed from Apache Kafka's AddOffsetsToTxnRequest.json and AddOffsetsToTxnResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's AddOffsetsToTxn API (key 25). */
export const addOffsetsToTxn: ApiSchema = {
  apiKey: 25,
  name: "AddOffsetsToTxn",
  request: {
    validVersions: "0-4",
    flexibleVersions: "3+",
    fields: [
      { name: "transactionalId", type: "string", versions: "0+" },
      { name: "producerId", type: "int64", versions: "0+" },
      { name: "producerEpoch", type: "int16", versions: "0+" },
      { name: "groupId", type: "string", versions: "0+" },
    ],
  },
  response: {
    validVersions: "0-4",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
    ],
  },
};

/** A decoded AddOffsetsToTxn request: every field of every version, defaults where absent. */
export interface AddOffsetsToTxnRequest {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  groupId: string;
}

/** A AddOffsetsToTxn response to encode: fields left out take their schema defaults. */
export interface AddOffsetsToTxnResponse {
  throttleTimeMs?: number;
  errorCode?: number;
}
