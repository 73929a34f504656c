// Transcribed from Apache Kafka's LeaveGroupRequest.json and LeaveGroupResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's LeaveGroup API (key 13). */
export const leaveGroup: ApiSchema = {
  apiKey: 13,
  name: "LeaveGroup",
  request: {
    validVersions: "0-5",
    flexibleVersions: "4+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      { name: "memberId", type: "string", versions: "0-2" },
      {
        name: "members",
        type: "[]MemberIdentity",
        versions: "3+",
        fields: [
          { name: "memberId", type: "string", versions: "3+" },
          {
            name: "groupInstanceId",
            type: "string",
            versions: "3+",
            nullableVersions: "3+",
            default: "null",
          },
          {
            name: "reason",
            type: "string",
            versions: "5+",
            nullableVersions: "5+",
            default: "null",
          },
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
        name: "members",
        type: "[]MemberResponse",
        versions: "3+",
        fields: [
          { name: "memberId", type: "string", versions: "3+" },
          { name: "groupInstanceId", type: "string", versions: "3+", nullableVersions: "3+" },
          { name: "errorCode", type: "int16", versions: "3+" },
        ],
      },
    ],
  },
};

/** A decoded LeaveGroup request: every field of every version, defaults where absent. */
export interface LeaveGroupRequest {
  groupId: string;
  memberId: string;
  members: Array<{
    memberId: string;
    groupInstanceId: string | null;
    reason: string | null;
  }>;
}

/** A LeaveGroup response to encode: fields left out take their schema defaults. */
export interface LeaveGroupResponse {
  throttleTimeMs?: number;
  errorCode?: number;
  members?: Array<{
    memberId?: string;
    groupInstanceId?: string | null;
    errorCode?: number;
  }>;
}
