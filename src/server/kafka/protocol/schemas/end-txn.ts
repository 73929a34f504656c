// Transcribed from Apache Kafka's EndTxnRequest.json and EndTxnResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's EndTxn API (key 26). */
export const endTxn: ApiSchema = {
  apiKey: 26,
  name: "EndTxn",
  request: {
    validVersions: "0-5",
    flexibleVersions: "3+",
    fields: [
      { name: "transactionalId", type: "string", versions: "0+" },
      { name: "producerId", type: "int64", versions: "0+" },
      { name: "producerEpoch", type: "int16", versions: "0+" },
      { name: "committed", type: "bool", versions: "0+" },
    ],
  },
  response: {
    validVersions: "0-5",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "producerId", type: "int64", versions: "5+", default: "-1" },
      { name: "producerEpoch", type: "int16", versions: "5+", default: "-1" },
    ],
  },
};

/** A decoded EndTxn request: every field of every version, defaults where absent. */
export interface EndTxnRequest {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  committed: boolean;
}

/** A EndTxn response to encode: fields left out take their schema defaults. */
export interface EndTxnResponse {
  throttleTimeMs?: number;
  errorCode?: number;
  producerId?: number;
  producerEpoch?: number;
}
