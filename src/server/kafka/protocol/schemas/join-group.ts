// Transcribed from Apache Kafka's JoinGroupRequest.json and JoinGroupResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's JoinGroup API (key 11). */
export const joinGroup: ApiSchema = {
  apiKey: 11,
  name: "JoinGroup",
  request: {
    validVersions: "0-9",
    flexibleVersions: "6+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      { name: "sessionTimeoutMs", type: "int32", versions: "0+" },
      { name: "rebalanceTimeoutMs", type: "int32", versions: "1+", default: "-1" },
      { name: "memberId", type: "string", versions: "0+" },
      {
        name: "groupInstanceId",
        type: "string",
        versions: "5+",
        nullableVersions: "5+",
        default: "null",
      },
      { name: "protocolType", type: "string", versions: "0+" },
      {
        name: "protocols",
        type: "[]JoinGroupRequestProtocol",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "metadata", type: "bytes", versions: "0+" },
        ],
      },
      { name: "reason", type: "string", versions: "8+", nullableVersions: "8+", default: "null" },
    ],
  },
  response: {
    validVersions: "0-9",
    flexibleVersions: "6+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "2+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "generationId", type: "int32", versions: "0+", default: "-1" },
      {
        name: "protocolType",
        type: "string",
        versions: "7+",
        nullableVersions: "7+",
        default: "null",
      },
      { name: "protocolName", type: "string", versions: "0+", nullableVersions: "7+" },
      { name: "leader", type: "string", versions: "0+" },
      { name: "skipAssignment", type: "bool", versions: "9+", default: "false" },
      { name: "memberId", type: "string", versions: "0+" },
      {
        name: "members",
        type: "[]JoinGroupResponseMember",
        versions: "0+",
        fields: [
          { name: "memberId", type: "string", versions: "0+" },
          {
            name: "groupInstanceId",
            type: "string",
            versions: "5+",
            nullableVersions: "5+",
            default: "null",
          },
          { name: "metadata", type: "bytes", versions: "0+" },
        ],
      },
    ],
  },
};

/** A decoded JoinGroup request: every field of every version, defaults where absent. */
export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: Array<{
    name: string;
    metadata: Buffer;
  }>;
  reason: string | null;
}

/** A JoinGroup response to encode: fields left out take their schema defaults. */
export interface JoinGroupResponse {
  throttleTimeMs?: number;
  errorCode?: number;
  generationId?: number;
  protocolType?: string | null;
  protocolName?: string | null;
  leader?: string;
  skipAssignment?: boolean;
  memberId?: string;
  members?: Array<{
    memberId?: string;
    groupInstanceId?: string | null;
    metadata?: Buffer;
  }>;
}
