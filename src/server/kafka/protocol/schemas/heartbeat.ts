// Transcribed from Apache Kafka's HeartbeatRequest.json and HeartbeatResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's Heartbeat API (key 12). */
export const heartbeat: ApiSchema = {
  apiKey: 12,
  name: "Heartbeat",
  request: {
    validVersions: "0-4",
    flexibleVersions: "4+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      { name: "generationId", type: "int32", versions: "0+" },
      { name: "memberId", type: "string", versions: "0+" },
      {
        name: "groupInstanceId",
        type: "string",
        versions: "3+",
        nullableVersions: "3+",
        default: "null",
      },
    ],
  },
  response: {
    validVersions: "0-4",
    flexibleVersions: "4+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      { name: "errorCode", type: "int16", versions: "0+" },
    ],
  },
};

/** A decoded Heartbeat request: every field of every version, defaults where absent. */
export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

/** A Heartbeat response to encode: fields left out take their schema defaults. */
export interface HeartbeatResponse {
  throttleTimeMs?: number;
  errorCode?: number;
}
