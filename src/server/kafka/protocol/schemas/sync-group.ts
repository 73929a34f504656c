// Transcribed from Apache Kafka's SyncGroupRequest.json and SyncGroupResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's SyncGroup API (key 14). */
export const syncGroup: ApiSchema = {
  apiKey: 14,
  name: "SyncGroup",
  request: {
    validVersions: "0-5",
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
      {
        name: "protocolType",
        type: "string",
        versions: "5+",
        nullableVersions: "5+",
        default: "null",
      },
      {
        name: "protocolName",
        type: "string",
        versions: "5+",
        nullableVersions: "5+",
        default: "null",
      },
      {
        name: "assignments",
        type: "[]SyncGroupRequestAssignment",
        versions: "0+",
        fields: [
          { name: "memberId", type: "string", versions: "0+" },
          { name: "assignment", type: "bytes", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    validVersions: "0-5",
    flexibleVersions: "4+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "protocolType",
        type: "string",
        versions: "5+",
        nullableVersions: "5+",
        default: "null",
      },
      {
        name: "protocolName",
        type: "string",
        versions: "5+",
        nullableVersions: "5+",
        default: "null",
      },
      { name: "assignment", type: "bytes", versions: "0+" },
    ],
  },
};

/** A decoded SyncGroup request: every field of every version, defaults where absent. */
export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: Array<{
    memberId: string;
    assignment: Buffer;
  }>;
}

/** A SyncGroup response to encode: fields left out take their schema defaults. */
export interface SyncGroupResponse {
  throttleTimeMs?: number;
  errorCode?: number;
  protocolType?: string | null;
  protocolName?: string | null;
  assignment?: Buffer;
}
